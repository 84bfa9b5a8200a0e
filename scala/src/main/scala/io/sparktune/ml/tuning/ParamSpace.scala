package io.sparktune.ml.tuning

import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.ObjectNode
import org.apache.spark.ml.param.Param

import io.sparktune.JsonCodec
import io.sparktune.space.Expr

/**
 * A search space over Spark params: each param of a stage of the estimator is bound to a sparktune
 * expression, e.g.
 * {{{
 *   ParamSpace()
 *     .add(lr.regParam, Hp.loguniform("regParam", math.log(1e-4), 0.0))
 *     .add(lr.elasticNetParam, Hp.choice("elasticNet", 0.0, 0.5, 1.0))
 * }}}
 * The bindings form the space `{"dict": {label: expression, ...}}` that the core samples; a trial's
 * values are then read back by label, converted to each param's type. An expression without a label
 * takes the param's name; labels must be unique. Immutable: `add` returns a new space.
 *
 * Params are kept by (parent uid, name), which is how Spark compares params, so a space can also be
 * built from Python with the stage's uid and the param's name, without a Java Param object at hand.
 */
final class ParamSpace private (val bindings: Vector[ParamSpace.Binding]) extends Serializable {

  /** An empty space (for py4j: `jvm.io.sparktune.ml.tuning.ParamSpace()`). */
  def this() = this(Vector.empty)

  /** Binds `param` to `expr`. */
  def add(param: Param[_], expr: Expr): ParamSpace =
    bind(param.parent, param.name, ParamSpace.exprNode(expr))

  /** Binds `param` to a schema-1 NODE (or a whole space, whose root is taken) given as JSON. */
  def add(param: Param[_], nodeJson: String): ParamSpace = add(param.parent, param.name, nodeJson)

  /** Binds param `paramName` of the stage with uid `stageUid` to a schema-1 NODE given as JSON. */
  def add(stageUid: String, paramName: String, nodeJson: String): ParamSpace =
    bind(stageUid, paramName, ParamSpace.nodeOf(JsonCodec.parse(nodeJson, s"space of param $stageUid.$paramName")))

  private[tuning] def bind(stageUid: String, paramName: String, node: ObjectNode): ParamSpace = {
    require(stageUid != null && paramName != null, "ParamSpace.add: the stage uid and param name are required")
    val binding = ParamSpace.Binding(stageUid, paramName, ParamSpace.withLabel(node, paramName))
    bindings.find(b => b.stageUid == stageUid && b.paramName == paramName).foreach { _ =>
      throw new IllegalArgumentException(s"param ${binding.paramId} is bound twice in the search space")
    }
    bindings.find(_.label == binding.label).foreach { other =>
      throw new IllegalArgumentException(s"label '${binding.label}' is used by both param ${other.paramId} and " +
        s"param ${binding.paramId}: labels in a search space must be unique")
    }
    new ParamSpace(bindings :+ binding)
  }

  /** The labels, in binding order. */
  def labels: Seq[String] = bindings.map(_.label)

  /** The labels as a Java list (py4j). */
  def labelList: java.util.List[String] = labels.asJava

  /** Whether nothing is bound. */
  def isEmpty: Boolean = bindings.isEmpty

  /** The schema-1 space the core samples: `{"dict": {label: node, ...}}` in binding order. */
  def toJson: String = {
    val dict = JsonCodec.obj()
    bindings.foreach(b => dict.set[ObjectNode](b.label, b.node))
    JsonCodec.write(JsonCodec.obj().put("sparktune_space", 1)
      .set[ObjectNode]("root", JsonCodec.obj().set[ObjectNode]("dict", dict)))
  }

  /**
   * The bindings as JSON, `[{"stage": uid, "param": name, "label": label, "space": NODE}, ...]`: what
   * [[ParamSpace.fromJson]] reads (the label is for information; the node carries it).
   */
  def bindingsJson: String = {
    val array = JsonCodec.factory.arrayNode()
    bindings.foreach { b =>
      array.add(JsonCodec.obj().put("stage", b.stageUid).put("param", b.paramName).put("label", b.label)
        .set[ObjectNode]("space", b.node))
    }
    JsonCodec.write(array)
  }

  override def toString: String = s"ParamSpace(${bindings.map(b => s"${b.paramId} -> ${b.label}").mkString(", ")})"
}

object ParamSpace {

  /** One param bound to a NODE; its value in a trial's values is found under `label`. */
  final case class Binding(stageUid: String, paramName: String, node: ObjectNode) {
    /** The hp node's label, else the param's name (a const, dict or list node has no label of its own). */
    val label: String = Option(node.get("label")).filter(_ => node.has("hp")).map(_.asText).getOrElse(paramName)
    def paramId: String = s"$stageUid.$paramName"
  }

  /** An empty space. */
  def apply(): ParamSpace = new ParamSpace()

  /**
   * A space from its bindings as JSON, `[{"stage": uid, "param": name, "space": NODE}, ...]` (one call
   * from Python: the stage uids and param names of the estimator, the nodes of `sparktune.space.hp`).
   */
  def fromJson(bindingsJson: String): ParamSpace = {
    val json = JsonCodec.parse(bindingsJson, "ParamSpace bindings")
    require(json.isArray, s"ParamSpace bindings are a JSON array of {stage, param, space}, not $json")
    json.elements.asScala.zipWithIndex.foldLeft(ParamSpace()) { case (space, (b, i)) =>
      def field(name: String): JsonNode = Option(b.get(name)).getOrElse(
        throw new IllegalArgumentException(s"ParamSpace binding $i has no '$name': $b"))
      space.bind(field("stage").asText, field("param").asText, nodeOf(field("space")))
    }
  }

  private def exprNode(expr: Expr): ObjectNode = expr.toJsonNode

  /** The NODE of `json`: a whole space's root, or the node itself. */
  private def nodeOf(json: JsonNode): ObjectNode = {
    val node = if (json.has("sparktune_space")) json.get("root") else json
    node match {
      case o: ObjectNode => o.deepCopy()
      case other => throw new IllegalArgumentException(s"a search space node is a JSON object, not $other")
    }
  }

  /** An hp node without a label (or with an empty one) takes the param's name. */
  private def withLabel(node: ObjectNode, paramName: String): ObjectNode = {
    val label = node.get("label")
    if (node.has("hp") && (label == null || label.isNull || label.asText.isEmpty)) node.put("label", paramName)
    node
  }
}
