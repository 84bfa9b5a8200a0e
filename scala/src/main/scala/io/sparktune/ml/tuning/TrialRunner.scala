package io.sparktune.ml.tuning

import java.util.concurrent.{ConcurrentHashMap, LinkedBlockingQueue, ThreadFactory, ThreadPoolExecutor, TimeUnit}
import java.util.concurrent.atomic.AtomicInteger

import scala.collection.mutable
import scala.util.control.NonFatal

import org.apache.spark.{JobExecutionStatus, SparkContext, SparkThrowable}
import org.apache.spark.ml.Model
import org.apache.spark.ml.param.ParamMap
import org.slf4j.Logger

/**
 * A finished trial as the runner saw it: its fold metrics (NaN where a fold gave none), and its
 * fold models when they are collected (null where a fold gave none).
 */
private[tuning] final case class TrialResult(
    id: Long,
    foldMetrics: Array[Double],
    value: Option[Double],
    state: String,
    error: Option[String],
    models: Array[Model[_]] = Array.empty)

/**
 * Runs trials as the core proposes them, every (trial, fold) pair a task of its own on a pool of
 * `parallelism` threads: a free slot takes the next pair, so no fold waits for the slowest fit of
 * another (Spark's CrossValidator waits at the end of every fold). Pairs are taken trial by trial,
 * and a trial is asked of the core only when a slot is free for it, so each trial is told as soon
 * as its folds are done and an adaptive sampler sees every result before its next proposal.
 *
 * Every task runs its Spark jobs in the job group `jobGroup(trial id)`, set in the task's thread, so
 * one trial can be cancelled (`sc.cancelJobGroup`): it is told cancelled, another trial takes its
 * place, and the search goes on; any other cancellation (all jobs, an interrupt) stops the search.
 * A fold whose metric is not finite, or whose fit throws, fails its trial with the reason, and the
 * search goes on. Only this (driver) thread talks to the core.
 *
 * With a pruner, each trial's mean over its first k folds is compared with the other trials' means
 * over the same folds as soon as those k folds are done; a pruned trial's other folds are dropped
 * (those running, cancelled) and it is told "pruned". With a deadline, no trial starts after it and
 * those under way are cancelled; finished ones stay. Cancelling is repeated every 100 ms by a
 * canceller thread until the trial's folds are back, since a fit runs many jobs one after another
 * and `cancelJobGroup` stops only those running.
 *
 * With `refit`, a slot that finds no (trial, fold) pair left refits the best trial so far on the
 * whole data set (job group `jobGroup(id)-refit`), while the last folds run in the other slots: the
 * search's tail would idle it, and the refit that follows the search is then already done when
 * that trial stays the best (see `refitted`). When a better trial ends, the refit under way is
 * cancelled (with its future jobs), and the new best is refitted if trials are still under way.
 *
 * @param maxNewTrials how many trials to run, not counting cancelled ones
 *
 * @param ask        the next trial of the core, None when it has no more (a finished grid)
 * @param paramMapOf the trial's params, Left(reason) when a value breaks a param's validator (the
 *                   trial fails); it throws when the space does not fit a param's type
 * @param onFinish   tells the core and logs; called once per trial, in this thread
 * @param refit      how to refit the best trial so far in an idle slot (None: no refit here)
 */
private[tuning] final class TrialRunner(
    sc: SparkContext,
    fits: FoldFits,
    numFolds: Int,
    parallelism: Int,
    maxNewTrials: Int,
    jobGroup: Long => String,
    ask: () => Option[CoreTrial],
    paramMapOf: CoreTrial => Either[String, ParamMap],
    onFinish: TrialResult => Unit,
    tellCancelled: (Long, String) => Unit,
    log: Logger,
    collectModels: Boolean = false,
    pruning: Option[Pruning] = None,
    earlier: Seq[CoreTrial] = Nil,
    deadlineNanos: Option[Long] = None,
    refit: Option[TrialRunner.Refit] = None) {

  private final class Running(val trial: CoreTrial, val paramMap: ParamMap) {
    val metrics: Array[Double] = Array.fill(numFolds)(Double.NaN)
    val models: Array[Model[_]] = if (collectModels) new Array[Model[_]](numFolds) else Array.empty
    var submitted = 0
    var completed = 0
    /** How many leading folds have been reported to the pruner. */
    var reported = 0
    var failure: Option[String] = None
    var cancelled = false
    var pruned = false
  }

  /** What a slot's task hands back to the driver thread. */
  private sealed trait Completion

  private final class Done(val run: Running, val fold: Int, val metric: Double, val model: Model[_],
      val error: Throwable) extends Completion

  /** A refit of trial `trialId` on the whole data set: its model, or why it failed. */
  private final class Refitted(val trialId: Long, val model: Model[_], val error: Throwable) extends Completion

  private val pending = mutable.Queue.empty[(Running, Int)]
  private val completions = new LinkedBlockingQueue[Completion]()
  private val unfinished = mutable.LinkedHashMap.empty[Long, Running]
  private var inFlight = 0
  private var asked = 0
  private var cancelledTrials = 0
  private var exhausted = false

  /** The means over the first k folds reported at step k, earlier trials' included (for the pruner). */
  private val stepMeans = mutable.Map.empty[Int, mutable.ArrayBuffer[Double]]
  earlier.filter(t => t.state == "ok" || t.state == "pruned").foreach { t =>
    val folds = (0 until numFolds).map(i => t.metrics.getOrElse(s"fold_$i", Double.NaN)).takeWhile(!_.isNaN)
    folds.indices.foreach(k => stepMeans.getOrElseUpdate(k + 1, mutable.ArrayBuffer.empty) +=
      folds.take(k + 1).sum / (k + 1))
  }

  /** The trials whose jobs the canceller keeps cancelling (pruned ones, all of them after the deadline). */
  private val toCancel = ConcurrentHashMap.newKeySet[Long]()
  /** The trials with folds under way, for the canceller. */
  private val underWay = ConcurrentHashMap.newKeySet[Long]()
  @volatile private var timedOut = false
  @volatile private var stopped = false

  /** The trial whose refit runs in a slot now; refits cancelled since, whose tasks are still out. */
  private var refitting: Option[Long] = None
  private var staleRefits = 0
  private var lastRefit: Option[(Long, Model[_])] = None

  /** The model of the last refit that finished, and its trial: the Tuner's if that trial is the best. */
  def refitted: Option[(Long, Model[_])] = lastRefit

  /** Whether the deadline has passed (checked in the driver thread too, so that no trial starts after it). */
  private def pastDeadline: Boolean = {
    if (!timedOut && deadlineNanos.exists(System.nanoTime() - _ >= 0)) timedOut = true
    timedOut
  }

  /** Runs up to `maxNewTrials` new trials (fewer when the core has no more, or after the deadline). */
  def run(): Unit = {
    val pool = if (parallelism > 1) Some(TrialRunner.daemonPool(parallelism)) else None
    val canceller = if (pruning.isDefined || deadlineNanos.isDefined) Some(startCanceller()) else None
    try {
      fill(pool)
      while (inFlight > staleRefits) {
        inFlight -= 1
        completions.take() match {
          case done: Done => record(done)
          case r: Refitted => refitDone(r)
        }
        fill(pool)
      }
    } catch {
      case e: Throwable =>
        // Stopped (interrupted, or the space does not fit a param): the trials under way are
        // cancelled, their jobs too, so neither Spark nor the store keeps running ones.
        unfinished.values.foreach { r =>
          sc.cancelJobGroup(jobGroup(r.trial.id))
          try tellCancelled(r.trial.id, s"the search stopped: $e")
          catch { case NonFatal(t) => e.addSuppressed(t) }
        }
        throw e
    } finally {
      stopped = true
      canceller.foreach(_.interrupt())
      refitting.foreach(cancelRefit) // a refit under way when the search failed
      pool.foreach(_.shutdownNow())
    }
  }

  private def refitGroup(trialId: Long): String = s"${jobGroup(trialId)}-refit"

  /**
   * Cancels a refit's job under way and those it would start: the fit fails soon, and is not waited
   * for. No reason given: Spark's default text names the group, which quiets MLlib's ERROR for it
   * (see [[CancelledFitLog]]).
   */
  private def cancelRefit(trialId: Long): Unit = sc.cancelJobGroupAndFutureJobs(refitGroup(trialId))

  private def startCanceller(): Thread = {
    val t = new Thread(() => {
      try while (!stopped) {
        if (pastDeadline) underWay.forEach(id => toCancel.add(id))
        toCancel.forEach { id =>
          if (!underWay.contains(id)) toCancel.remove(id)
          else if (hasRunningJob(jobGroup(id))) sc.cancelJobGroup(jobGroup(id))
        }
        Thread.sleep(100)
      } catch { case _: InterruptedException => () }
    }, "sparktune-canceller")
    t.setDaemon(true)
    t.start()
    t
  }

  /** Whether a job of `group` runs now: cancelling a group without one makes Spark warn, every 100 ms. */
  private def hasRunningJob(group: String): Boolean = {
    val status = sc.statusTracker
    status.getJobIdsForGroup(group).exists(id => status.getJobInfo(id).exists(_.status == JobExecutionStatus.RUNNING))
  }

  private def fill(pool: Option[ThreadPoolExecutor]): Unit = {
    if (pastDeadline && pending.nonEmpty) {
      // Nothing starts after the deadline: the trials whose folds were waiting end cancelled.
      val waiting = pending.map(_._1).distinct
      pending.clear()
      waiting.foreach { run =>
        if (run.failure.isEmpty) {
          run.cancelled = true
          run.failure = Some(TrialRunner.TimedOut)
        }
        finishIfDone(run)
      }
    }
    var more = true
    while (more && inFlight < parallelism) next() match {
      case Some((run, fold)) =>
        fits.draw() // drawn and cached here, in this thread, outside any trial's job group
        inFlight += 1
        run.submitted += 1
        underWay.add(run.trial.id)
        pool match {
          case Some(p) => p.execute(() => task(run, fold))
          case None => task(run, fold) // parallelism 1: in this thread, as Spark does
        }
      case None => more = false
    }
    refitLeader(pool, slotFree = !more && inFlight < parallelism)
  }

  /**
   * Keeps the refit on the best trial so far: cancels the one under way when its trial was displaced,
   * and with a free slot that has nothing else to run while trials are still under way (a refit then
   * overlaps them; else the one after the search is as early), refits the best unless that is done.
   */
  private def refitLeader(pool: Option[ThreadPoolExecutor], slotFree: Boolean): Unit = for (r <- refit; p <- pool) {
    val start = slotFree && unfinished.nonEmpty
    if (refitting.isDefined || start) {
      val leader = r.leader()
      refitting.filterNot(id => leader.exists(_._1 == id)).foreach { old =>
        log.info(s"the refit of trial $old is cancelled: a better trial ended")
        cancelRefit(old)
        staleRefits += 1
        refitting = None
      }
      leader.filter(l => start && refitting.isEmpty && !lastRefit.exists(_._1 == l._1)).foreach { case (id, map) =>
        log.info(s"refitting trial $id, the best so far, on the whole data set while the last folds run")
        refitting = Some(id)
        inFlight += 1
        p.execute(() => refitTask(r, id, map))
      }
    }
  }

  private def refitTask(r: TrialRunner.Refit, id: Long, paramMap: ParamMap): Unit = {
    val done =
      try inJobGroup(refitGroup(id), s"sparktune refit of trial $id")(new Refitted(id, r.fit(paramMap), null))
      catch { case t: Throwable => new Refitted(id, null, t) }
    completions.put(done)
  }

  private def refitDone(r: Refitted): Unit =
    if (!refitting.contains(r.trialId)) staleRefits -= 1
    else {
      refitting = None
      if (r.error == null) lastRefit = Some(r.trialId -> r.model)
      else log.info(s"the refit of trial ${r.trialId} during the search failed (${r.error}); it runs again after")
    }

  private def next(): Option[(Running, Int)] = {
    while (pending.isEmpty && !exhausted && !pastDeadline && asked - cancelledTrials < maxNewTrials) ask() match {
      case None => exhausted = true
      case Some(trial) =>
        asked += 1
        val paramMap =
          try paramMapOf(trial)
          catch {
            case NonFatal(e) =>
              onFinish(TrialResult(trial.id, Array.fill(numFolds)(Double.NaN), None, "fail", Some(e.getMessage)))
              throw e
          }
        paramMap match {
          case Left(reason) =>
            onFinish(TrialResult(trial.id, Array.fill(numFolds)(Double.NaN), None, "fail", Some(reason)))
          case Right(map) =>
            val run = new Running(trial, map)
            unfinished(trial.id) = run
            (0 until numFolds).foreach(fold => pending.enqueue(run -> fold))
        }
    }
    if (pending.isEmpty) None else Some(pending.dequeue())
  }

  /** Runs `body` with its Spark jobs in `group`; the thread's job group is restored after (it may be the caller's). */
  private def inJobGroup[T](group: String, description: String)(body: => T): T = {
    val saved = TrialRunner.JobGroupKeys.map(k => k -> sc.getLocalProperty(k))
    try {
      sc.setJobGroup(group, description, interruptOnCancel = true)
      body
    } finally saved.foreach { case (k, v) => sc.setLocalProperty(k, v) }
  }

  private def task(run: Running, fold: Int): Unit = {
    val done =
      try inJobGroup(jobGroup(run.trial.id), s"sparktune trial ${run.trial.id} fold $fold") {
        val fitted = fits.fitAndEvaluate(fold, run.paramMap)
        new Done(run, fold, fitted._1, fitted._2, null)
      } catch {
        // Every throwable goes back to the driver thread, which would otherwise wait for it forever.
        case t: Throwable => new Done(run, fold, Double.NaN, null, t)
      }
    completions.put(done)
  }

  private def record(done: Done): Unit = {
    val run = done.run
    run.completed += 1
    done.error match {
      case null if done.metric.isNaN || done.metric.isInfinite =>
        run.failure = run.failure.orElse(Some(s"fold ${done.fold}: the evaluator returned ${done.metric}"))
      case null =>
        run.metrics(done.fold) = done.metric
        if (collectModels) run.models(done.fold) = done.model
        report(run)
      case _ if run.pruned || timedOut =>
        // Our own cancellation, of a pruned trial's other folds or of everything after the deadline.
        if (run.failure.isEmpty) {
          run.cancelled = true
          run.failure = Some(TrialRunner.TimedOut)
        }
      case e if TrialRunner.isCancellation(e) && TrialRunner.mentions(e, jobGroup(run.trial.id)) =>
        if (run.failure.isEmpty) {
          run.cancelled = true
          run.failure = Some(s"cancelled: ${e.getMessage}")
        }
      case e if TrialRunner.isCancellation(e) || !NonFatal(e) => throw e
      case e =>
        log.warn(s"trial ${run.trial.id} fold ${done.fold} failed", e)
        run.failure = run.failure.orElse(Some(s"fold ${done.fold}: ${e.getClass.getName}: ${e.getMessage}"))
    }
    if (run.failure.isDefined) {
      // The folds of a failed trial that have not started are dropped.
      pending.filterInPlace(_._1 ne run)
    }
    finishIfDone(run)
  }

  /** Tells the pruner each newly complete leading fold of `run`; a pruned run stops there. */
  private def report(run: Running): Unit = pruning.foreach { pruner =>
    while (run.failure.isEmpty && run.reported < numFolds && !run.metrics(run.reported).isNaN) {
      val step = run.reported + 1
      val mean = run.metrics.take(step).sum / step
      val others = stepMeans.getOrElseUpdate(step, mutable.ArrayBuffer.empty)
      // The last fold ends the trial anyway: only the first ones are worth a decision.
      val decision = if (step < numFolds) pruner.decide(step, mean, others) else None
      others += mean
      run.reported = step
      decision.foreach { reason =>
        log.info(s"trial ${run.trial.id} $reason")
        run.pruned = true
        run.failure = Some(reason)
        if (run.submitted > run.completed) toCancel.add(run.trial.id)
      }
    }
  }

  private def finishIfDone(run: Running): Unit = {
    val finished = run.completed == run.submitted && (run.failure.isDefined || run.completed == numFolds)
    if (finished && unfinished.contains(run.trial.id)) {
      unfinished.remove(run.trial.id)
      underWay.remove(run.trial.id)
      toCancel.remove(run.trial.id)
      if (run.cancelled) cancelledTrials += 1
      val result = run.failure match {
        case Some(reason) =>
          val state = if (run.pruned) "pruned" else if (run.cancelled) "cancelled" else "fail"
          TrialResult(run.trial.id, run.metrics, None, state, Some(reason), run.models)
        case None =>
          // Summed in fold order, then divided: Spark's own arithmetic, so the averages are equal to the bit.
          TrialResult(run.trial.id, run.metrics, Some(run.metrics.sum / numFolds), "ok", None, run.models)
      }
      onFinish(result)
    }
  }
}

private[tuning] object TrialRunner {

  /**
   * How the runner refits in an idle slot: `leader` is the best trial so far with its params, by the
   * rule the search's result uses (None before any trial is ok); `fit` fits it on the whole data set.
   */
  final class Refit(val leader: () => Option[(Long, ParamMap)], val fit: ParamMap => Model[_])

  /** Why trials under way at the deadline end cancelled. */
  val TimedOut = "cancelled: the search's timeout passed"

  /** The local properties `setJobGroup` sets, restored after each task (its thread may be the caller's). */
  private val JobGroupKeys = Seq("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel")

  /** Spark's daemon cached thread pool (ThreadUtils.newDaemonCachedThreadPool is private to Spark). */
  private def daemonPool(threads: Int): ThreadPoolExecutor = {
    val count = new AtomicInteger()
    val factory: ThreadFactory = { r =>
      val t = new Thread(r, s"sparktune-cv-${count.incrementAndGet()}")
      t.setDaemon(true)
      t
    }
    val pool = new ThreadPoolExecutor(threads, threads, 60L, TimeUnit.SECONDS, new LinkedBlockingQueue[Runnable](),
      factory)
    pool.allowCoreThreadTimeOut(true)
    pool
  }

  private def causes(e: Throwable): Iterator[Throwable] = Iterator.iterate(e)(_.getCause).takeWhile(_ != null).take(20)

  /** Whether `e` (or a cause) is Spark's job cancellation, or an interrupt. */
  private def isCancellation(e: Throwable): Boolean = causes(e).exists {
    case _: InterruptedException => true
    case s: SparkThrowable => s.getCondition == "SPARK_JOB_CANCELLED"
    case _ => false
  }

  /** Whether `e`'s messages name `jobGroup` (Spark's: "Job 7 cancelled part of cancelled job group g"). */
  private def mentions(e: Throwable, jobGroup: String): Boolean = {
    val group = (java.util.regex.Pattern.quote(jobGroup) + "(?![0-9])").r // trial-1 is not trial-12
    causes(e).exists(t => Option(t.getMessage).exists(m => group.findFirstIn(m).isDefined))
  }
}
