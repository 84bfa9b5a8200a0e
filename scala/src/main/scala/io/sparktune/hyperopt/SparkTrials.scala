package io.sparktune.hyperopt

import java.io.{PrintWriter, StringWriter}
import java.util.UUID
import java.util.concurrent.{Executors, LinkedBlockingQueue, ThreadFactory, TimeUnit}

import scala.collection.mutable
import scala.concurrent.{ExecutionContext, Future}
import scala.util.control.NonFatal
import scala.util.{Failure, Success, Try}

import org.apache.spark.SparkEnv
import org.apache.spark.sql.SparkSession
import org.slf4j.LoggerFactory

import io.sparktune.{Outcome, Study, Trial}
import io.sparktune.ml.tracking.{FMinTracking, MlflowSettings, ParamText, TunerInfo}
import io.sparktune.space.SearchSpace

/**
 * hyperopt's SparkTrials for Scala functions: the driver proposes trials (the native core, through a
 * [[io.sparktune.Study]]) and runs each as one Spark task (a one-element RDD, in a job group of its
 * own), up to `parallelism` at once plus a small queue, so that a freed slot finds the next trial
 * waiting (the core's constant liar counts queued trials as running).
 * {{{
 *   val result = new SparkTrials(spark, parallelism = 4, timeoutSeconds = Some(600))
 *     .fmin(p => train(p("lr").asInstanceOf[Double]), SearchSpace(Map("lr" -> Hp.loguniform("lr", -9, 0))),
 *           maxEvals = 64)
 *   result.best          // the best trial: .values, .value
 * }}}
 * An exception of the objective fails its trial (the stack trace kept as the trial's error), not the
 * search; a NaN or infinite loss fails its trial too. A timeout, a `lossThreshold` reached or an
 * `earlyStop` cancels the running trials (their jobs with interruptOnCancel) and keeps the finished
 * ones. The objective must be serializable: it runs on the executors.
 *
 * With a tracking server (`mlflowTrackingUri` or MLFLOW_TRACKING_URI, http(s) or databricks), each
 * fmin call is an MLflow parent run and each trial a child run (tag `mlflow.parentRunId`) with its
 * values as params (a choice's option, not its index), `loss` as metric, its state and id as tags
 * (a failed trial's run FAILED with the error, a cancelled one KILLED); the parent gets `best_loss`
 * and the best values as `best_<param>`. Logging happens in a background thread: a server that is
 * down costs a bounded wait and one warning naming what was not logged, never the search.
 *
 * @param parallelism          trials at once; <= 0: the cluster's task slots (defaultParallelism); at
 *                             most 128 and at most the slots
 * @param timeoutSeconds       after this, the running trials are cancelled and fmin returns
 * @param mlflowTrackingUri    the tracking server; None: MLFLOW_TRACKING_URI; neither: no logging
 * @param mlflowExperimentName the experiment of a new parent run (created if missing); None:
 *                             MLFLOW_EXPERIMENT_NAME, else MLFLOW_EXPERIMENT_ID, else Default
 * @param mlflowRunId          the parent run (the caller's, left running); None: MLFLOW_RUN_ID; neither:
 *                             a new run, ended when fmin returns
 * @param mlflowLogging        false: nothing is logged
 */
final class SparkTrials(
    val spark: SparkSession,
    parallelism: Int = 0,
    val timeoutSeconds: Option[Double] = None,
    val mlflowTrackingUri: Option[String] = None,
    val mlflowExperimentName: Option[String] = None,
    val mlflowRunId: Option[String] = None,
    val mlflowLogging: Boolean = true) {

  timeoutSeconds.foreach { t =>
    if (!(t > 0)) throw new IllegalArgumentException(s"SparkTrials: timeoutSeconds must be positive, got $t")
  }

  /** The parallelism in force (see the class docs). */
  val effectiveParallelism: Int = SparkTrials.decideParallelism(parallelism, spark.sparkContext.defaultParallelism)

  /**
   * Minimizes `fn` over `space` with `maxEvals` trials.
   *
   * @param algo          "tpe" (the default), "random", "qmc", or a sampler config JSON object
   * @param seed          the study's seed (same seed, same proposals for the same history)
   * @param lossThreshold stop once a loss is below it
   * @param earlyStop     called with the finished trials after each one; true stops the search
   * @param queue         trials dispatched beyond `parallelism`
   * @param showProgress  a status line on stderr (see [[ProgressLine]])
   */
  def fmin(
      fn: Map[String, Any] => Double,
      space: SearchSpace,
      maxEvals: Int,
      algo: String = "tpe",
      seed: Long = 0L,
      lossThreshold: Option[Double] = None,
      earlyStop: Seq[Trial] => Boolean = _ => false,
      queue: Int = 1,
      showProgress: Boolean = true): FMinResult = {
    if (maxEvals < 0) throw new IllegalArgumentException(s"fmin: maxEvals must be >= 0, got $maxEvals")
    if (queue < 0) throw new IllegalArgumentException(s"fmin: queue must be >= 0, got $queue")
    SparkTrials.checkSerializable(fn)
    val study = Study.create(space, sampler = algo, seed = seed)
    try {
      val info = TunerInfo(classOf[SparkTrials], s"SparkTrials_${UUID.randomUUID().toString.take(12)}", Seq(
        "maxEvals" -> maxEvals.toString, "algo" -> algo, "parallelism" -> effectiveParallelism.toString,
        "seed" -> seed.toString, "queue" -> queue.toString) ++
        timeoutSeconds.map(t => "timeoutSeconds" -> ParamText.show(t)) ++
        lossThreshold.map(t => "lossThreshold" -> ParamText.show(t)))
      val tracking = FMinTracking.start(mlflowSettings, info, SparkTrials.log.warn(_: String))
      val progress = if (showProgress) Some(progressLine(maxEvals)) else None
      val result =
        try {
          try new SparkTrials.Run(this, study, fn, effectiveParallelism + queue, tracking, progress)
            .run(maxEvals, lossThreshold, earlyStop)
          finally progress.foreach(_.end()) // before any MLflow warning
        } catch {
          case e: Throwable =>
            tracking.failed(e)
            throw e
        }
      tracking.succeeded(result.trials, result.best, space.toJson)
      result
    } finally study.close()
  }

  /** Where fmin logs, from the arguments and else the environment (see the class docs). */
  def mlflowSettings: MlflowSettings = MlflowSettings.resolve(mlflowLogging, mlflowTrackingUri.orNull,
    mlflowRunId.orNull, mlflowExperimentName.orNull)

  /** fmin's status line: stderr unless a test captures it. */
  @volatile private[hyperopt] var progressLine: Int => ProgressLine = ProgressLine.stderr
}

/** What [[SparkTrials.fmin]] returns: every trial, in id order, and the best. */
final case class FMinResult(trials: Seq[Trial]) {

  /** The ok trial with the lowest loss (ties: the lowest id). */
  def best: Option[Trial] = trials.filter(_.isOk).sortBy(t => (t.value.getOrElse(Double.PositiveInfinity), t.id)).headOption

  /** The best trial's values, as the objective received them. */
  def bestValues: Option[Map[String, Any]] = best.map(t => SparkTrials.valuesOf(t))

  def numOk: Int = trials.count(_.isOk)
  def numFailed: Int = trials.count(_.state == Trial.Fail)
  def numCancelled: Int = trials.count(_.state == Trial.Cancelled)
}

object SparkTrials {

  private val log = LoggerFactory.getLogger(classOf[SparkTrials])

  /** hyperopt's cap on concurrent trials. */
  val MaxConcurrentJobsAllowed: Int = 128

  /** See the class docs. */
  def decideParallelism(requested: Int, slots: Int): Int = {
    val available = math.max(1, slots)
    val wanted = if (requested <= 0) available else requested
    math.min(math.min(wanted, MaxConcurrentJobsAllowed), available)
  }

  /** The objective as Spark will ship it: an error naming the cause before any trial runs. */
  private[hyperopt] def checkSerializable(fn: AnyRef): Unit = {
    try SparkEnv.get.closureSerializer.newInstance().serialize(fn)
    catch {
      case NonFatal(e) =>
        throw new IllegalArgumentException(
          s"SparkTrials: the objective cannot be serialized to run on the executors ($e). It must not capture " +
            "the SparkContext, the SparkSession, a Dataset or anything else that is not Serializable", e)
    }
  }

  /** A trial's values as a Scala Map (a space whose root is not a dict gives Map("value" -> it)). */
  private[hyperopt] def valuesOf(t: Trial): Map[String, Any] = t.valuesAsScala match {
    case m: scala.collection.Map[_, _] => m.iterator.map { case (k, v) => k.toString -> v }.toMap
    case other => Map("value" -> other)
  }

  /** What a task answers: the loss, or the objective's exception as text. */
  private[hyperopt] final case class TaskAnswer(loss: Double, error: Option[String])

  /** Runs the objective inside the task: its exceptions become the answer, so Spark never retries. */
  private[hyperopt] def evaluate(fn: Map[String, Any] => Double, values: Map[String, Any]): TaskAnswer =
    try TaskAnswer(fn(values), None)
    catch {
      case NonFatal(e) =>
        val trace = new StringWriter()
        e.printStackTrace(new PrintWriter(trace))
        TaskAnswer(Double.NaN, Some(trace.toString))
    }

  private final class Running(val trial: Trial, val group: String)

  /** One fmin call: dispatches trials as jobs, tells the study as their jobs end. */
  private final class Run(owner: SparkTrials, study: Study, fn: Map[String, Any] => Double, inFlight: Int,
      tracking: FMinTracking, progress: Option[ProgressLine]) {
    private val sc = owner.spark.sparkContext
    private val prefix = s"sparktune-trials-${UUID.randomUUID().toString.take(12)}"
    private val finished = new LinkedBlockingQueue[(String, Try[TaskAnswer])]()
    private val running = mutable.LinkedHashMap.empty[String, Running]
    private val pool = Executors.newFixedThreadPool(math.max(1, inFlight), new ThreadFactory {
      override def newThread(r: Runnable): Thread = {
        val t = new Thread(r, "sparktune-trial")
        t.setDaemon(true)
        t
      }
    })
    private implicit val ec: ExecutionContext = ExecutionContext.fromExecutor(pool)

    private def submit(trial: Trial): Unit = {
      val group = s"$prefix-${trial.id}"
      running(group) = new Running(trial, group)
      val values = valuesOf(trial)
      val objective = fn
      // The answer is queued on the job's thread (parasitic): a cancelled job may end after the pool shut down.
      Future {
        sc.setJobGroup(group, s"sparktune trial ${trial.id}", interruptOnCancel = true)
        try sc.parallelize(Seq(values), 1).map(v => evaluate(objective, v)).collect().head
        finally sc.clearJobGroup()
      }.onComplete(answer => finished.put((group, answer)))(ExecutionContext.parasitic)
    }

    // What the progress line shows.
    private var done = 0
    private var failed = 0
    private var cancelled = 0
    private var bestLoss: Option[Double] = None

    private def finish(group: String, answer: Try[TaskAnswer]): Unit = running.remove(group).foreach { r =>
      val outcome = answer match {
        case Success(TaskAnswer(loss, None)) if !loss.isNaN && !loss.isInfinite => Outcome.ok(loss)
        case Success(TaskAnswer(loss, None)) => Outcome.fail(s"the objective returned $loss, not a finite loss")
        case Success(TaskAnswer(_, Some(trace))) => Outcome.fail(trace)
        case Failure(e) => Outcome.fail(s"the trial's Spark job failed: ${e.getMessage}")
      }
      told(study.tell(r.trial.id, outcome))
    }

    /** A trial the study has been told about: counted, and logged (in the background). */
    private def told(trial: Trial): Unit = {
      done += 1
      trial.state match {
        case Trial.Fail => failed += 1
        case Trial.Cancelled => cancelled += 1
        case _ => trial.value.foreach(v => bestLoss = Some(bestLoss.fold(v)(math.min(_, v))))
      }
      tracking.trialFinished(trial)
    }

    // Running: those with a slot, not the queued ones.
    private def showProgress(): Unit = progress.foreach(
      _.update(done, math.min(running.size, owner.effectiveParallelism), failed, cancelled, bestLoss))

    private def cancelRunning(why: String): Unit = {
      running.values.foreach { r =>
        sc.cancelJobGroup(r.group)
        told(study.tell(r.trial.id, Outcome.cancelled(why)))
      }
      running.clear()
      showProgress()
    }

    def run(maxEvals: Int, lossThreshold: Option[Double], earlyStop: Seq[Trial] => Boolean): FMinResult = {
      val deadline = owner.timeoutSeconds.map(t => System.nanoTime() + (t * 1e9).toLong)
      var asked = 0
      var stop: Option[String] = None
      var exhausted = false
      try {
        while (stop.isEmpty) {
          while (running.size < inFlight && asked < maxEvals && !exhausted) {
            study.ask(1).headOption match {
              case Some(t) => asked += 1; submit(t)
              case None => exhausted = true // an exhausted grid
            }
          }
          showProgress()
          if (running.isEmpty) stop = Some("done")
          else {
            // Wakes at least every second: the progress line's seconds go on.
            val wait = deadline.fold(Run.TickNanos)(d => math.max(0L, math.min(d - System.nanoTime(), Run.TickNanos)))
            val next = finished.poll(wait, TimeUnit.NANOSECONDS)
            if (next == null) {
              if (deadline.exists(System.nanoTime() >= _))
                stop = Some(s"cancelled: the timeout (${owner.timeoutSeconds.get} s) was reached")
              else progress.foreach(_.refresh())
            } else {
              finish(next._1, next._2)
              var more = finished.poll()
              while (more != null) { finish(more._1, more._2); more = finished.poll() }
              val trials = study.trials
              val best = trials.filter(_.isOk).flatMap(_.value)
              if (lossThreshold.exists(th => best.exists(_ < th))) stop = Some("cancelled: the loss threshold was reached")
              else if (earlyStop(trials.filterNot(_.isRunning))) stop = Some("cancelled: earlyStop stopped the search")
            }
          }
        }
        cancelRunning(stop.getOrElse("cancelled"))
      } catch {
        case e: Throwable =>
          cancelRunning(s"cancelled: fmin was interrupted ($e)")
          throw e
      } finally pool.shutdown()
      FMinResult(study.trials)
    }
  }

  private object Run {
    val TickNanos: Long = 1000L * 1000 * 1000
  }
}
