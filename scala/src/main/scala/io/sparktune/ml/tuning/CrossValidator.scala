package io.sparktune.ml.tuning

import java.util.Locale

import scala.collection.mutable

import org.apache.spark.ml.{Estimator, Model}
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param.{Param, ParamMap}
import org.apache.spark.ml.util.Identifiable
import org.apache.spark.sql.Dataset
import org.apache.spark.sql.types.{IntegerType, StructType}
import org.apache.spark.storage.StorageLevel
import org.apache.spark.ml.util.{MLReadable, MLReader, MLWritable, MLWriter}

import io.sparktune.ml.tuning.persistence.{CrossValidatorReadWrite, TunerWriter}

/**
 * K-fold cross validation as Spark's `org.apache.spark.ml.tuning.CrossValidator` (same params, same
 * folds, same averages), with the search driven by sparktune's core:
 *  - grid mode (`estimatorParamMaps`): the maps are told to the core as a grid and evaluated in
 *    their given order; `avgMetrics` equal Spark's on the same maps, folds and seed;
 *  - random mode (`searchSpace`): `maxTrials` trials sampled by the core from a [[ParamSpace]].
 * Every (trial, fold) pair is a task of its own on `parallelism` threads, with no wait at the end of
 * a fold; each trial's jobs run in the job group `sparktune-<uid>-trial-<id>`. With `trialStore`,
 * trials are journaled and a later fit resumes from the journal.
 */
class CrossValidator(override val uid: String) extends Estimator[CrossValidatorModel] with CrossValidatorParams
  with MLWritable {

  def this() = this(Identifiable.randomUID("cv"))

  /** @group setParam */
  def setEstimator(value: Estimator[_]): this.type = set(estimator, value)

  /** @group setParam */
  def setEstimatorParamMaps(value: Array[ParamMap]): this.type = set(estimatorParamMaps, value)

  /** @group setParam */
  def setEvaluator(value: Evaluator): this.type = set(evaluator, value)

  /** @group setParam */
  def setNumFolds(value: Int): this.type = set(numFolds, value)

  /** @group setParam */
  def setFoldCol(value: String): this.type = set(foldCol, value)

  /** @group setParam */
  def setSeed(value: Long): this.type = set(seed, value)

  /** @group expertSetParam */
  def setParallelism(value: Int): this.type = set(parallelism, value)

  /** @group setParam */
  def setSearchSpace(value: ParamSpace): this.type = set(searchSpace, value)

  /** @group setParam */
  def setMaxTrials(value: Int): this.type = set(maxTrials, value)

  /** @group setParam */
  def setTrialStore(value: String): this.type = set(trialStore, value)

  /** @group expertSetParam */
  def setFoldSplit(value: String): this.type = set(foldSplit, value.toLowerCase(Locale.ROOT))

  /** The job group of a trial's Spark jobs (for `SparkContext.cancelJobGroup`). */
  def jobGroup(trialId: Long): String = s"sparktune-$uid-trial-$trialId"

  override def fit(dataset: Dataset[_]): CrossValidatorModel = {
    transformSchema(dataset.schema, logging = true)
    val est = $(estimator)
    val eval = $(evaluator)
    val search = plan()
    val metric = CrossValidator.metricName(eval)
    val direction = if (eval.isLargerBetter) "maximize" else "minimize"
    val store = Option($(trialStore)).filter(_.nonEmpty)
    val study = CoreStudy.open(search.spaceJson, search.sampler, $(seed), direction, store)
    try {
      study.warnings.foreach(w => log.warn(w))
      val earlier = study.trials // those of a resumed store
      val previous = earlier.count(t => CrossValidator.Counted(t.state))
      if (previous > 0) log.info(s"resuming from ${store.getOrElse("")}: $previous finished trials")
      val progress = new Progress(search.total, previous, metric, eval.isLargerBetter,
        earlier.filter(_.state == "ok").flatMap(_.value))

      val folds = new FoldCache(dataset)
      try {
        new TrialRunner(
          sc = dataset.sparkSession.sparkContext,
          folds = () => folds.get,
          numFolds = $(numFolds),
          estimator = est,
          evaluator = eval,
          parallelism = $(parallelism),
          maxNewTrials = search.maxNewTrials(previous),
          jobGroup = jobGroup,
          ask = search.asker(study, earlier),
          paramMapOf = search.paramMapOf,
          onFinish = { result =>
            study.tell(result)
            progress.finished(result)
          },
          tellCancelled = study.tellCancelled,
          log = log).run()
      } finally folds.release()

      val trials = study.trials
      val entries = search.entries(trials, $(numFolds))
      val scored = entries.zipWithIndex.filter { case (e, _) => !e.value.isNaN }
      if (scored.isEmpty) {
        val why = trials.find(_.error.isDefined).map(t => s"; trial ${t.id}: ${t.error.get}").getOrElse("")
        throw new IllegalStateException(s"CrossValidator $uid: no trial succeeded (${trials.size} trials)$why")
      }
      // The first best, as Spark's maxBy/minBy pick it.
      val (best, bestIndex) = if (eval.isLargerBetter) scored.maxBy(_._1.value) else scored.minBy(_._1.value)
      val bestTrial = best.trial.get // a finite average comes from an ok trial
      val bestParams = search.paramMapOf(bestTrial).fold(r => throw new IllegalStateException(r), identity)
      log.info(s"best trial ${bestTrial.id}: $metric ${best.value} with ${bestTrial.values}; refitting")
      val bestModel = est.fit(dataset, bestParams).asInstanceOf[Model[_]]
      val model = new CrossValidatorModel(uid, bestModel,
        avgMetrics = entries.map(_.value).toArray,
        stdMetrics = entries.map(_.std).toArray,
        foldMetrics = entries.map(_.folds).toArray,
        bestIndex = bestIndex,
        bestParams = bestParams,
        trialIds = entries.map(_.trial.fold(-1L)(_.id)).toArray,
        trials = study.publicTrials,
        trialsJson = study.trialsJson)
      copyValues(model).setParent(this)
    } finally study.close()
  }

  override def transformSchema(schema: StructType): StructType = {
    if ($(foldCol) != "") {
      val foldColDt = schema($(foldCol)).dataType
      require(foldColDt.isInstanceOf[IntegerType],
        s"The specified `foldCol` column ${$(foldCol)} must be integer type, but got $foldColDt.")
    }
    val est = $(estimator)
    plan() match {
      case grid: GridSearch =>
        // As Spark's ValidatorParams.transformSchemaImpl: every map must fit the schema.
        grid.space.maps.tail.foreach(map => est.copy(map).transformSchema(schema))
        est.copy(grid.space.maps.head).transformSchema(schema)
      case _ => est.transformSchema(schema)
    }
  }

  override def copy(extra: ParamMap): CrossValidator = {
    val copied = defaultCopy(extra).asInstanceOf[CrossValidator]
    if (copied.isDefined(estimator)) copied.setEstimator(copied.getEstimator.copy(extra))
    if (copied.isDefined(evaluator)) copied.setEvaluator(copied.getEvaluator.copy(extra))
    copied
  }

  /** Saves as Spark saves its CrossValidator (persistence/TunerReadWrite.scala). */
  override def write: MLWriter = new TunerWriter(this)

  /** Which search the params ask for; the errors name what is wrong, before any Spark job runs. */
  private def plan(): Search = (isDefined(estimatorParamMaps), isDefined(searchSpace)) match {
    case (true, true) => throw new IllegalArgumentException(s"CrossValidator $uid: set either " +
      "estimatorParamMaps (a grid search) or searchSpace (a random search), not both")
    case (false, false) => throw new IllegalArgumentException(s"CrossValidator $uid: set estimatorParamMaps " +
      "(a grid search) or searchSpace (a random search)")
    case (true, false) => new GridSearch(GridSpace($(estimatorParamMaps)))
    case (false, true) => new RandomSearch($(searchSpace), $(estimator), $(maxTrials))
  }

  /** The folds, drawn and persisted on first use (a resumed search with nothing left draws none). */
  private final class FoldCache(dataset: Dataset[_]) {
    private var folds: Option[IndexedSeq[Fold]] = None

    def get: IndexedSeq[Fold] = synchronized {
      folds.getOrElse {
        val drawn = $(foldSplit) match {
          case CrossValidatorParams.ScalaSplit => Folds.scala(dataset, $(numFolds), $(seed), $(foldCol))
          case _ => Folds.pyspark(dataset, $(numFolds), $(seed), $(foldCol), uid)
        }
        val level = StorageLevel.MEMORY_AND_DISK
        val persisted = drawn.map(f => Fold(f.training.persist(level), f.validation.persist(level))).toIndexedSeq
        folds = Some(persisted)
        // Materialised now, before the tasks share them, and checked as PySpark checks its folds.
        persisted.zipWithIndex.foreach { case (fold, i) =>
          val (nTrain, nValid) = (fold.training.count(), fold.validation.count())
          if (nTrain == 0) throw new IllegalArgumentException(s"The training data at fold $i is empty.")
          if (nValid == 0) throw new IllegalArgumentException(s"The validation data at fold $i is empty.")
          log.info(s"fold $i: $nTrain training rows, $nValid validation rows")
        }
        persisted
      }
    }

    def release(): Unit = synchronized {
      folds.foreach(_.foreach { f => f.training.unpersist(); f.validation.unpersist() })
    }
  }

  /** Logs each finished trial with the best so far. */
  private final class Progress(total: Int, previous: Int, metric: String, larger: Boolean, earlier: Seq[Double]) {
    private var done = previous
    private var best: Option[Double] = earlier.reduceOption((a, b) => if (larger) math.max(a, b) else math.min(a, b))

    def finished(r: TrialResult): Unit = {
      if (CrossValidator.Counted(r.state)) done += 1
      r.value.foreach(v => best = Some(best.fold(v)(b => if (larger) math.max(b, v) else math.min(b, v))))
      val bestText = best.map(b => s" (best ${CrossValidator.fmt(b)})").getOrElse("")
      r.value match {
        case Some(v) => log.info(s"trial $done/$total done: $metric ${CrossValidator.fmt(v)}$bestText")
        case None if r.state == "cancelled" => log.warn(s"trial ${r.id} cancelled: ${r.error.getOrElse("")}")
        case None => log.warn(s"trial $done/$total failed (trial ${r.id}): ${r.error.getOrElse("")}$bestText")
      }
    }
  }
}

object CrossValidator extends MLReadable[CrossValidator] {
  override def read: MLReader[CrossValidator] = CrossValidatorReadWrite.reader

  override def load(path: String): CrossValidator = super.load(path)

  /** Trial states that count as run: a resumed random search runs maxTrials minus these. */
  private[tuning] val Counted = Set("ok", "fail")

  private[tuning] def metricName(eval: Evaluator): String =
    if (eval.hasParam("metricName")) String.valueOf(eval.getOrDefault(eval.getParam("metricName")))
    else eval.getClass.getSimpleName

  private[tuning] def fmt(v: Double): String =
    if (v.isNaN || v.isInfinite) v.toString
    else BigDecimal(v).round(new java.math.MathContext(6)).bigDecimal.stripTrailingZeros.toPlainString
}

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
  /** avgMetrics' entries from the study's trials. */
  def entries(trials: Seq[CoreTrial], numFolds: Int): Seq[Entry]

  protected def entry(t: CoreTrial, numFolds: Int): Entry = {
    val folds = Array.tabulate(numFolds)(i => t.metrics.getOrElse(s"fold_$i", Double.NaN))
    Entry(Some(t), if (t.state == "ok") t.value.getOrElse(Double.NaN) else Double.NaN, folds)
  }
}

/** Grid mode: trial i of a fresh study is map i; a resumed grid finds each trial's map by its point. */
private[tuning] final class GridSearch(val space: GridSpace) extends Search {
  def spaceJson: String = space.spaceJson
  def sampler: String = "grid"
  def total: Int = space.maps.length
  def maxNewTrials(previous: Int): Int = Int.MaxValue // the core's grid ends the search
  def paramMapOf(trial: CoreTrial): Either[String, ParamMap] = Right(space.maps(space.indexOf(trial.point)))

  /**
   * The core's grid, then the maps it will not give again: those whose trial a stopped process left
   * running (cancelled when the store was reopened), started at their points.
   */
  override def asker(study: CoreStudy, earlier: Seq[CoreTrial]): () => Option[CoreTrial] = {
    val covered = mutable.Set.empty[Int] ++
      earlier.filter(t => CrossValidator.Counted(t.state)).map(t => space.indexOf(t.point))
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
    trials.filter(t => CrossValidator.Counted(t.state)).foreach { t =>
      val i = space.indexOf(t.point)
      if (slots(i).forall(_.state != "ok")) slots(i) = Some(t)
    }
    slots.toSeq.map {
      case Some(t) => entry(t, numFolds)
      case None => Entry(None, Double.NaN, Array.fill(numFolds)(Double.NaN)) // its trial was cancelled
    }
  }
}

/** Random mode: the bindings' values, converted to their params' types. */
private[tuning] final class RandomSearch(paramSpace: ParamSpace, estimator: Estimator[_], maxTrials: Int)
    extends Search {
  require(!paramSpace.isEmpty, "searchSpace binds no param")

  /** Each binding with its param, found among the estimator's stages. */
  private val params: Seq[(ParamSpace.Binding, Param[Any])] = {
    val stages = Stages.all(estimator)
    paramSpace.bindings.map { b =>
      val stage = stages.find(s => s.uid == b.stageUid && s.hasParam(b.paramName)).getOrElse(
        throw new IllegalArgumentException(s"searchSpace binds param ${b.paramId} (label '${b.label}'), " +
          s"which belongs to no stage of the estimator ${estimator.uid} (its stages: " +
          s"${stages.map(_.uid).mkString(", ")})"))
      (b, stage.getParam(b.paramName).asInstanceOf[Param[Any]])
    }
  }

  def spaceJson: String = paramSpace.toJson
  def sampler: String = "random"
  def total: Int = maxTrials
  def maxNewTrials(previous: Int): Int = math.max(0, maxTrials - previous)

  def paramMapOf(trial: CoreTrial): Either[String, ParamMap] = {
    val values = trial.values
    val converted = params.map { case (b, param) =>
      val json = Option(values.get(b.label)).getOrElse(throw new IllegalStateException(
        s"trial ${trial.id}: label '${b.label}' of param ${b.paramId} is missing from its values $values"))
      (param, ParamValues.convert(param, b.label, json))
    }
    converted.flatMap { case (p, v) => ParamValues.invalid(p, v) }.headOption match {
      case Some(reason) => Left(reason)
      case None =>
        val map = ParamMap.empty
        converted.foreach { case (p, v) => map.put(p, v) }
        Right(map)
    }
  }

  def entries(trials: Seq[CoreTrial], numFolds: Int): Seq[Entry] =
    trials.filter(t => CrossValidator.Counted(t.state)).map(t => entry(t, numFolds))
}
