package io.sparktune.ml.tuning

import scala.collection.mutable
import scala.jdk.CollectionConverters._
import scala.util.control.NonFatal

import com.fasterxml.jackson.databind.JsonNode
import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.param._

import io.sparktune.JsonCodec

/** Where the params of an estimator live: its stages, walked through pipelines and nested stages. */
private[tuning] object Stages {

  /**
   * `root` and every Params object inside it: the stages of a Pipeline (or PipelineModel), and the
   * values of params that hold stages (OneVsRest's classifier, a nested tuner's estimator), depth first.
   */
  def all(root: Params): Seq[Params] = {
    val seen = mutable.LinkedHashMap.empty[String, Params]
    def nested(value: Any): Seq[Params] = value match {
      case p: Params => Seq(p)
      case a: Array[_] => a.toSeq.flatMap(nested)
      case _ => Nil
    }
    def walk(p: Params): Unit = if (!seen.contains(p.uid)) {
      seen(p.uid) = p
      p match {
        case pipeline: Pipeline if pipeline.isDefined(pipeline.stages) => pipeline.getStages.foreach(walk)
        case model: PipelineModel => model.stages.foreach(walk)
        case _ =>
      }
      p.params.filter(param => p.isDefined(param) && param.name != "stages").foreach { param =>
        nested(p.getOrDefault(param)).foreach(walk)
      }
    }
    walk(root)
    seen.values.toSeq
  }
}

/** Turns the core's JSON values into values of Spark params' types. */
private[tuning] object ParamValues {

  /**
   * The value of `json` as `param`'s type (Int, Long, Double, Float, Boolean, String, arrays of these;
   * other params through their own jsonDecode). A value of the wrong type is an error naming the
   * param and the label, since the space does not fit the param.
   */
  def convert(param: Param[_], label: String, json: JsonNode): Any = {
    def mismatch(kind: String, detail: String = ""): Nothing =
      throw new IllegalArgumentException(s"param ${param.parent}.${param.name} is $kind but label '$label' " +
        s"gave $json$detail")
    def whole(n: JsonNode, kind: String, min: Double, max: Double): Double = {
      if (!n.isNumber) mismatch(kind)
      val d = n.doubleValue
      if (d != math.rint(d) || d < min || d > max) mismatch(kind)
      d
    }
    def int(n: JsonNode): Int = whole(n, "an Int", Int.MinValue, Int.MaxValue).toInt
    def double(n: JsonNode, kind: String): Double = if (n.isNumber) n.doubleValue else mismatch(kind)
    def elements(kind: String): Seq[JsonNode] = if (json.isArray) json.elements.asScala.toSeq else mismatch(kind)
    param match {
      case _: IntParam => int(json)
      case _: LongParam =>
        if (json.isIntegralNumber && json.canConvertToLong) json.longValue
        else whole(json, "a Long", -9.223372036854775e18, 9.223372036854775e18).toLong
      case _: DoubleParam => double(json, "a Double")
      case _: FloatParam => double(json, "a Float").toFloat
      case _: BooleanParam => if (json.isBoolean) json.booleanValue else mismatch("a Boolean")
      case _: IntArrayParam => elements("an Array[Int]").map(int).toArray
      case _: DoubleArrayParam => elements("an Array[Double]").map(double(_, "an Array[Double]")).toArray
      case _: StringArrayParam =>
        elements("an Array[String]").map(n => if (n.isTextual) n.asText else mismatch("an Array[String]")).toArray
      case _ =>
        // A plain Param[T]: T is erased, so the param decodes its own JSON (strings, vectors, matrices).
        try param.jsonDecode(JsonCodec.write(json))
        catch { case NonFatal(e) => mismatch("a param of its own type", s": ${e.getMessage}") }
    }
  }

  /** Why `value` breaks `param`'s validator, if it does (a draw out of a param's range fails the trial). */
  def invalid(param: Param[Any], value: Any): Option[String] =
    if (param.isValid(value)) None
    else Some(s"param ${param.parent}.${param.name} given invalid value ${show(value)} (${param.doc})")

  def show(value: Any): String = value match {
    case a: Array[_] => a.map(show).mkString("[", ", ", "]")
    case s: String => s"'$s'"
    case other => String.valueOf(other)
  }
}
