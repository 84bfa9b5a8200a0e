package io.sparktune.space

import scala.jdk.CollectionConverters._
import scala.language.implicitConversions

import com.fasterxml.jackson.databind.JsonNode

import io.sparktune.JsonCodec
import io.sparktune.jni.Native

/**
 * A whole search space: `{"sparktune_space": 1, "root": NODE}`, built from an [[Expr]] (see [[Hp]])
 * or taken as JSON text (e.g. from Python's `sparktune.space.hp`). Its rules are checked by the native
 * core, by [[validate]] or when a study is created from it: a broken rule is an
 * IllegalArgumentException naming the label (or the JSON path when there is none) and the rule.
 *
 * A String or an Expr converts implicitly where a SearchSpace is expected, so that
 * `Study.create(spaceJson)` and `Study.create(Hp.uniform("x", 0, 1))` both read naturally.
 */
final class SearchSpace private (json: String) {

  /** The space's JSON text (for a space given as JSON: that text, unchanged). */
  def toJson: String = json

  /** The space's labels in first-appearance order; throws IllegalArgumentException if a rule is broken. */
  def labels: Seq[String] = {
    val answer = JsonCodec.parse(new Native().validateSpace(json), "validateSpace's answer")
    answer.get("labels").elements.asScala.map(_.asText).toVector
  }

  /** Checks every rule of the space in the native core; this space, or IllegalArgumentException. */
  def validate(): SearchSpace = {
    labels
    this
  }

  /**
   * The space evaluated at a raw point (hyperopt's `space_eval`): label -> number for the active
   * labels (a choice's option index, an integer's value, a float's value).
   */
  def eval(point: Map[String, Double]): JsonNode = {
    val p = JsonCodec.obj()
    point.foreach { case (label, x) =>
      if (x.isNaN || x.isInfinite) throw new IllegalArgumentException(s"point: label '$label' is $x, not a finite number")
      // Whole numbers go as JSON integers: choices and integer kinds take indices and integers.
      if (x.isWhole && math.abs(x) < 9.007199254740992e15) p.put(label, x.toLong) else p.put(label, x)
    }
    JsonCodec.parse(new Native().spaceEval(json, JsonCodec.write(p)), "spaceEval's answer")
  }

  override def toString: String = json

  override def equals(other: Any): Boolean = other match {
    case s: SearchSpace => s.toJson == json
    case _ => false
  }

  override def hashCode: Int = json.hashCode
}

object SearchSpace {

  /** The schema version this API writes. */
  val SchemaVersion: Int = 1

  /** The space whose root is `root`. */
  def apply(root: Expr): SearchSpace = {
    val doc = JsonCodec.obj().put("sparktune_space", SchemaVersion)
    doc.set[JsonNode]("root", root.toJsonNode)
    new SearchSpace(JsonCodec.write(doc))
  }

  /** The space whose root is a dict of these entries (`Map[String, _]`, see [[Expr.apply]]). */
  def apply(root: Map[String, Any]): SearchSpace = apply(Expr(root))

  /**
   * A space given as JSON text. Only its syntax is checked here (one JSON object); its rules are the
   * core's, at [[SearchSpace.validate]] or study creation, so that the messages are the same everywhere.
   */
  def fromJson(json: String): SearchSpace = {
    val node = JsonCodec.parse(json, "search space")
    if (!node.isObject) {
      throw new IllegalArgumentException(
        s"search space: a JSON object {\"sparktune_space\": 1, \"root\": ...} is expected, not ${node.getNodeType}")
    }
    new SearchSpace(json)
  }

  /** JSON text where a SearchSpace is expected, as [[fromJson]]. */
  implicit def fromJsonText(json: String): SearchSpace = fromJson(json)

  /** An Expr where a SearchSpace is expected: the space with that root. */
  implicit def fromExpr(root: Expr): SearchSpace = apply(root)
}
