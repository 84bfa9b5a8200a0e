package io.sparktune.ml.tuning

import scala.collection.mutable
import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.ObjectNode
import org.apache.spark.ml.PipelineStage
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
 *
 * Model selection: a stage of a Pipeline can be chosen among alternatives, each with its own params
 * (a conditional space: an option's params are drawn only when it is chosen):
 * {{{
 *   val pipe = new Pipeline().setStages(Array(assembler, lr)) // lr: the stage the search replaces
 *   ParamSpace()
 *     .addStageChoice(lr, "classifier",
 *       lr -> ParamSpace().add(lr.regParam, Hp.loguniform("lr.regParam", math.log(1e-4), 0.0)),
 *       rf -> ParamSpace().add(rf.numTrees, Hp.uniformint("rf.numTrees", 10, 100)),
 *       gbt -> ParamSpace().add(gbt.maxDepth, Hp.randint("gbt.maxDepth", 2, 6)))
 * }}}
 * The choice is one `hp.choice` of the core over the options' dicts, so TPE models each option's
 * params on the trials where it was chosen.
 */
final class ParamSpace private (val bindings: Vector[ParamSpace.Binding], val choices: Vector[ParamSpace.StageChoice])
    extends Serializable {

  /** An empty space (for py4j: `jvm.io.sparktune.ml.tuning.ParamSpace()`). */
  def this() = this(Vector.empty, Vector.empty)

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
    checkLabel(binding.label, s"param ${binding.paramId}")
    new ParamSpace(bindings :+ binding, choices)
  }

  private def checkLabel(label: String, what: String): Unit = {
    val users = bindings.map(b => b.label -> s"param ${b.paramId}") ++ choices.flatMap { c =>
      (c.label -> s"the stage choice '${c.label}'") +: c.options.flatMap(_._2.bindings.map(b =>
        b.label -> s"param ${b.paramId}"))
    }
    users.find(_._1 == label).foreach { case (_, other) =>
      throw new IllegalArgumentException(s"label '$label' is used by both $other and $what: labels in a " +
        "search space must be unique")
    }
  }

  /**
   * Chooses the stage `slot` of a Pipeline of the estimator among `options`, each a stage with the
   * space of its own params (empty for none): each trial fits the pipeline with `slot` replaced by
   * the chosen stage, set to the drawn params. `label` names the choice in the trials' values.
   */
  def addStageChoice(slot: PipelineStage, label: String, options: (PipelineStage, ParamSpace)*): ParamSpace = {
    require(slot != null && label != null, "addStageChoice: the slot stage and the label are required")
    if (options.isEmpty) throw new IllegalArgumentException(s"stage choice '$label' has no options")
    options.foreach { case (stage, space) =>
      require(stage != null && space != null, s"stage choice '$label': an option's stage or space is null")
      if (space.choices.nonEmpty) {
        throw new IllegalArgumentException(s"stage choice '$label': the space of option ${stage.uid} holds a " +
          "stage choice of its own; choices do not nest")
      }
      space.bindings.foreach { b =>
        if (b.stageUid != stage.uid) {
          throw new IllegalArgumentException(s"stage choice '$label': the option ${stage.uid} binds param " +
            s"${b.paramId}, which is not one of its own")
        }
      }
    }
    if (choices.exists(_.slotUid == slot.uid)) {
      throw new IllegalArgumentException(s"stage ${slot.uid} is chosen twice in the search space")
    }
    checkLabel(label, s"the stage choice '$label'")
    val seen = mutable.Set(label)
    options.flatMap(_._2.bindings).foreach { b =>
      checkLabel(b.label, s"param ${b.paramId}")
      if (!seen.add(b.label)) {
        throw new IllegalArgumentException(s"label '${b.label}' is used twice in stage choice '$label': labels " +
          "in a search space must be unique")
      }
    }
    new ParamSpace(bindings, choices :+ ParamSpace.StageChoice(slot.uid, label, options.toVector))
  }

  /** [[addStageChoice]] for py4j: the options' stages, and each one's bindings as in [[ParamSpace.fromJson]]. */
  def addStageChoice(slotUid: String, label: String, stages: java.util.List[PipelineStage],
      bindingsJson: java.util.List[String]): ParamSpace = {
    require(stages.size == bindingsJson.size, s"stage choice '$label': ${stages.size} stages but " +
      s"${bindingsJson.size} spaces")
    val options = stages.asScala.zip(bindingsJson.asScala.map(ParamSpace.fromJson)).toSeq
    val slot = options.map(_._1).find(_.uid == slotUid).getOrElse(new SlotStage(slotUid))
    addStageChoice(slot, label, options: _*)
  }

  /** The labels, in binding order, then the stage choices' (each with its options' labels). */
  def labels: Seq[String] =
    bindings.map(_.label) ++ choices.flatMap(c => c.label +: c.options.flatMap(_._2.bindings.map(_.label)))

  /** The labels as a Java list (py4j). */
  def labelList: java.util.List[String] = labels.asJava

  /** Whether nothing is bound. */
  def isEmpty: Boolean = bindings.isEmpty && choices.isEmpty

  /**
   * The schema-1 space the core samples: `{"dict": {label: node, ...}}` in binding order, then each
   * stage choice as `label: {"hp": "choice", "options": [{"dict": {option's labels: nodes}}, ...]}`.
   */
  def toJson: String =
    JsonCodec.write(JsonCodec.obj().put("sparktune_space", 1).set[ObjectNode]("root", rootNode))

  private def rootNode: ObjectNode = {
    val dict = JsonCodec.obj()
    bindings.foreach(b => dict.set[ObjectNode](b.label, b.node))
    choices.foreach { c =>
      val options = JsonCodec.factory.arrayNode()
      c.options.foreach { case (_, space) => options.add(space.rootNode) }
      dict.set[ObjectNode](c.label, JsonCodec.obj().put("hp", "choice").put("label", c.label)
        .set[ObjectNode]("options", options))
    }
    JsonCodec.obj().set[ObjectNode]("dict", dict)
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

  override def toString: String = {
    val choiceText = choices.map(c => s"${c.slotUid} -> ${c.label}(${c.options.map(_._1.uid).mkString(" | ")})")
    s"ParamSpace(${(bindings.map(b => s"${b.paramId} -> ${b.label}") ++ choiceText).mkString(", ")})"
  }
}

/** The slot of a stage choice known only by its uid (from Python, when no option is the slot itself). */
private[tuning] final class SlotStage(override val uid: String) extends PipelineStage {
  override def transformSchema(schema: org.apache.spark.sql.types.StructType) = schema
  override def copy(extra: org.apache.spark.ml.param.ParamMap): SlotStage = this
}

object ParamSpace {

  /** One param bound to a NODE; its value in a trial's values is found under `label`. */
  final case class Binding(stageUid: String, paramName: String, node: ObjectNode) {
    /** The hp node's label, else the param's name (a const, dict or list node has no label of its own). */
    val label: String = Option(node.get("label")).filter(_ => node.has("hp")).map(_.asText).getOrElse(paramName)
    def paramId: String = s"$stageUid.$paramName"
  }

  /** A stage of a Pipeline (`slotUid`) chosen among `options`, each with its own space. */
  final case class StageChoice(slotUid: String, label: String, options: Vector[(PipelineStage, ParamSpace)])

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
