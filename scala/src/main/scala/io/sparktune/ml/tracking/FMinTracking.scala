package io.sparktune.ml.tracking

import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.JsonNode

import io.sparktune.{JsonCodec, Trial}

/**
 * The tracking of one fmin call of [[io.sparktune.hyperopt.SparkTrials]]: its trials turned into the
 * records of a [[TuningTracker]], so that fmin logs as the Spark tuners do (a parent run, one child
 * run per trial). A trial's params are its values as the objective received them (a choice's
 * option, never its index; a nested dict's entries as `outer.inner`), its metric is `loss`; the
 * parent gets `best_<param>`, `best_loss`, and the artifacts search_results.csv,
 * best_parameters.json and search_space.json. Called from fmin's driver thread only.
 */
final class FMinTracking(tracker: TuningTracker) {

  /** Off: no records are built either. */
  private val on = tracker ne TuningTracker.Off

  /** A trial the study has been told about (ok, fail or cancelled). */
  def trialFinished(trial: Trial): Unit = if (on) tracker.trialFinished(FMinTracking.record(trial))

  /** fmin returned: every trial, the best if one succeeded, the space as JSON. */
  def succeeded(trials: Seq[Trial], best: Option[Trial], spaceJson: String): Unit = if (on) {
    val records = trials.filterNot(_.isRunning).map(FMinTracking.record)
    val bestParams = best.toSeq.flatMap(t => FMinTracking.paramsOf(t.values))
    tracker.succeeded(TuningSummary(
      params = bestParams.map { case (k, v) => s"best_$k" -> v },
      metrics = best.flatMap(_.value).map("best_loss" -> _).toSeq,
      tags = best.map("sparktune.best_trial_id" -> _.id.toString).toSeq,
      artifacts = Seq(SearchArtifacts.resultsCsv(records)) ++
        best.map(_ => SearchArtifacts.bestParameters(bestParams)) :+ SearchArtifacts.searchSpace(spaceJson)))
  }

  /** fmin threw (e.g. interrupted): a parent run sparktune started ends FAILED. */
  def failed(error: Throwable): Unit = tracker.failed(error)
}

object FMinTracking {

  /** The tracking of an fmin call as `settings` ask (a tracker that logs nothing when off). */
  def start(settings: MlflowSettings, info: TunerInfo, warn: String => Unit): FMinTracking =
    new FMinTracking(MlflowTracker.start(settings, info, warn))

  private[tracking] def record(t: Trial): TrialRecord = {
    val params = paramsOf(t.values)
    TrialRecord(t.id, params, params, t.value.map(MetricPoint("loss", _)).toSeq ++
      t.metrics.map { case (k, v) => MetricPoint(k, v) }, t.state, t.error, t.startedMs,
      t.finishedMs.getOrElse(System.currentTimeMillis()))
  }

  /** A trial's values as MLflow params: a dict's entries by key (nested ones `outer.inner`), else `value`. */
  def paramsOf(values: JsonNode): Seq[(String, String)] =
    if (values != null && values.isObject) flatten("", values) else Seq("value" -> text(values))

  private def flatten(prefix: String, obj: JsonNode): Seq[(String, String)] =
    obj.properties.asScala.toSeq.flatMap { e =>
      val key = prefix + e.getKey
      if (e.getValue.isObject && !e.getValue.isEmpty) flatten(key + ".", e.getValue) else Seq(key -> text(e.getValue))
    }

  /** As Python shows it (ParamText): 0.001, True, 'a' inside a list. */
  private def text(node: JsonNode): String = ParamText.show(scalaValue(node))

  private def scalaValue(node: JsonNode): Any =
    if (node != null && node.isArray) node.elements.asScala.map(scalaValue).toArray
    else if (node != null && node.isObject) JsonCodec.write(node)
    else JsonCodec.toScala(node)
}
