package io.sparktune.ml.tracking

import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.ObjectNode
import org.apache.spark.ml.Estimator
import org.apache.spark.ml.param.{ParamMap, Params}

import io.sparktune.JsonCodec

/**
 * A trial as a Spark tuner knows it.
 *
 * @param paramMap its param map; None when its values fit no map (the trial failed on them)
 * @param values   the core's values (label -> JSON value), logged when there is no map
 * @param folds    its metric per fold (one for a train-validation split), NaN where there is none
 */
final case class SparkTrial(
    id: Long,
    paramMap: Option[ParamMap],
    values: JsonNode,
    folds: Array[Double],
    value: Option[Double],
    state: String,
    error: Option[String],
    startedMs: Long,
    finishedMs: Long)

/**
 * The tracking of one fit of a Spark tuner (CrossValidator, TrainValidationSplit): its params,
 * trials and results turned into the plain records of a [[TuningTracker]].
 *
 * @param metrics a trial's metrics from its fold metrics and value ([[TrialMetrics]])
 */
final class SparkTunerTracking(
    tuner: Params,
    estimator: Estimator[_],
    metrics: (Array[Double], Option[Double]) => Seq[MetricPoint],
    tracker: TuningTracker) {

  private val names = new AutologParams(tuner)
  /** Off: no records are built either. */
  private val on = tracker ne TuningTracker.Off

  def trialFinished(trial: SparkTrial): Unit = if (on) tracker.trialFinished(record(trial))

  /**
   * The fit succeeded with `best` among `trials` (every trial of the study, resumed ones too).
   *
   * @param space the search space as JSON (see [[gridJson]] for a grid)
   */
  def succeeded(trials: Seq[SparkTrial], best: SparkTrial, space: => String): Unit = if (on) {
    val records = trials.map(record)
    val bestRecord = record(best)
    val bestParams = bestRecord.tunedParams
    val bestMetrics = bestRecord.metrics.filter(m => m.step == 0 && !m.key.startsWith("fold_")).take(1)
    tracker.succeeded(TuningSummary(
      params = bestParams.map { case (k, v) => s"best_$k" -> v },
      metrics = bestMetrics.map(m => s"best_${m.key}" -> m.value),
      tags = Seq("sparktune.best_trial_id" -> best.id.toString),
      artifacts = Seq(SearchArtifacts.resultsCsv(records), SearchArtifacts.bestParameters(bestParams),
        SearchArtifacts.searchSpace(space))))
  }

  def failed(error: Throwable): Unit = tracker.failed(error)

  /** A grid as JSON: `{"estimatorParamMaps": [{"<stage>.<param>": value, ...}, ...]}`, values as text. */
  def gridJson(maps: Array[ParamMap]): String = {
    val array = JsonCodec.factory.arrayNode()
    maps.foreach { m =>
      val o = JsonCodec.obj()
      names.tuned(m).foreach { case (k, v) => o.put(k, v) }
      array.add(o)
    }
    JsonCodec.write(JsonCodec.obj().set[ObjectNode]("estimatorParamMaps", array))
  }

  private def record(t: SparkTrial): TrialRecord = {
    val (all, tuned) = t.paramMap match {
      case Some(map) => (names.of(estimator.copy(map)), names.tuned(map))
      case None =>
        val raw = Option(t.values).filter(_.isObject).toSeq.flatMap(_.properties.asScala.map { e =>
          e.getKey -> (if (e.getValue.isTextual) e.getValue.asText else JsonCodec.write(e.getValue))
        })
        (raw, raw)
    }
    TrialRecord(t.id, all, tuned, metrics(t.folds, t.value), t.state, t.error, t.startedMs, t.finishedMs)
  }
}

object SparkTunerTracking {
  /** The tracking of a fit of `tuner` as `settings` ask (a tracker that logs nothing when off). */
  def start(tuner: Params, estimator: Estimator[_], metrics: (Array[Double], Option[Double]) => Seq[MetricPoint],
      settings: MlflowSettings, warn: String => Unit): SparkTunerTracking = {
    val info = TunerInfo(tuner.getClass, tuner.uid, new AutologParams(tuner).of(tuner))
    new SparkTunerTracking(tuner, estimator, metrics, MlflowTracker.start(settings, info, warn))
  }
}
