package io.sparktune.ml.tuning.persistence

import org.json4s._
import org.json4s.jackson.JsonMethods.parse

import org.apache.spark.ml.Model
import org.apache.spark.ml.param.{ParamMap, Params}
import org.apache.spark.ml.util.{MLReader, MLWriter}

import io.sparktune.Trial
import io.sparktune.ml.tuning.{CrossValidator, CrossValidatorModel}

/**
 * [[CrossValidator]] and [[CrossValidatorModel]] on [[TunerReadWrite]]'s layout. The model's
 * results in its metadata: avgMetrics, stdMetrics, foldMetrics, bestIndex, trialIds, trials (the
 * core's trial JSON); NaN (a failed trial's metric) as the string "NaN".
 */
object CrossValidatorReadWrite {

  def reader: MLReader[CrossValidator] = new TunerReader(classOf[CrossValidator].getName, new CrossValidator(_))

  def modelWriter(model: CrossValidatorModel): MLWriter =
    new TunedModelWriter(model, model.bestModel, model.bestParams, results(model))

  def modelReader: MLReader[CrossValidatorModel] =
    new TunedModelReader(classOf[CrossValidatorModel].getName, build)

  /**
   * A model from its parts, for PySpark's wrapper (which keeps its results in Python): `resultsJson`
   * is the results object as saved, the params are copied from `tuner` (a CrossValidator built by
   * the wrapper) by name.
   */
  def model(uid: String, tuner: Params, bestModel: Model[_], bestParams: ParamMap, resultsJson: String)
      : CrossValidatorModel = {
    val source = s"CrossValidatorModel $uid from Python"
    val results = try parse(resultsJson) catch {
      case e: Exception => throw new IllegalArgumentException(s"$source: its results are not JSON ($e)", e)
    }
    val model = build(new TunedModelParts(uid, bestModel, bestParams, results, source))
    tuner.params.filter(tuner.isSet).foreach { p =>
      if (model.hasParam(p.name)) model.set(TunerReadWrite.param[Any](model, p.name), tuner.get(p).get)
    }
    model
  }

  private def results(m: CrossValidatorModel): JObject = JObject(
    "avgMetrics" -> TunedModelParts.json(m.avgMetrics),
    "stdMetrics" -> TunedModelParts.json(m.stdMetrics),
    "foldMetrics" -> JArray(m.foldMetrics.toList.map(TunedModelParts.json)),
    "bestIndex" -> JInt(m.bestIndex),
    "trialIds" -> JArray(m.trialIds.toList.map(JLong(_))),
    "trials" -> parse(m.trialsJson))

  private def build(parts: TunedModelParts): CrossValidatorModel = {
    val trialsJson = parts.json("trials")
    new CrossValidatorModel(parts.uid, parts.bestModel,
      avgMetrics = parts.doubles("avgMetrics"),
      stdMetrics = parts.doubles("stdMetrics"),
      foldMetrics = parts.doubleRows("foldMetrics"),
      bestIndex = parts.int("bestIndex"),
      bestParams = parts.bestParams,
      trialIds = parts.longs("trialIds"),
      trials = Trial.parseArray(trialsJson, "trials"),
      trialsJson = trialsJson)
  }
}
