package io.sparktune.ml.tuning

import java.util.Objects

import scala.util.control.NonFatal

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.{ArrayNode, ObjectNode}
import org.apache.spark.ml.param.{Param, ParamMap}

import io.sparktune.JsonCodec

/**
 * The param maps of a grid search told to the core as a space it enumerates, so that the trial
 * records carry the params as values. When the maps are a cartesian product (ParamGridBuilder's
 * output, whichever param it made vary fastest), the space is one choice per param, ordered slowest
 * first, which the core's grid enumerates in exactly the maps' order (checked here, map by map);
 * otherwise it is one choice over the maps themselves. Either way a trial's point gives back the
 * index of its map, so nothing depends on values surviving a round trip through JSON.
 */
private[tuning] final class GridSpace private (
    val maps: Array[ParamMap],
    val spaceJson: String,
    val factorised: Boolean,
    digits: Seq[GridSpace.Digit]) {

  /** The point (label -> choice option index) of param map `index`: the inverse of [[indexOf]]. */
  def pointOf(index: Int): Map[String, Double] = {
    require(index >= 0 && index < maps.length, s"no param map $index among ${maps.length}")
    digits.map(d => d.label -> ((index / d.stride) % d.count).toDouble).toMap
  }

  /** The index of the param map of a trial at `point` (label -> choice option index). */
  def indexOf(point: Map[String, Double]): Int = {
    val index = digits.map { d =>
      val option = point.getOrElse(d.label,
        throw new IllegalStateException(s"grid trial without label '${d.label}' in its point $point"))
      option.toInt * d.stride
    }.sum
    require(index >= 0 && index < maps.length, s"grid point $point is outside the ${maps.length} param maps")
    index
  }
}

private[tuning] object GridSpace {

  /** The label of the choice over the maps when they are not a product. */
  val IndexLabel = "estimatorParamMaps"

  /** One choice of the grid: its option index weighs `stride` maps; it has `count` options. */
  final case class Digit(label: String, stride: Int, count: Int)

  def apply(maps: Array[ParamMap]): GridSpace = {
    require(maps.nonEmpty, "Validator requires non-empty estimatorParamMaps")
    val params = maps.toSeq.flatMap(_.toSeq.map(_.param.asInstanceOf[Param[Any]])).distinct
    val keys = keysOf(params)
    factorise(maps, params) match {
      case Some(factors) =>
        val dict = JsonCodec.obj()
        factors.foreach { case (param, values, _) =>
          val options = JsonCodec.factory.arrayNode()
          values.foreach(v => options.add(const(encode(param, v))))
          dict.set[ObjectNode](keys(param), choice(keys(param), options))
        }
        new GridSpace(maps, space(JsonCodec.obj().set[ObjectNode]("dict", dict)), factorised = true,
          factors.map { case (param, values, stride) => Digit(keys(param), stride, values.size) })
      case None =>
        val options = JsonCodec.factory.arrayNode()
        maps.foreach { map =>
          val dict = JsonCodec.obj()
          params.filter(map.contains).foreach(p => dict.set[ObjectNode](keys(p), const(encode(p, map(p)))))
          options.add(JsonCodec.obj().set[ObjectNode]("dict", dict))
        }
        new GridSpace(maps, space(choice(IndexLabel, options)), factorised = false,
          Seq(Digit(IndexLabel, 1, maps.length)))
    }
  }

  /**
   * (param, its distinct values, stride) slowest first, when the maps are exactly the product of the
   * params' values with the last param varying fastest; None otherwise.
   */
  private def factorise(maps: Array[ParamMap], params: Seq[Param[Any]])
      : Option[Seq[(Param[Any], IndexedSeq[Any], Int)]] = {
    val n = maps.length
    if (params.isEmpty || maps.exists(m => params.exists(p => !m.contains(p)))) return None
    val values: Map[Param[Any], IndexedSeq[Any]] = params.map { p =>
      (p, maps.foldLeft(Vector.empty[Any])((seen, m) => if (seen.exists(same(_, m(p)))) seen else seen :+ m(p)))
    }.toMap
    if (params.map(values(_).size.toLong).product != n.toLong) return None
    // A param keeps its first value for as many maps as all faster params have combinations.
    def period(p: Param[Any]): Int = maps.indexWhere(m => !same(m(p), maps(0)(p))) match {
      case -1 => n
      case i => i
    }
    val order = params.sortBy(p => -period(p))
    val strides = order.indices.map(i => order.drop(i + 1).map(values(_).size).product[Int])
    val factors = order.indices.map(i => (order(i), values(order(i)), strides(i)))
    val reproduces = maps.indices.forall { i =>
      factors.forall { case (p, vs, stride) => same(maps(i)(p), vs((i / stride) % vs.size)) }
    }
    if (reproduces) Some(factors) else None
  }

  private def same(a: Any, b: Any): Boolean = Objects.deepEquals(a, b)

  /** Each param's key in the values: its name, or parent.name where two stages share the name. */
  def keysOf(params: Seq[Param[_]]): Map[Param[_], String] = {
    val shared = params.groupBy(_.name).filter(_._2.size > 1).keySet
    params.map(p => p -> (if (shared.contains(p.name)) s"${p.parent}.${p.name}" else p.name)).toMap
  }

  /** The value as JSON through the param's own encoding; its text when the param cannot encode it. */
  private def encode(param: Param[Any], value: Any): JsonNode =
    try JsonCodec.parse(param.jsonEncode(value), s"param ${param.name}")
    catch { case NonFatal(_) => JsonCodec.factory.textNode(String.valueOf(value)) }

  private def const(value: JsonNode): ObjectNode = JsonCodec.obj().set[ObjectNode]("const", value)

  private def choice(label: String, options: ArrayNode): ObjectNode =
    JsonCodec.obj().put("hp", "choice").put("label", label).set[ObjectNode]("options", options)

  private def space(root: ObjectNode): String =
    JsonCodec.write(JsonCodec.obj().put("sparktune_space", 1).set[ObjectNode]("root", root))
}
