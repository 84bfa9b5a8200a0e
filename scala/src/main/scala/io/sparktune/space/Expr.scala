package io.sparktune.space

import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.{ArrayNode, ObjectNode}

import io.sparktune.JsonCodec

/**
 * A node of a search space (schema 1 of the contract): a constant, a dict, a list, or a
 * hyperparameter. Built with [[Hp]]; a whole space is a [[SearchSpace]]. Immutable.
 *
 * The rules of a space (low < high, q > 0, unique labels, ...) are checked by the native core when a
 * space is validated or a study created, so that every language gets the same errors; only what JSON
 * cannot carry (NaN, infinities, values of unknown types) is refused here, when the node is built.
 */
sealed trait Expr {

  /** The node's JSON (a fresh tree each call). */
  def toJsonNode: ObjectNode

  /** The node's JSON text. */
  def toJson: String = JsonCodec.write(toJsonNode)

  override def toString: String = toJson
}

object Expr {

  /** `{"const": value}`: any JSON value. */
  final case class Const(value: JsonNode) extends Expr {
    def toJsonNode: ObjectNode = JsonCodec.obj().set[ObjectNode]("const", value.deepCopy[JsonNode]())
  }

  /** `{"dict": {...}}`, keys in the given order (which is the labels' order, e.g. in a grid). */
  final case class Dict(entries: Seq[(String, Expr)]) extends Expr {
    def toJsonNode: ObjectNode = {
      val dict = JsonCodec.obj()
      entries.foreach { case (k, v) => dict.set[ObjectNode](k, v.toJsonNode) }
      JsonCodec.obj().set[ObjectNode]("dict", dict)
    }
  }

  /** `{"list": [...]}`. */
  final case class ListOf(items: Seq[Expr]) extends Expr {
    def toJsonNode: ObjectNode = JsonCodec.obj().set[ObjectNode]("list", array(items.map(_.toJsonNode)))
  }

  /**
   * A numeric hyperparameter with float arguments: `kind` is one of uniform, loguniform, quniform,
   * qloguniform, normal, lognormal, qnormal, qlognormal, uniformint; `args` its fields in order.
   */
  final case class Numeric(kind: String, label: String, args: Seq[(String, Double)]) extends Expr {
    args.foreach { case (name, x) => requireFinite(label, kind, name, x) }

    def toJsonNode: ObjectNode = {
      val node = hp(kind, label)
      args.foreach { case (name, x) => node.put(name, x) }
      node
    }
  }

  /** `randint`: an integer in [low, high). */
  final case class RandInt(label: String, low: Long, high: Long) extends Expr {
    def toJsonNode: ObjectNode = hp("randint", label).put("low", low).put("high", high)
  }

  /** `choice`: one of the options; labels inside an option are active only when it is chosen. */
  final case class Choice(label: String, options: Seq[Expr]) extends Expr {
    def toJsonNode: ObjectNode = hp("choice", label).set[ObjectNode]("options", array(options.map(_.toJsonNode)))
  }

  /** `pchoice`: one of the options, option i with probability p_i (the p sum to 1). */
  final case class PChoice(label: String, options: Seq[(Double, Expr)]) extends Expr {
    options.zipWithIndex.foreach { case ((p, _), i) => requireFinite(label, "pchoice", s"option $i: p", p) }

    def toJsonNode: ObjectNode = {
      val opts = options.map { case (p, value) => JsonCodec.obj().put("p", p).set[ObjectNode]("value", value.toJsonNode) }
      hp("pchoice", label).set[ObjectNode]("options", array(opts))
    }
  }

  /**
   * A Scala value as a node: an [[Expr]] as it is, a `Map[String, _]` (Scala or Java) as a dict, a
   * `Seq` (any Iterable, Array or java.util.List) as a list, `Some(x)` as x, everything else (null,
   * None, String, Char, Boolean, numbers, a Jackson JsonNode) as a const. Maps and lists are lifted
   * element by element, so they may hold hyperparameters.
   */
  def apply(value: Any): Expr = value match {
    case e: Expr => e
    case m: scala.collection.Map[_, _] => Dict(m.toSeq.map { case (k, v) => key(k) -> apply(v) })
    case m: java.util.Map[_, _] => Dict(m.asScala.toSeq.map { case (k, v) => key(k) -> apply(v) })
    case Some(x) => apply(x)
    case n: JsonNode => Const(n)
    case s: Iterable[_] => ListOf(s.toSeq.map(apply))
    case a: Array[_] => ListOf(a.toSeq.map(apply))
    case l: java.util.List[_] => ListOf(l.asScala.toSeq.map(apply))
    case other => Const(constValue(other))
  }

  /** Plain Scala data as a JSON value (Maps as objects, Seqs as arrays); no hyperparameters inside. */
  private[sparktune] def constValue(value: Any): JsonNode = {
    val f = JsonCodec.factory
    value match {
      case null | None => f.nullNode()
      case Some(x) => constValue(x)
      case n: JsonNode => n.deepCopy[JsonNode]()
      case s: String => f.textNode(s)
      case c: Char => f.textNode(c.toString)
      case b: Boolean => f.booleanNode(b)
      case i: Int => f.numberNode(i)
      case l: Long => f.numberNode(l)
      case s: Short => f.numberNode(s)
      case b: Byte => f.numberNode(b)
      case d: Double => requireFinite(null, "const", "value", d); f.numberNode(d)
      case x: Float => requireFinite(null, "const", "value", x.toDouble); f.numberNode(x)
      case b: BigInt => f.numberNode(b.bigInteger)
      case b: BigDecimal => f.numberNode(b.bigDecimal)
      case b: java.math.BigInteger => f.numberNode(b)
      case b: java.math.BigDecimal => f.numberNode(b)
      case e: Expr => throw new IllegalArgumentException(s"a const holds plain values, not the hyperparameter $e")
      case m: scala.collection.Map[_, _] =>
        val o = f.objectNode()
        m.foreach { case (k, v) => o.set[JsonNode](key(k), constValue(v)) }
        o
      case s: Iterable[_] => array(s.toSeq.map(constValue))
      case a: Array[_] => array(a.toSeq.map(constValue))
      case other =>
        throw new IllegalArgumentException(
          s"a search space cannot hold a ${other.getClass.getName} ($other): use numbers, strings, booleans, " +
            "null, Seq, Map[String, _] or Hp expressions")
    }
  }

  private def key(k: Any): String = k match {
    case s: String => s
    case other => throw new IllegalArgumentException(s"dict keys are strings, not ${if (other == null) "null" else other.getClass.getName} ($other)")
  }

  private def hp(kind: String, label: String): ObjectNode = {
    if (label == null) throw new IllegalArgumentException(s"the label of a $kind hyperparameter is null")
    JsonCodec.obj().put("hp", kind).put("label", label)
  }

  private def array(nodes: Seq[JsonNode]): ArrayNode = {
    val a = JsonCodec.factory.arrayNode()
    nodes.foreach(n => a.add(n))
    a
  }

  private def requireFinite(label: String, kind: String, name: String, x: Double): Unit =
    if (x.isNaN || x.isInfinite) {
      val where = if (label == null) kind else s"hyperparameter '$label' ($kind)"
      throw new IllegalArgumentException(s"$where: $name is $x: numbers must be finite (no NaN or infinity)")
    }
}
