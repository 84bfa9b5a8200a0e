package io.sparktune.ml.tuning

import scala.collection.mutable

import org.apache.spark.ml.{Estimator, Pipeline}
import org.apache.spark.ml.param.{Param, ParamMap}

/**
 * One entry of avgMetrics: its trial (none for a grid map whose trial was cancelled), average (NaN
 * unless the trial is ok), fold metrics (NaN where missing) and their std.
 */
private[tuning] final case class Entry(trial: Option[CoreTrial], value: Double, folds: Array[Double]) {
  /** Population standard deviation over the folds, as numpy's std (PySpark's stdMetrics). */
  def std: Double = {
    val d = folds.map(x => (x - value) * (x - value))
    math.sqrt(d.sum / folds.length)
  }
}

/** A search: the space told to the core, and how its trials become param maps and avgMetrics. */
private[tuning] sealed trait Search {
  def spaceJson: String
  def sampler: String
  /** The number of trials of the whole search (for progress). */
  def total: Int
  def maxNewTrials(previous: Int): Int
  /** Where the next trial comes from, given the trials the study had before this fit. */
  def asker(study: CoreStudy, earlier: Seq[CoreTrial]): () => Option[CoreTrial] = () => study.ask()
  def paramMapOf(trial: CoreTrial): Either[String, ParamMap]
  /** The uids of the stages whose params a trial sets, and of the stages a stage choice replaces. */
  def tunedStages: Set[String]
  /** avgMetrics' entries from the study's trials. */
  def entries(trials: Seq[CoreTrial], numFolds: Int): Seq[Entry]

  protected def entry(t: CoreTrial, numFolds: Int): Entry = {
    val folds = Array.tabulate(numFolds)(i => t.metrics.getOrElse(s"fold_$i", Double.NaN))
    Entry(Some(t), if (t.state == "ok") t.value.getOrElse(Double.NaN) else Double.NaN, folds)
  }
}

/** Grid mode: trial i of a fresh study is map i; a resumed grid finds each trial's map by its point. */
private[tuning] final class GridSearch(val space: GridSpace, estimator: Estimator[_]) extends Search {
  Search.checkParams(estimator, space.maps.toSeq.flatMap(_.toSeq.map(_.param)).distinct, "estimatorParamMaps")

  def spaceJson: String = space.spaceJson
  def sampler: String = "grid"
  def total: Int = space.maps.length
  def maxNewTrials(previous: Int): Int = Int.MaxValue // the core's grid ends the search
  def paramMapOf(trial: CoreTrial): Either[String, ParamMap] = Right(space.maps(space.indexOf(trial.point)))
  def tunedStages: Set[String] = space.maps.iterator.flatMap(_.toSeq.map(_.param.parent)).toSet

  /**
   * The core's grid, then the maps it will not give again: those whose trial a stopped process left
   * running (cancelled when the store was reopened), started at their points.
   */
  override def asker(study: CoreStudy, earlier: Seq[CoreTrial]): () => Option[CoreTrial] = {
    val covered = mutable.Set.empty[Int] ++
      earlier.filter(t => Search.Counted(t.state)).map(t => space.indexOf(t.point))
    var gridDone = false
    () => {
      val asked = if (gridDone) None else study.ask()
      asked match {
        case Some(t) =>
          covered += space.indexOf(t.point)
          asked
        case None =>
          gridDone = true
          space.maps.indices.find(i => !covered(i)).map { i =>
            covered += i
            study.enqueue(space.pointOf(i))
          }
      }
    }
  }

  def entries(trials: Seq[CoreTrial], numFolds: Int): Seq[Entry] = {
    val slots = Array.fill[Option[CoreTrial]](space.maps.length)(None)
    trials.filter(t => Search.Counted(t.state)).foreach { t =>
      val i = space.indexOf(t.point)
      if (slots(i).forall(_.state != "ok")) slots(i) = Some(t)
    }
    slots.toSeq.map {
      case Some(t) => entry(t, numFolds)
      case None => Entry(None, Double.NaN, Array.fill(numFolds)(Double.NaN)) // its trial was cancelled
    }
  }
}

/** Search-space mode: the bindings' values, converted to their params' types. */
private[tuning] final class SpaceSearch(paramSpace: ParamSpace, estimator: Estimator[_], maxTrials: Int,
    val sampler: String) extends Search {
  require(!paramSpace.isEmpty, "searchSpace binds no param")

  /** Each binding with its param, found among the estimator's stages. */
  private val params: Seq[(ParamSpace.Binding, Param[Any])] = {
    val stages = Stages.all(estimator)
    paramSpace.bindings.map { b =>
      val stage = stages.find(s => s.uid == b.stageUid && s.hasParam(b.paramName)).getOrElse(
        throw new IllegalArgumentException(s"searchSpace binds param ${b.paramId} (label '${b.label}'), " +
          Search.nowhere(estimator, stages, b.stageUid, b.paramName)))
      (b, stage.getParam(b.paramName).asInstanceOf[Param[Any]])
    }
  }

  /** Each stage choice: the Pipeline holding its slot, and each option's bindings with their params. */
  private val choices: Seq[(ParamSpace.StageChoice, Pipeline, Seq[Seq[(ParamSpace.Binding, Param[Any])]])] = {
    val stages = Stages.all(estimator)
    paramSpace.choices.map { c =>
      val pipeline = stages.collectFirst {
        case p: Pipeline if p.isDefined(p.stages) && p.getStages.exists(_.uid == c.slotUid) => p
      }.getOrElse(throw new IllegalArgumentException(s"stage choice '${c.label}' replaces stage ${c.slotUid}, " +
        s"which is no stage of a Pipeline of the estimator ${estimator.uid} (its stages: " +
        s"${stages.map(_.uid).mkString(", ")}); put the estimator in a Pipeline to choose it"))
      val options = c.options.map { case (stage, space) =>
        val own = Stages.all(stage)
        space.bindings.map { b =>
          val holder = own.find(s => s.uid == b.stageUid && s.hasParam(b.paramName)).getOrElse(
            throw new IllegalArgumentException(s"stage choice '${c.label}': option ${stage.uid} " +
              s"(${stage.getClass.getSimpleName}) has no param '${b.paramName}'"))
          (b, holder.getParam(b.paramName).asInstanceOf[Param[Any]])
        }
      }
      (c, pipeline, options)
    }
  }

  def spaceJson: String = paramSpace.toJson
  def total: Int = maxTrials
  def maxNewTrials(previous: Int): Int = math.max(0, maxTrials - previous)
  def tunedStages: Set[String] = params.map(_._2.parent).toSet ++ choices.map(_._1.slotUid)

  def paramMapOf(trial: CoreTrial): Either[String, ParamMap] = {
    def convert(values: com.fasterxml.jackson.databind.JsonNode, bound: Seq[(ParamSpace.Binding, Param[Any])]) =
      bound.map { case (b, param) =>
        val json = Option(values.get(b.label)).getOrElse(throw new IllegalStateException(
          s"trial ${trial.id}: label '${b.label}' of param ${b.paramId} is missing from its values $values"))
        (param, ParamValues.convert(param, b.label, json))
      }
    val values = trial.values
    val chosen = choices.map { case (c, pipeline, options) =>
      val index = trial.point.getOrElse(c.label, throw new IllegalStateException(
        s"trial ${trial.id}: stage choice '${c.label}' is missing from its point ${trial.point}")).toInt
      val stage = c.options(index)._1
      val replaced = pipeline.getStages.map(s => if (s.uid == c.slotUid) stage else s)
      (pipeline.stages.asInstanceOf[Param[Any]], replaced: Any) +: convert(values.get(c.label), options(index))
    }
    val converted = convert(values, params) ++ chosen.flatten
    converted.flatMap { case (p, v) => ParamValues.invalid(p, v) }.headOption match {
      case Some(reason) => Left(reason)
      case None =>
        val map = ParamMap.empty
        converted.foreach { case (p, v) => map.put(p, v) }
        Right(map)
    }
  }

  def entries(trials: Seq[CoreTrial], numFolds: Int): Seq[Entry] =
    trials.filter(t => Search.Counted(t.state)).map(t => entry(t, numFolds))
}

private[tuning] object Search {
  /** Trial states that count as run: a resumed search runs maxTrials minus these. */
  val Counted = Set("ok", "fail", "pruned")

  /** Each param must belong to a stage of the estimator (else it would be silently ignored by the fit). */
  def checkParams(estimator: Estimator[_], params: Seq[Param[_]], where: String): Unit = {
    val stages = Stages.all(estimator)
    params.find(p => !stages.exists(s => s.uid == p.parent && s.hasParam(p.name))).foreach { p =>
      throw new IllegalArgumentException(s"$where sets param ${p.parent}.${p.name}, " +
        nowhere(estimator, stages, p.parent, p.name))
    }
  }

  /** The end of the message for a param found on no stage: which stages there are. */
  def nowhere(estimator: Estimator[_], stages: Seq[org.apache.spark.ml.param.Params], uid: String,
      name: String): String = {
    val why = stages.find(_.uid == uid) match {
      case Some(stage) => s"but stage $uid (${stage.getClass.getSimpleName}) has no param '$name'"
      case None => s"which belongs to no stage of the estimator ${estimator.uid}"
    }
    val kind = if (estimator.isInstanceOf[Pipeline]) "pipeline stages" else "stages"
    s"$why (its $kind: ${stages.map(_.uid).mkString(", ")})"
  }
}
