package io.sparktune.ml.tuning

import scala.collection.mutable
import scala.util.control.NonFatal

import org.apache.spark.ml.param.ParamMap

import io.sparktune.ml.tracking.{SparkTrial, SparkTunerTracking}

/**
 * The side of MLflow tracking ([[io.sparktune.ml.tracking]]) of the [[Tuner]] that CrossValidator and
 * TrainValidationSplit share: its trials, as the core and the runner give them (ok, fail, cancelled or
 * pruned with the folds it ran), turned into [[SparkTrial]]s. Called from the tuner's driver thread only.
 */
private[tuning] final class TrialTracking(tracking: SparkTunerTracking, paramMapOf: CoreTrial => Either[String, ParamMap],
    numFolds: Int) {

  /** The trials asked in this fit, with when they were asked. */
  private val asked = mutable.Map.empty[Long, (CoreTrial, Long)]

  /** `ask`, remembering what it gave. */
  def asking(ask: () => Option[CoreTrial]): () => Option[CoreTrial] = () => {
    val next = ask()
    next.foreach(t => asked(t.id) = (t, System.currentTimeMillis()))
    next
  }

  def finished(result: TrialResult): Unit = asked.remove(result.id).foreach { case (trial, startedMs) =>
    tracking.trialFinished(SparkTrial(result.id, mapOf(trial), trial.values, result.foldMetrics, result.value,
      result.state, result.error, startedMs, System.currentTimeMillis()))
  }

  /** The fit succeeded: every finished trial of the study (resumed ones too), the best, the space. */
  def succeeded(trials: Seq[CoreTrial], best: CoreTrial, space: => String): Unit = {
    def view(t: CoreTrial) = SparkTrial(t.id, mapOf(t), t.values,
      Array.tabulate(numFolds)(i => t.metrics.getOrElse(s"fold_$i", Double.NaN)), t.value, t.state, t.error, 0L, 0L)
    tracking.succeeded(trials.filter(_.state != "running").map(view), view(best), space)
  }

  def failed(error: Throwable): Unit = tracking.failed(error)

  def gridJson(maps: Array[ParamMap]): String = tracking.gridJson(maps)

  /** A search space as JSON: its bindings, or with stage choices the whole space the core samples. */
  def spaceJson(space: ParamSpace): String = if (space.choices.isEmpty) space.bindingsJson else space.toJson

  private def mapOf(trial: CoreTrial): Option[ParamMap] =
    try paramMapOf(trial).toOption catch { case NonFatal(_) => None }
}
