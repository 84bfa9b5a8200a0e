package io.sparktune.ml.tuning.persistence

import scala.util.control.NonFatal

import org.apache.hadoop.fs.Path
import org.json4s._
import org.json4s.jackson.JsonMethods.{compact, parse, render}

import org.apache.spark.ml.{Estimator, Model, Pipeline, PipelineModel}
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param.{Param, ParamMap, ParamPair, Params}
import org.apache.spark.ml.sparktune.{PersistenceBridge, SavedMetadata}
import org.apache.spark.ml.util.{MLReader, MLWritable, MLWriter}
import org.apache.spark.sql.SparkSession

import io.sparktune.ml.tuning.ParamSpace

/**
 * How a sparktune tuner is saved: Spark's layout for its CrossValidator and TrainValidationSplit,
 * so that a tuner saves and loads alone or as a stage of a Pipeline, from Scala or Python.
 * {{{
 *   path/metadata            Spark's metadata file: class, timestamp, sparkVersion, uid, defaultParamMap,
 *                            paramMap = the params set on the tuner, with
 *                              estimatorParamMaps  as Spark writes them: [[{parent, name, value, isJson}]]
 *                              searchSpace         its bindings: [{stage, param, label, space}]
 *   path/estimator           the estimator, by its own writer
 *   path/evaluator           the evaluator
 *   path/epm_<name><i>       a param map's value that is itself a stage (as Spark)
 * }}}
 * A tuner's model adds `path/bestModel` and, in the metadata, its results (see [[TunedModelWriter]]).
 *
 * A tuner is any Params with params named estimator, evaluator and estimatorParamMaps or
 * searchSpace: these are read by name, so that every sparktune tuner shares this code.
 */
private[tuning] object TunerReadWrite {
  val EstimatorParam = "estimator"
  val EvaluatorParam = "evaluator"
  val ParamMapsParam = "estimatorParamMaps"
  val SearchSpaceParam = "searchSpace"
  /** Saved beside the JSON params, or in a form of their own. */
  val Special: Seq[String] = Seq(EstimatorParam, EvaluatorParam, ParamMapsParam, SearchSpaceParam)

  def param[T](instance: Params, name: String): Param[T] = instance.getParam(name).asInstanceOf[Param[T]]

  def valueOf[T](instance: Params, name: String): Option[T] =
    if (instance.hasParam(name)) instance.get(param[T](instance, name)) else None

  private def describe(instance: Params): String = s"${instance.getClass.getSimpleName} ${instance.uid}"

  /** What would make a save fail, found before anything is written (or overwritten). */
  def validate(instance: Params, path: String): Unit = {
    def writable(name: String): Params = valueOf[Params](instance, name) match {
      case Some(w: MLWritable) => w
      case Some(other) => throw new UnsupportedOperationException(s"cannot save ${describe(instance)} to $path: " +
        s"its $name ${other.uid} (${other.getClass.getName}) is not MLWritable")
      case None => throw new IllegalArgumentException(s"cannot save ${describe(instance)} to $path: no $name is set")
    }
    val estimator = writable(EstimatorParam)
    writable(EvaluatorParam)
    val uids = uidMap(instance)
    valueOf[Array[ParamMap]](instance, ParamMapsParam).foreach(_.zipWithIndex.foreach { case (map, i) =>
      map.toSeq.foreach { pair =>
        if (!uids.contains(pair.param.parent)) throw new IllegalArgumentException(s"cannot save ${describe(instance)} " +
          s"to $path: estimatorParamMaps($i) sets ${pair.param}, which belongs to no stage of the tuner, its " +
          "estimator or its evaluator")
      }
    })
    valueOf[ParamSpace](instance, SearchSpaceParam).foreach { space =>
      space.choices.headOption.foreach { c =>
        throw new UnsupportedOperationException(s"cannot save ${describe(instance)} to $path: its searchSpace " +
          s"chooses stage ${c.slotUid} among ${c.options.map(_._1.uid).mkString(", ")} (stage choice " +
          s"'${c.label}'), and a search space with stage choices cannot be saved yet")
      }
      val stages = uidMap(estimator)
      space.bindings.foreach { b =>
        if (!stages.get(b.stageUid).exists(_.hasParam(b.paramName))) throw new IllegalArgumentException(
          s"cannot save ${describe(instance)} to $path: searchSpace binds ${b.paramId} (label '${b.label}'), " +
            s"which is no param of a stage of the estimator ${estimator.uid}")
      }
    }
    jsonParams(instance, path) // a value that cannot be encoded fails here, before the path is touched
    instance.params.filter(p => instance.hasDefault(p) && !Special.contains(p.name))
      .foreach(p => encode(instance, path, p, instance.getDefault(p).get))
  }

  /** Writes the metadata (with `extra` fields), the estimator and the evaluator. */
  def save(instance: Params, path: String, spark: SparkSession, extra: JObject): Unit = {
    val epmDirs = new StageDirs(path, "epm_", spark)
    val maps = valueOf[Array[ParamMap]](instance, ParamMapsParam)
      .map(ms => ParamMapsParam -> JArray(ms.toList.map(m => encodeParamMap(m, epmDirs))))
    val space = valueOf[ParamSpace](instance, SearchSpaceParam).map(s => SearchSpaceParam -> parse(s.bindingsJson))
    val paramMap = JObject(jsonParams(instance, path) ++ maps ++ space)
    PersistenceBridge.saveMetadata(instance, path, spark, extra, paramMap)
    saveStage(valueOf[Params](instance, EvaluatorParam).get, new Path(path, EvaluatorParam).toString, spark)
    saveStage(valueOf[Params](instance, EstimatorParam).get, new Path(path, EstimatorParam).toString, spark)
  }

  def saveStage(stage: Params, path: String, spark: SparkSession): Unit =
    stage.asInstanceOf[MLWritable].write.session(spark).save(path)

  /** The params set on `instance`, but the special ones, as Spark's paramMap JSON. */
  private def jsonParams(instance: Params, path: String): List[JField] =
    instance.params.toList.filter(p => instance.isSet(p) && !Special.contains(p.name))
      .map(p => p.name -> parse(encode(instance, path, p, instance.get(p).get)))

  private def encode(instance: Params, path: String, p: Param[_], value: Any): String =
    try p.asInstanceOf[Param[Any]].jsonEncode(value)
    catch {
      case NonFatal(e) => throw new UnsupportedOperationException(s"cannot save ${describe(instance)} to $path: " +
        s"param ${p.name} cannot encode its value (a ${value.getClass.getName}) as JSON: $e", e)
    }

  /** A param map as Spark writes estimatorParamMaps' entries; values that are stages go to `dirs`. */
  def encodeParamMap(map: ParamMap, dirs: StageDirs): JArray = JArray(map.toSeq.toList.map {
    case ParamPair(p, stage: MLWritable) =>
      val dir = dirs.save(p.name, stage.asInstanceOf[Params])
      entry(p, compact(render(JString(dir))), isJson = false)
    case ParamPair(p, v) => entry(p, p.asInstanceOf[Param[Any]].jsonEncode(v), isJson = true)
  })

  private def entry(p: Param[_], value: String, isJson: Boolean): JObject =
    JObject("parent" -> JString(p.parent), "name" -> JString(p.name), "value" -> JString(value),
      "isJson" -> JString(isJson.toString))

  /** The stages of a param map, saved under `root/<prefix><name><i>`, numbered across maps as Spark does. */
  final class StageDirs(root: String, prefix: String, spark: SparkSession) {
    private var count = 0
    def save(name: String, stage: Params): String = {
      val dir = s"$prefix$name$count"
      count += 1
      saveStage(stage, new Path(root, dir).toString, spark)
      dir
    }
  }

  /** A param map written by [[encodeParamMap]] (or by Spark), its params found by uid in `uids`. */
  def decodeParamMap(json: JValue, uids: Map[String, Params], path: String, spark: SparkSession): ParamMap = {
    val pairs = json match {
      case JArray(entries) => entries.map {
        case JObject(fields) =>
          val f = fields.collect { case (k, JString(v)) => k -> v }.toMap
          def field(name: String): String = f.getOrElse(name, throw new IllegalArgumentException(
            s"$path: a param map entry has no '$name': ${compact(render(JObject(fields)))}"))
          val owner = uids.getOrElse(field("parent"), throw new IllegalArgumentException(s"$path: a param map " +
            s"sets ${field("parent")}.${field("name")}, but no stage saved there has uid ${field("parent")}"))
          val p = param[Any](owner, field("name"))
          if (f.get("isJson").forall(_.toBoolean)) ParamPair(p, p.jsonDecode(field("value")))
          else {
            val dir = parse(field("value")) match { case JString(s) => s; case _ => field("value") }
            ParamPair(p, PersistenceBridge.loadParamsInstance[Any](new Path(path, dir).toString, spark))
          }
        case other => throw new IllegalArgumentException(s"$path: a param map entry is not an object: $other")
      }
      case other => throw new IllegalArgumentException(s"$path: a param map is not an array: $other")
    }
    ParamMap(pairs: _*)
  }

  /**
   * The uid -> Params map of a stage and of the stages inside it: Pipelines, PipelineModels and
   * tuners (sparktune's or Spark's) here, Spark's other meta-algorithms by Spark's own map.
   */
  def uidMap(root: Params): Map[String, Params] = {
    def walk(p: Params): List[(String, Params)] = p match {
      case pipe: Pipeline => (pipe.uid -> pipe) :: pipe.getStages.toList.flatMap(walk)
      case model: PipelineModel => (model.uid -> model) :: model.stages.toList.flatMap(walk)
      case tuner if tuner.hasParam(EstimatorParam) && tuner.hasParam(EvaluatorParam) =>
        (tuner.uid -> tuner) :: List(EstimatorParam, EvaluatorParam).flatMap(valueOf[Params](tuner, _)).flatMap(walk)
      case other => PersistenceBridge.uidMap(other).toList
    }
    val all = walk(root)
    val map = all.toMap
    if (map.size != all.size) {
      val repeated = all.groupBy(_._1).collect { case (uid, ps) if ps.size > 1 => uid }
      throw new IllegalArgumentException(s"${describe(root)} holds several stages with the same uid " +
        s"(${repeated.mkString(", ")}): their params could not be told apart when loaded")
    }
    map
  }

  /** The metadata at `path`, which must be of class `expected`: otherwise an error naming the path. */
  def loadMetadata(path: String, spark: SparkSession, expected: String): SavedMetadata = {
    val md = try PersistenceBridge.loadMetadata(path, spark) catch {
      case NonFatal(e) => throw new IllegalArgumentException(s"cannot load $expected from $path: " +
        s"no Spark ML metadata could be read there ($e)", e)
    }
    if (md.className != expected) throw new IllegalArgumentException(s"$path holds a ${md.className} " +
      s"(uid ${md.uid}, saved by Spark ${md.sparkVersion}), not a $expected: load it with ${md.className}.load")
    md
  }

  /** A tuner's saved parts, before they are set on a new instance. */
  final case class Loaded(
      path: String,
      metadata: SavedMetadata,
      estimator: Estimator[_],
      evaluator: Evaluator,
      uids: Map[String, Params],
      paramMaps: Option[Array[ParamMap]],
      searchSpace: Option[ParamSpace]) {

    /** Sets the params (the JSON ones and their defaults as saved, then the special ones) on `instance`. */
    def applyTo(instance: Params): Unit = {
      metadata.setParams(instance, Special)
      instance.set(param[Any](instance, EstimatorParam), estimator)
      instance.set(param[Any](instance, EvaluatorParam), evaluator)
      paramMaps.foreach(ms => instance.set(param[Any](instance, ParamMapsParam), ms))
      searchSpace.foreach(s => instance.set(param[Any](instance, SearchSpaceParam), s))
    }
  }

  def load(path: String, spark: SparkSession, expected: String): Loaded = {
    val md = loadMetadata(path, spark, expected)
    val evaluator = PersistenceBridge.loadParamsInstance[Evaluator](new Path(path, EvaluatorParam).toString, spark)
    val estimator = PersistenceBridge.loadParamsInstance[Estimator[_]](new Path(path, EstimatorParam).toString, spark)
    val uids = uidMap(estimator) + (evaluator.uid -> evaluator)
    val maps = md.params \ ParamMapsParam match {
      case JNothing | JNull => None
      case JArray(ms) => Some(ms.map(decodeParamMap(_, uids, path, spark)).toArray)
      case other => throw new IllegalArgumentException(s"$path: estimatorParamMaps is not an array: $other")
    }
    val space = md.params \ SearchSpaceParam match {
      case JNothing | JNull => None
      case json => Some(ParamSpace.fromJson(compact(render(json))))
    }
    Loaded(path, md, estimator, evaluator, uids, maps, space)
  }
}

/** Saves a sparktune tuner: see [[TunerReadWrite]]. */
final class TunerWriter(instance: Params) extends MLWriter {

  override def save(path: String): Unit = {
    TunerReadWrite.validate(instance, path) // before an overwrite deletes what is there
    super.save(path)
  }

  override protected def saveImpl(path: String): Unit =
    TunerReadWrite.save(instance, path, sparkSession, JObject())
}

/** Loads a tuner of class `className` saved by [[TunerWriter]], made by `make(uid)`. */
final class TunerReader[T <: Params](className: String, make: String => T) extends MLReader[T] {

  override def load(path: String): T = {
    val loaded = TunerReadWrite.load(path, sparkSession, className)
    val instance = make(loaded.metadata.uid)
    loaded.applyTo(instance)
    instance
  }
}

/**
 * Saves a tuner's model: the tuner's layout, plus `path/bestModel`, `path/bestParams_<name><i>` for
 * stage-valued best params, and in the metadata (beside paramMap, as Spark keeps its avgMetrics)
 * `results` (each tuner's own fields, e.g. avgMetrics, stdMetrics, foldMetrics, bestIndex, trialIds,
 * trials), `bestParams` (a param map as estimatorParamMaps' entries) and `persistSubModels`.
 * `subModels` (when the tuner collected them) are (path under `path/subModels`, model) pairs, in
 * Spark's layout; a null model (a trial this fit did not train) is not written. As Spark's writers,
 * they are saved unless the option persistSubModels is "false".
 */
final class TunedModelWriter(instance: Params, bestModel: Model[_], bestParams: ParamMap, results: JObject,
    subModels: Option[Seq[(String, Model[_])]]) extends MLWriter {

  private def persistSubModels: Boolean =
    optionMap.get("persistsubmodels").map(_.toLowerCase(java.util.Locale.ROOT)) match {
      case None => subModels.isDefined
      case Some(v @ ("true" | "false")) => v.toBoolean
      case Some(v) => throw new IllegalArgumentException(s"the option persistSubModels is true or false, not '$v'")
    }

  override def save(path: String): Unit = {
    TunerReadWrite.validate(instance, path)
    def writable(m: Model[_], what: String): Unit =
      if (!m.isInstanceOf[MLWritable]) throw new UnsupportedOperationException(s"cannot save " +
        s"${instance.uid} to $path: its $what ${m.uid} (${m.getClass.getName}) is not MLWritable")
    writable(bestModel, "bestModel")
    if (persistSubModels) toSave(path).foreach { case (dir, m) => writable(m, s"subModels/$dir") }
    super.save(path)
  }

  private def toSave(path: String): Seq[(String, Model[_])] = subModels.getOrElse(throw new IllegalArgumentException(
    s"cannot save ${instance.uid} to $path with persistSubModels: it has no subModels (fit it with " +
      "collectSubModels set to true)")).filter(_._2 != null)

  override protected def saveImpl(path: String): Unit = {
    val best = TunerReadWrite.encodeParamMap(bestParams, new TunerReadWrite.StageDirs(path, "bestParams_", sparkSession))
    val persist = persistSubModels
    val extra = JObject(results.obj ++ List("bestParams" -> best, "persistSubModels" -> JBool(persist)))
    TunerReadWrite.save(instance, path, sparkSession, extra)
    TunerReadWrite.saveStage(bestModel, new Path(path, "bestModel").toString, sparkSession)
    if (persist) toSave(path).foreach { case (dir, m) =>
      TunerReadWrite.saveStage(m, new Path(new Path(path, "subModels"), dir).toString, sparkSession)
    }
  }
}

/**
 * What a tuner's model is made of when loaded (or built from Python): its uid, best model and
 * params, and its results object, read by the typed getters (errors name the field and `source`).
 */
final class TunedModelParts(
    val uid: String,
    val bestModel: Model[_],
    val bestParams: ParamMap,
    results: JValue,
    source: String) {

  private def field(name: String): JValue = results \ name match {
    case JNothing | JNull => throw new IllegalArgumentException(s"$source: the tuned model's results have no '$name'")
    case v => v
  }

  private def fail(name: String, v: JValue, what: String): Nothing =
    throw new IllegalArgumentException(s"$source: '$name' is not $what: ${compact(render(v))}")

  private def double(name: String, v: JValue): Double = v match {
    case JDouble(x) => x
    case JInt(x) => x.toDouble
    case JLong(x) => x.toDouble
    case JDecimal(x) => x.toDouble
    case JString(s @ ("NaN" | "Infinity" | "-Infinity")) => s.toDouble
    case other => fail(name, other, "a number")
  }

  def doubles(name: String): Array[Double] = field(name) match {
    case JArray(xs) => xs.map(double(name, _)).toArray
    case other => fail(name, other, "an array of numbers")
  }

  def doubleRows(name: String): Array[Array[Double]] = field(name) match {
    case JArray(rows) => rows.map {
      case JArray(xs) => xs.map(double(name, _)).toArray
      case other => fail(name, other, "an array of arrays of numbers")
    }.toArray
    case other => fail(name, other, "an array of arrays of numbers")
  }

  def longs(name: String): Array[Long] = doubles(name).map(_.toLong)

  def int(name: String): Int = double(name, field(name)).toInt

  /** A field as JSON text (e.g. the trials, for the core's parser). */
  def json(name: String): String = compact(render(field(name)))
}

object TunedModelParts {
  /** A double as JSON: NaN and the infinities, which JSON lacks, as the strings Java's toString gives. */
  def json(x: Double): JValue = if (x.isNaN || x.isInfinite) JString(x.toString) else JDouble(x)

  def json(xs: Array[Double]): JValue = JArray(xs.toList.map(json))
}

/**
 * Loads a tuner's model of class `className` saved by [[TunedModelWriter]], made by `build`; when
 * sub-models were saved, `attach` gets a loader from a path under `subModels` to the model there
 * (null where none was written).
 */
final class TunedModelReader[M <: Params](className: String, build: TunedModelParts => M,
    attach: (M, String => Model[_]) => Unit) extends MLReader[M] {

  override def load(path: String): M = {
    val loaded = TunerReadWrite.load(path, sparkSession, className)
    val bestModel = PersistenceBridge.loadParamsInstance[Model[_]](new Path(path, "bestModel").toString, sparkSession)
    val bestParams = TunerReadWrite.decodeParamMap(loaded.metadata.metadata \ "bestParams", loaded.uids, path, sparkSession)
    val model = build(new TunedModelParts(loaded.metadata.uid, bestModel, bestParams, loaded.metadata.metadata, path))
    loaded.applyTo(model)
    if (loaded.metadata.metadata \ "persistSubModels" == JBool(true)) {
      val root = new Path(path, "subModels")
      val fs = root.getFileSystem(sparkSession.sparkContext.hadoopConfiguration)
      attach(model, dir => {
        val p = new Path(root, dir)
        if (fs.exists(p)) PersistenceBridge.loadParamsInstance[Model[_]](p.toString, sparkSession) else null
      })
    }
    model
  }
}
