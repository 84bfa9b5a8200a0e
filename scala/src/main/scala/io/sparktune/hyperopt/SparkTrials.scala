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

import io.sparktune.{Outcome, Study, Trial}
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
 * @param parallelism trials at once; <= 0: the cluster's task slots (defaultParallelism); at most
 *                    128 and at most the slots
 * @param timeoutSeconds after this, the running trials are cancelled and fmin returns
 */
final class SparkTrials(
    val spark: SparkSession,
    parallelism: Int = 0,
    val timeoutSeconds: Option[Double] = None) {

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
   */
  def fmin(
      fn: Map[String, Any] => Double,
      space: SearchSpace,
      maxEvals: Int,
      algo: String = "tpe",
      seed: Long = 0L,
      lossThreshold: Option[Double] = None,
      earlyStop: Seq[Trial] => Boolean = _ => false,
      queue: Int = 1): FMinResult = {
    if (maxEvals < 0) throw new IllegalArgumentException(s"fmin: maxEvals must be >= 0, got $maxEvals")
    if (queue < 0) throw new IllegalArgumentException(s"fmin: queue must be >= 0, got $queue")
    SparkTrials.checkSerializable(fn)
    val study = Study.create(space, sampler = algo, seed = seed)
    try new SparkTrials.Run(this, study, fn, effectiveParallelism + queue).run(maxEvals, lossThreshold, earlyStop)
    finally study.close()
  }
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
  private final class Run(owner: SparkTrials, study: Study, fn: Map[String, Any] => Double, inFlight: Int) {
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
      Future {
        sc.setJobGroup(group, s"sparktune trial ${trial.id}", interruptOnCancel = true)
        try sc.parallelize(Seq(values), 1).map(v => evaluate(objective, v)).collect().head
        finally sc.clearJobGroup()
      }.onComplete(answer => finished.put((group, answer)))
    }

    private def finish(group: String, answer: Try[TaskAnswer]): Unit = running.remove(group).foreach { r =>
      val id = r.trial.id
      answer match {
        case Success(TaskAnswer(loss, None)) if !loss.isNaN && !loss.isInfinite => study.tell(id, Outcome.ok(loss))
        case Success(TaskAnswer(loss, None)) => study.tell(id, Outcome.fail(s"the objective returned $loss, not a finite loss"))
        case Success(TaskAnswer(_, Some(trace))) => study.tell(id, Outcome.fail(trace))
        case Failure(e) => study.tell(id, Outcome.fail(s"the trial's Spark job failed: ${e.getMessage}"))
      }
    }

    private def cancelRunning(why: String): Unit = {
      running.values.foreach { r =>
        sc.cancelJobGroup(r.group)
        study.tell(r.trial.id, Outcome.cancelled(why))
      }
      running.clear()
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
          if (running.isEmpty) stop = Some("done")
          else {
            val next = deadline match {
              case None => finished.take()
              case Some(d) => finished.poll(math.max(0L, d - System.nanoTime()), TimeUnit.NANOSECONDS)
            }
            if (next == null) stop = Some(s"cancelled: the timeout (${owner.timeoutSeconds.get} s) was reached")
            else {
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
}
