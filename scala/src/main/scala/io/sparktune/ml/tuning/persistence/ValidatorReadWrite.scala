package io.sparktune.ml.tuning.persistence

import scala.jdk.CollectionConverters._
import scala.reflect.ClassTag

import org.json4s._
import org.json4s.jackson.JsonMethods.parse

import org.apache.spark.ml.Model
import org.apache.spark.ml.param.{ParamMap, Params}
import org.apache.spark.ml.util.{MLReader, MLWriter}

import io.sparktune.Trial
import io.sparktune.ml.tuning.{CrossValidatorModel, TrainValidationSplitModel, ValidatorParams}

/** Readers of sparktune's tuners on [[TunerReadWrite]]'s layout (their writer is the shared [[TunerWriter]]). */
object ValidatorReadWrite {
  /** A reader of tuner class `T`, made by `make(uid)`. */
  def reader[T <: ValidatorParams](make: String => T)(implicit tag: ClassTag[T]): MLReader[T] =
    new TunerReader(tag.runtimeClass.getName, make)
}

/**
 * A tuner's model on [[TunerReadWrite]]'s layout: each model class says which results it has (in the
 * metadata; NaN, a failed trial's metric, as the string "NaN") and where its sub-models go.
 */
abstract class TunedModelReadWrite[M <: Model[M] with ValidatorParams](implicit tag: ClassTag[M]) {
  protected def bestModel(m: M): Model[_]
  protected def bestParams(m: M): ParamMap
  protected def results(m: M): JObject
  /** (path under subModels, model) pairs in Spark's layout, when the model has sub-models. */
  protected def subModels(m: M): Option[Seq[(String, Model[_])]]
  protected def build(parts: TunedModelParts): M
  /** Sets the sub-models of a loaded model (its params set), found by `load(path under subModels)`. */
  protected def attachSubModels(m: M, load: String => Model[_]): Unit

  def writer(m: M): MLWriter = new TunedModelWriter(m, bestModel(m), bestParams(m), results(m), subModels(m))

  def reader: MLReader[M] = new TunedModelReader[M](tag.runtimeClass.getName, build, attachSubModels)

  /**
   * A model from its parts, for PySpark's wrapper (which keeps its results in Python): `resultsJson`
   * is the results object as saved, the params are copied from `tuner` (a tuner built by the
   * wrapper) by name.
   */
  def model(uid: String, tuner: Params, bestModel: Model[_], bestParams: ParamMap, resultsJson: String): M = {
    val source = s"${tag.runtimeClass.getSimpleName} $uid from Python"
    val results = try parse(resultsJson) catch {
      case e: Exception => throw new IllegalArgumentException(s"$source: its results are not JSON ($e)", e)
    }
    val model = build(new TunedModelParts(uid, bestModel, bestParams, results, source))
    tuner.params.filter(tuner.isSet).foreach { p =>
      if (model.hasParam(p.name)) model.set(TunerReadWrite.param[Any](model, p.name), tuner.get(p).get)
    }
    model
  }

  /**
   * Sets `model`'s sub-models, for PySpark's wrapper (which keeps them in Python): `paths(j)` is where
   * `models(j)` goes under subModels (e.g. fold0/3), a null model for a trial that was not trained.
   */
  def setSubModels(model: M, paths: java.util.List[String], models: java.util.List[Model[_]]): M = {
    require(paths.size == models.size, s"setSubModels: ${paths.size} paths but ${models.size} models")
    val byPath = paths.asScala.zip(models.asScala).toMap
    attachSubModels(model, p => byPath.getOrElse(p, null))
    model
  }

  protected def trialResults(trialIds: Array[Long], trialsJson: String): List[JField] =
    List("trialIds" -> JArray(trialIds.toList.map(JLong(_))), "trials" -> parse(trialsJson))

  protected def trials(parts: TunedModelParts): (Array[Long], Seq[Trial], String) = {
    val json = parts.json("trials")
    (parts.longs("trialIds"), Trial.parseArray(json, "trials"), json)
  }
}

/**
 * [[CrossValidatorModel]]: avgMetrics, stdMetrics, foldMetrics, bestIndex, trialIds, trials (the
 * core's trial JSON); sub-models at `subModels/fold<k>/<i>`, as Spark's.
 */
object CrossValidatorReadWrite extends TunedModelReadWrite[CrossValidatorModel] {
  protected def bestModel(m: CrossValidatorModel): Model[_] = m.bestModel
  protected def bestParams(m: CrossValidatorModel): ParamMap = m.bestParams

  protected def results(m: CrossValidatorModel): JObject = JObject(List(
    "avgMetrics" -> TunedModelParts.json(m.avgMetrics),
    "stdMetrics" -> TunedModelParts.json(m.stdMetrics),
    "foldMetrics" -> JArray(m.foldMetrics.toList.map(TunedModelParts.json)),
    "bestIndex" -> JInt(m.bestIndex)) ++ trialResults(m.trialIds, m.trialsJson))

  protected def subModels(m: CrossValidatorModel): Option[Seq[(String, Model[_])]] =
    if (!m.hasSubModels) None
    else Some(for ((fold, k) <- m.subModels.toSeq.zipWithIndex; (sub, i) <- fold.toSeq.zipWithIndex)
      yield s"fold$k/$i" -> sub)

  protected def build(parts: TunedModelParts): CrossValidatorModel = {
    val (trialIds, trials, trialsJson) = this.trials(parts)
    new CrossValidatorModel(parts.uid, parts.bestModel,
      avgMetrics = parts.doubles("avgMetrics"),
      stdMetrics = parts.doubles("stdMetrics"),
      foldMetrics = parts.doubleRows("foldMetrics"),
      bestIndex = parts.int("bestIndex"),
      bestParams = parts.bestParams,
      trialIds = trialIds,
      trials = trials,
      trialsJson = trialsJson)
  }

  protected def attachSubModels(m: CrossValidatorModel, load: String => Model[_]): Unit =
    m.setSubModels(Array.tabulate(m.getNumFolds, m.avgMetrics.length)((k, i) => load(s"fold$k/$i")))
}

/**
 * [[TrainValidationSplitModel]]: validationMetrics, bestIndex, trialIds, trials; sub-models at
 * `subModels/<i>`, as Spark's.
 */
object TrainValidationSplitReadWrite extends TunedModelReadWrite[TrainValidationSplitModel] {
  protected def bestModel(m: TrainValidationSplitModel): Model[_] = m.bestModel
  protected def bestParams(m: TrainValidationSplitModel): ParamMap = m.bestParams

  protected def results(m: TrainValidationSplitModel): JObject = JObject(List(
    "validationMetrics" -> TunedModelParts.json(m.validationMetrics),
    "bestIndex" -> JInt(m.bestIndex)) ++ trialResults(m.trialIds, m.trialsJson))

  protected def subModels(m: TrainValidationSplitModel): Option[Seq[(String, Model[_])]] =
    if (!m.hasSubModels) None else Some(m.subModels.toSeq.zipWithIndex.map { case (sub, i) => i.toString -> sub })

  protected def build(parts: TunedModelParts): TrainValidationSplitModel = {
    val (trialIds, trials, trialsJson) = this.trials(parts)
    new TrainValidationSplitModel(parts.uid, parts.bestModel, parts.doubles("validationMetrics"),
      parts.int("bestIndex"), parts.bestParams, trialIds, trials, trialsJson)
  }

  protected def attachSubModels(m: TrainValidationSplitModel, load: String => Model[_]): Unit =
    m.setSubModels(Array.tabulate(m.validationMetrics.length)(i => load(i.toString)))
}
