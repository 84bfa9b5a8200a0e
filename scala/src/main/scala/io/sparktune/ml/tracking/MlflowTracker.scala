package io.sparktune.ml.tracking

import java.io.File
import java.time.Duration
import java.util.concurrent.{LinkedBlockingQueue, TimeUnit}

import scala.collection.mutable
import scala.util.control.NonFatal

/** What a tuner calls while it fits; a tracker never throws and never makes the tuning wait long. */
trait TuningTracker {
  /** A trial finished (called in the tuner's driver thread: must not block). */
  def trialFinished(trial: TrialRecord): Unit

  /** The fit succeeded: logs the summary, ends what the tracker started, waits (bounded) for the logging. */
  def succeeded(summary: TuningSummary): Unit

  /** The fit threw: ends a run the tracker started as FAILED, waits (bounded) for the logging. */
  def failed(error: Throwable): Unit
}

object TuningTracker {
  /** Logs nothing. */
  val Off: TuningTracker = new TuningTracker {
    def trialFinished(trial: TrialRecord): Unit = ()
    def succeeded(summary: TuningSummary): Unit = ()
    def failed(error: Throwable): Unit = ()
  }
}

/**
 * Logs a tuning to an MLflow tracking server: the fit is a parent run (the caller's, or a new one
 * ended with the fit), each trial a child run (tag `mlflow.parentRunId`) with its params as values,
 * its metrics, its state and id as tags; the parent gets the tuner's params, the best params and
 * metric, and the artifacts.
 *
 * All calls to the server are made by one background thread, in order, so the tuner only queues.
 * A server that is down or does not answer costs at most two request timeouts: after two failures
 * in a row the rest is not sent. At the end the tuner waits at most `drainTimeout` for the queue;
 * whatever was not logged is named in one warning.
 */
final class MlflowTracker private[tracking] (
    client: MlflowRestClient,
    settings: MlflowSettings,
    tuner: TunerInfo,
    warn: String => Unit,
    drainTimeout: Duration) extends TuningTracker {

  import MlflowTracker.{End, Item, Step}

  private val queue = new LinkedBlockingQueue[Item]()
  private val notLogged = mutable.ArrayBuffer.empty[String] // guarded by itself
  @volatile private var firstError: Option[String] = None
  @volatile private var ended = false

  // Written and read by the worker only.
  private var parent: Option[RunInfo] = None
  private var ownsParent = false
  private var failuresInARow = 0
  private var down = false

  private val worker = {
    val t = new Thread(() => work(), s"sparktune-mlflow-${tuner.uid}")
    t.setDaemon(true)
    t
  }

  private[tracking] def start(): this.type = {
    enqueue("the parent run") { () =>
      parent = Some(if (settings.parentRunId.nonEmpty) client.getRun(settings.parentRunId) else {
        val run = client.createRun(experiment(), System.currentTimeMillis(), None, Nil)
        ownsParent = true
        run
      })
    }
    enqueue("the tuner's params") { () =>
      client.logBatch(parentId, tuner.params, Nil, Seq(
        "estimator_name" -> tuner.tunerClass.getSimpleName,
        "estimator_class" -> tuner.tunerClass.getName,
        "sparktune.tuner_uid" -> tuner.uid), System.currentTimeMillis())
    }
    worker.start()
    this
  }

  def trialFinished(trial: TrialRecord): Unit = if (!ended) enqueue(s"trial ${trial.id}") { () =>
    val tags = Seq(
      "mlflow.parentRunId" -> parentId,
      "sparktune.trial_id" -> trial.id.toString,
      "sparktune.state" -> trial.state) ++ trial.error.map("sparktune.error" -> _)
    val run = client.createRun(parent.get.experimentId, trial.startedMs, Some(s"trial-${trial.id}"), tags)
    try {
      client.logBatch(run.runId, trial.params, trial.metrics, Nil, trial.finishedMs)
      client.endRun(run.runId, MlflowTracker.runStatus(trial.state), trial.finishedMs)
    } catch {
      case NonFatal(e) =>
        // Not left RUNNING in the UI.
        try client.endRun(run.runId, "FAILED", trial.finishedMs) catch { case NonFatal(s) => e.addSuppressed(s) }
        throw e
    }
  }

  def succeeded(summary: TuningSummary): Unit = {
    enqueue("the best params and metrics") { () =>
      val now = System.currentTimeMillis()
      client.logBatch(parentId, summary.params, summary.metrics.map { case (k, v) => MetricPoint(k, v) }, summary.tags,
        now)
    }
    summary.artifacts.foreach(a => enqueue(s"artifact ${a.fileName}") { () =>
      client.logArtifact(parent.get.artifactUri, a.fileName, a.text)
    })
    finish("FINISHED")
  }

  def failed(error: Throwable): Unit = finish("FAILED")

  private def finish(status: String): Unit = if (!ended) {
    ended = true
    enqueue("the end of the parent run") { () =>
      if (ownsParent) client.endRun(parentId, status, System.currentTimeMillis())
    }
    queue.put(End)
    worker.join(drainTimeout.toMillis)
    if (worker.isAlive) {
      worker.interrupt()
      worker.join(1000)
      noteFailure(s"the server took more than ${drainTimeout.getSeconds} s")
    }
    // What is still queued was not sent (the deadline passed).
    val left = new java.util.ArrayList[Item]()
    queue.drainTo(left)
    left.forEach {
      case Step(what, _) => notLogged.synchronized(notLogged += what)
      case End =>
    }
    val missed = notLogged.synchronized(notLogged.toList)
    if (missed.nonEmpty) {
      warn(s"MLflow: not logged to ${client.endpoint}: ${MlflowTracker.describe(missed)}" +
        firstError.map(e => s" (first error: $e)").getOrElse("") +
        "; every trial is in the tuner's results and trial store")
    }
  }

  private def enqueue(what: String)(body: () => Unit): Unit = queue.put(Step(what, body))

  private def work(): Unit = {
    var running = true
    while (running) {
      val item = try queue.take() catch { case _: InterruptedException => End }
      item match {
        case End => running = false
        case Step(what, body) =>
          if (down || Thread.currentThread.isInterrupted) notLogged.synchronized(notLogged += what)
          else run(what, body)
      }
    }
  }

  private def run(what: String, body: () => Unit): Unit =
    try {
      body()
      failuresInARow = 0
    } catch {
      case e: Throwable =>
        notLogged.synchronized(notLogged += what)
        noteFailure(s"$what: ${Option(e.getMessage).getOrElse(e.getClass.getName)}")
        e match {
          case _: InterruptedException => down = true
          // The server answered: this item is refused (e.g. a param logged before with another value).
          case r: MlflowRestException if r.status < 500 && parent.isDefined => failuresInARow = 0
          case _ =>
            failuresInARow += 1
            if (parent.isEmpty || failuresInARow >= 2 || !NonFatal(e)) down = true
        }
    }

  private def noteFailure(message: String): Unit = if (firstError.isEmpty) firstError = Some(message)

  private def parentId: String = parent.map(_.runId).getOrElse(throw new IllegalStateException("no parent run"))

  private def experiment(): String =
    if (settings.experimentName.nonEmpty) client.experimentId(settings.experimentName, create = true)
    else if (settings.experimentId.nonEmpty) settings.experimentId
    else MlflowSettings.DefaultExperimentId
}

object MlflowTracker {

  /** What the worker takes from the queue: a call to make, or the end. */
  private sealed trait Item
  private final case class Step(what: String, body: () => Unit) extends Item
  private case object End extends Item

  /** How long a fit waits at its end for the logging still queued. */
  val DefaultDrainTimeout: Duration = Duration.ofSeconds(60)

  /**
   * The tracker of a fit: Off when logging is disabled or no tracking URI is set; Off with a
   * warning when the URI is one the JVM cannot log to (a local sqlite or file store).
   */
  def start(settings: MlflowSettings, tuner: TunerInfo, warn: String => Unit,
      timeout: Duration = MlflowRestClient.DefaultTimeout,
      drainTimeout: Duration = DefaultDrainTimeout): TuningTracker =
    if (!settings.enabled || settings.trackingUri.isEmpty) TuningTracker.Off
    else MlflowEndpoint.resolve(settings.trackingUri, sys.env, new File(System.getProperty("user.home"))) match {
      case Left(reason) =>
        warn(s"MLflow logging is off: $reason")
        TuningTracker.Off
      case Right(endpoint) =>
        new MlflowTracker(new MlflowRestClient(endpoint, timeout), settings, tuner, warn, drainTimeout).start()
    }

  /** MLflow's run status of a trial state: a pruned trial was stopped on purpose, as a cancelled one. */
  def runStatus(state: String): String = state match {
    case "ok" => "FINISHED"
    case "cancelled" | "pruned" => "KILLED"
    case _ => "FAILED"
  }

  /** "the parent run, the runs of 3 trials (0, 1, 2), ...": the trials grouped, the rest as named. */
  private def describe(missed: Seq[String]): String = {
    val (trials, others) = missed.partition(_.startsWith("trial "))
    val ids = trials.map(_.stripPrefix("trial "))
    val shown = if (ids.size > 20) ids.take(20).mkString(", ") + ", ..." else ids.mkString(", ")
    val trialText = if (ids.isEmpty) Nil else Seq(s"the runs of ${ids.size} trials ($shown)")
    (others.take(1) ++ trialText ++ others.drop(1)).mkString(", ")
  }
}
