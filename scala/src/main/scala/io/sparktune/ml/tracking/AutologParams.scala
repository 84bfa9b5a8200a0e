package io.sparktune.ml.tracking

import scala.collection.mutable

import org.apache.spark.ml.Pipeline
import org.apache.spark.ml.param.{ParamMap, Params}

/**
 * Spark params named as MLflow's pyspark.ml autologging names them for a tuner (FACTS: the schema
 * Spark users know). Every stage under the tuner gets its class name, with `_<n>` in depth-first
 * order when the class occurs more than once (`StandardScaler`, `VectorAssembler_1`,
 * `VectorAssembler_2`). An instance's own params have no prefix; those of the stages inside it are
 * `<stage name>.<param>`; a param holding a stage logs the stage's name; a tuner's estimator is
 * logged by name only and its param maps not at all (they are artifacts).
 *
 * @param tuner the tuner being fitted: the root of the naming
 */
final class AutologParams(tuner: Params) {

  /** uid -> indexed class name, for the tuner and every stage under it. */
  val names: Map[String, String] = {
    val order = mutable.ArrayBuffer.empty[Params]
    def traverse(stage: Params): Unit = {
      order += stage
      stage match {
        case p: Pipeline => if (p.isDefined(p.stages)) p.getStages.foreach(traverse)
        case other => AutologParams.stageParams(other).foreach { case (_, s) => traverse(s) }
      }
    }
    traverse(tuner)
    val counts = order.groupBy(s => s.getClass.getSimpleName).view.mapValues(_.size).toMap
    val seen = mutable.Map.empty[String, Int].withDefaultValue(0)
    order.map { s =>
      val cls = s.getClass.getSimpleName
      seen(cls) += 1
      s.uid -> (if (counts(cls) > 1) s"${cls}_${seen(cls)}" else cls)
    }.toMap
  }

  /** Every defined param of `instance` and of the stages inside it (autologging's param map). */
  def of(instance: Params): Seq[(String, String)] = recurse(instance, prefix = "")

  /**
   * `<stage name>.<param>` -> value for each param of `map` (a trial's tuned params, its best_ params).
   * A stage the map brings in (a Pipeline's stage chosen by the search) is named by its class, as
   * its params are; a stage as a value logs its name.
   */
  def tuned(map: ParamMap): Seq[(String, String)] = {
    val brought = map.toSeq.flatMap(pair => AutologParams.stagesIn(pair.value)).filterNot(s => names.contains(s.uid))
    val all = names ++ brought.map(s => s.uid -> s.getClass.getSimpleName)
    def show(value: Any): String = value match {
      case s: Params => all.getOrElse(s.uid, s.getClass.getSimpleName)
      case a: Array[_] if a.nonEmpty && a.forall(_.isInstanceOf[Params]) => ParamText.show(a.map(show))
      case other => ParamText.show(other)
    }
    map.toSeq.map(pair => s"${all.getOrElse(pair.param.parent, pair.param.parent)}.${pair.param.name}" ->
      show(pair.value)).sortBy(_._1)
  }

  private def recurse(instance: Params, prefix: String): Seq[(String, String)] = {
    val isTuner = AutologParams.isTuner(instance)
    instance.params.toSeq.filter(instance.isDefined).flatMap { param =>
      val key = prefix + param.name
      instance.getOrDefault(param) match {
        case _ if AutologParams.Skipped(param.name) => Nil
        case _ if isTuner && param.name == "estimatorParamMaps" => Nil
        case _ if isTuner && param.name == "searchSpace" => Nil
        case stages: Array[_] if instance.isInstanceOf[Pipeline] && param.name == "stages" =>
          val nested = stages.toSeq.collect { case s: Params => s }
          (key -> ParamText.show(nested.map(s => name(s)).toArray)) +: nested.flatMap(s => recurse(s, name(s) + "."))
        case stage: Params if isTuner && param.name == "estimator" => Seq(key -> name(stage))
        case stage: Params => (key -> name(stage)) +: recurse(stage, name(stage) + ".")
        case value => Seq(key -> ParamText.show(value))
      }
    }
  }

  private def name(stage: Params): String = names.getOrElse(stage.uid, stage.getClass.getSimpleName)
}

object AutologParams {
  /** A tuner's logging settings: not tuning params. */
  private val Skipped = Set("mlflowLogging", "mlflowTrackingUri", "mlflowRunId", "mlflowExperimentName")

  /** Spark's and sparktune's tuners: an estimator and its param maps (or space). */
  private def isTuner(p: Params): Boolean =
    p.hasParam("estimator") && (p.hasParam("estimatorParamMaps") || p.hasParam("searchSpace"))

  /** The stages a param value holds (a stage, or a Pipeline's array of stages). */
  private def stagesIn(value: Any): Seq[Params] = value match {
    case s: Params => Seq(s)
    case a: Array[_] => a.toSeq.collect { case s: Params => s }
    case _ => Nil
  }

  /** The defined params whose value is a stage, in param order. */
  private def stageParams(p: Params): Seq[(String, Params)] =
    p.params.toSeq.filter(p.isDefined).flatMap(param => p.getOrDefault(param) match {
      case s: Params => Seq(param.name -> s)
      case _ => Nil
    })
}
