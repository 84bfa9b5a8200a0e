package io.sparktune.ml.tuning

import com.fasterxml.jackson.databind.JsonNode

import io.sparktune.{Outcome, Study, Trial}
import io.sparktune.space.SearchSpace

/** A trial as the tuner reads it (the core's JSON form: point, values, value, metrics). */
private[tuning] final case class CoreTrial(
    id: Long,
    state: String,
    point: Map[String, Double],
    values: JsonNode,
    value: Option[Double],
    metrics: Map[String, Double],
    error: Option[String])

/**
 * The tuner's one door to the core: an [[io.sparktune.Study]] and the translation of its trials and
 * outcomes. Called from one thread only (the driver loop of [[TrialRunner]]).
 */
private[tuning] final class CoreStudy private (study: Study) extends AutoCloseable {

  /** The next trial, None when the core has no more (a finished grid). */
  def ask(): Option[CoreTrial] = study.ask(1).headOption.map(CoreStudy.view)

  /** A trial at a point of ours (a grid map whose trial a stopped process abandoned). */
  def enqueue(point: Map[String, Double]): CoreTrial = CoreStudy.view(study.enqueue(point))

  /** Tells a finished trial: ok with its average, else fail, cancelled or pruned with the reason; fold metrics as "fold_i". */
  def tell(result: TrialResult): Unit = {
    val metrics = result.foldMetrics.zipWithIndex.collect {
      case (m, i) if !m.isNaN && !m.isInfinite => s"fold_$i" -> m
    }.toMap
    val outcome = result.state match {
      case "ok" => Outcome.ok(result.value.get, metrics)
      case "cancelled" => Outcome.cancelled(result.error.getOrElse("cancelled"), metrics)
      case "pruned" => Outcome.pruned(result.error.getOrElse("pruned"), metrics)
      case _ => Outcome.fail(result.error.getOrElse("failed"), metrics)
    }
    study.tell(result.id, outcome)
  }

  def tellCancelled(id: Long, reason: String): Unit = study.tell(id, Outcome.cancelled(reason))

  def trials: Seq[CoreTrial] = study.trials.map(CoreStudy.view)

  def publicTrials: Seq[Trial] = study.trials

  def trialsJson: String = study.trials.map(_.toJson).mkString("[", ",", "]")

  def warnings: Seq[String] = study.warnings

  override def close(): Unit = study.close()
}

private[tuning] object CoreStudy {

  def open(spaceJson: String, sampler: String, seed: Long, direction: String, store: Option[String]): CoreStudy =
    new CoreStudy(Study.create(SearchSpace.fromJson(spaceJson), sampler = sampler, seed = seed, direction = direction,
      store = store))

  private def view(t: Trial): CoreTrial =
    CoreTrial(t.id, t.state, t.point, t.values, t.value, t.metrics, t.error)
}
