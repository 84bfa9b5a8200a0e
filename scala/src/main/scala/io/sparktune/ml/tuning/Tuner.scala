package io.sparktune.ml.tuning

import scala.collection.mutable

import org.apache.spark.ml.Model
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param.{Param, ParamMap}
import org.apache.spark.sql.Dataset
import org.apache.spark.sql.types.StructType
import org.slf4j.Logger

import io.sparktune.Trial
import io.sparktune.ml.tracking.{MetricPoint, SparkTunerTracking}

/** What a search gives a validator's model. */
private[tuning] final case class TuningResult(
    bestModel: Model[_],
    entries: Seq[Entry],
    bestIndex: Int,
    bestParams: ParamMap,
    /** `subModels(fold)(entry)`, when collectSubModels (null for a model this fit did not train). */
    subModels: Option[Array[Array[Model[_]]]],
    trials: Seq[Trial],
    trialsJson: String) {

  /** Each entry's metric, in entry order (avgMetrics, validationMetrics). */
  def metrics: Array[Double] = entries.map(_.value).toArray

  /** Each entry's trial id in the core, -1 for an entry that has no trial. */
  def trialIds: Array[Long] = entries.map(_.trial.fold(-1L)(_.id)).toArray
}

/**
 * The search shared by [[CrossValidator]] (k folds) and [[TrainValidationSplit]] (one split): the
 * plan from the params, the study in the core, the folds drawn, coalesced and persisted once
 * ([[FoldFits]], which also fits a pipeline's untuned leading stages once per fold), the trials run by
 * [[TrialRunner]], then the best entry refitted on the whole data set (or taken from the runner,
 * which refits the best so far in a slot the search's tail leaves idle). With MLflow tracking on
 * ([[io.sparktune.ml.tracking]]), every finished trial becomes a child run of the fit's run.
 *
 * @param name         the validator's name for messages ("CrossValidator 'cv_…'")
 * @param numFolds     how many folds `drawFolds` gives
 * @param drawFolds    the folds, lazily defined (persisted by [[FoldFits]])
 * @param trialMetrics a trial's MLflow metrics, given the evaluator's metric name
 *                     ([[io.sparktune.ml.tracking.TrialMetrics]])
 */
private[tuning] final class Tuner(
    params: ValidatorParams,
    name: String,
    numFolds: Int,
    drawFolds: () => Seq[Fold],
    trialMetrics: String => (Array[Double], Option[Double]) => Seq[MetricPoint],
    jobGroup: Long => String,
    log: Logger) {

  private def $[T](p: Param[T]): T = params.getOrDefault(p)

  def fit(dataset: Dataset[_]): TuningResult = {
    val est = $(params.estimator)
    val eval = $(params.evaluator)
    Tuner.checkEvaluator(eval, dataset, name)
    val started = System.nanoTime()
    val search = Tuner.plan(params, name)
    val metric = Tuner.metricName(eval)
    val direction = if (eval.isLargerBetter) "maximize" else "minimize"
    val pruning = Pruning($(params.pruning), eval.isLargerBetter)
    CancelledFitLog.install() // the fits it cancels (pruned, timed out) are no ERRORs
    val store = Option($(params.trialStore)).filter(_.nonEmpty)
    val study = CoreStudy.open(search.spaceJson, search.sampler, $(params.seed), direction, store)
    // Trials as MLflow child runs, logged in the background.
    val tracking = new TrialTracking(SparkTunerTracking.start(params, est, trialMetrics(metric),
      params.mlflowSettings, log.warn(_: String)), search.paramMapOf, numFolds)
    try {
      study.warnings.foreach(w => log.warn(w))
      val earlier = study.trials // those of a resumed store
      val previous = earlier.count(t => Search.Counted(t.state))
      if (previous > 0) log.info(s"resuming from ${store.getOrElse("")}: $previous finished trials")
      val progress = new Progress(search.total, previous, metric, eval.isLargerBetter,
        earlier.filter(_.state == "ok").flatMap(_.value))
      val collect = $(params.collectSubModels)
      val models = mutable.Map.empty[Long, Array[Model[_]]]
      val timeout = $(params.timeout)

      // The best trial so far, by the rule of the result below: refitted in a slot the tail would idle.
      val refit = new TrialRunner.Refit(
        leader = () => Tuner.best(search.entries(study.trials, numFolds), eval.isLargerBetter).flatMap {
          case (entry, _) => entry.trial.flatMap(t => search.paramMapOf(t).toOption.map(t.id -> _))
        },
        fit = map => est.fit(dataset, map).asInstanceOf[Model[_]])
      val partitions = FoldFits.partitions(dataset, $(params.parallelism), $(params.foldPartitions))
      partitions.foreach { case (n, why) => log.info(s"each fold coalesced to at most $n partitions ($why)") }
      val fits = new FoldFits(drawFolds, partitions.map(_._1), est, eval,
        FoldFits.sharedPrefix(est, search.tunedStages), collect, log)
      val runner =
        new TrialRunner(
          sc = dataset.sparkSession.sparkContext,
          fits = fits,
          numFolds = numFolds,
          parallelism = $(params.parallelism),
          maxNewTrials = search.maxNewTrials(previous),
          jobGroup = jobGroup,
          ask = tracking.asking(search.asker(study, earlier)),
          paramMapOf = search.paramMapOf,
          onFinish = { result =>
            study.tell(result)
            if (collect) models(result.id) = result.models
            progress.finished(result)
            tracking.finished(result)
          },
          tellCancelled = study.tellCancelled,
          log = log,
          collectModels = collect,
          pruning = pruning,
          earlier = earlier,
          deadlineNanos = if (timeout > 0) Some(started + (timeout * 1e9).toLong) else None,
          refit = Some(refit))
      try runner.run()
      finally fits.release()

      val trials = study.trials
      val entries = search.entries(trials, numFolds)
      val (best, bestIndex) = Tuner.best(entries, eval.isLargerBetter).getOrElse {
        val why = trials.find(_.error.isDefined).map(t => s"; trial ${t.id}: ${t.error.get}").getOrElse("")
        throw new IllegalStateException(s"$name: no trial succeeded (${trials.size} trials)$why")
      }
      val bestTrial = best.trial.get // a finite average comes from an ok trial
      val bestParams = search.paramMapOf(bestTrial).fold(r => throw new IllegalStateException(r), identity)
      val refitted = runner.refitted.collect { case (id, model) if id == bestTrial.id => model }
      log.info(s"best trial ${bestTrial.id}: $metric ${best.value} with ${bestTrial.values}; " +
        (if (refitted.isDefined) "refitted during the search" else "refitting"))
      val bestModel = refitted.getOrElse(refit.fit(bestParams))
      val subModels = if (!collect) None else Some(Array.tabulate(numFolds) { k =>
        entries.map(e => e.trial.flatMap(t => models.get(t.id)).filter(_.length > k).map(_(k)).orNull).toArray
      })
      tracking.succeeded(trials, bestTrial, search match {
        case grid: GridSearch => tracking.gridJson(grid.space.maps)
        case _ => tracking.spaceJson($(params.searchSpace))
      })
      TuningResult(bestModel, entries, bestIndex, bestParams, subModels, study.publicTrials, study.trialsJson)
    } catch {
      case e: Throwable =>
        tracking.failed(e)
        throw e
    } finally study.close()
  }

  /** Logs each finished trial with the best so far. */
  private final class Progress(total: Int, previous: Int, metric: String, larger: Boolean, earlier: Seq[Double]) {
    private var done = previous
    private var best: Option[Double] = earlier.reduceOption((a, b) => if (larger) math.max(a, b) else math.min(a, b))

    def finished(r: TrialResult): Unit = {
      if (Search.Counted(r.state)) done += 1
      r.value.foreach(v => best = Some(best.fold(v)(b => if (larger) math.max(b, v) else math.min(b, v))))
      val bestText = best.map(b => s" (best ${Tuner.fmt(b)})").getOrElse("")
      r.value match {
        case Some(v) => log.info(s"trial $done/$total done: $metric ${Tuner.fmt(v)}$bestText")
        case None if r.state == "cancelled" => log.warn(s"trial ${r.id} cancelled: ${r.error.getOrElse("")}")
        case None if r.state == "pruned" => log.info(s"trial $done/$total (trial ${r.id}) ${r.error.getOrElse("")}")
        case None => log.warn(s"trial $done/$total failed (trial ${r.id}): ${r.error.getOrElse("")}$bestText")
      }
    }
  }
}

private[tuning] object Tuner {

  /** Which search the params ask for; the errors name what is wrong, before any Spark job runs. */
  def plan(params: ValidatorParams, name: String): Search = {
    import params._
    (isDefined(estimatorParamMaps), isDefined(searchSpace)) match {
      case (true, true) => throw new IllegalArgumentException(s"$name: set either " +
        "estimatorParamMaps (a grid search) or searchSpace (a search the core samples), not both")
      case (false, false) => throw new IllegalArgumentException(s"$name: set estimatorParamMaps " +
        "(a grid search) or searchSpace (a search the core samples)")
      case (true, false) =>
        if (isSet(sampler) && getSampler != "grid") {
          throw new IllegalArgumentException(s"$name: sampler '$getSampler' samples a searchSpace; " +
            "estimatorParamMaps are a grid, run in their order")
        }
        new GridSearch(GridSpace(getEstimatorParamMaps), getEstimator)
      case (false, true) =>
        new SpaceSearch(getSearchSpace, getEstimator, getMaxTrials, ValidatorParams.samplerConfig(getSampler))
    }
  }

  /** As Spark's ValidatorParams.transformSchemaImpl: every grid map must fit the schema. */
  def transformSchema(params: ValidatorParams, schema: StructType, search: Search): StructType = {
    val est = params.getEstimator
    search match {
      case grid: GridSearch =>
        grid.space.maps.tail.foreach(map => est.copy(map).transformSchema(schema))
        est.copy(grid.space.maps.head).transformSchema(schema)
      case _ => est.transformSchema(schema)
    }
  }

  /** The first best entry, as Spark's maxBy/minBy pick it, with its index; None if no average is finite. */
  def best(entries: Seq[Entry], larger: Boolean): Option[(Entry, Int)] = {
    val scored = entries.zipWithIndex.filter { case (e, _) => !e.value.isNaN }
    if (scored.isEmpty) None else Some(if (larger) scored.maxBy(_._1.value) else scored.minBy(_._1.value))
  }

  def metricName(eval: Evaluator): String =
    if (eval.hasParam("metricName")) String.valueOf(eval.getOrDefault(eval.getParam("metricName")))
    else eval.getClass.getSimpleName

  /**
   * The evaluator's metric must be one it computes and its label column must be in the data: else
   * every fit of the search would be wasted before the first evaluation fails.
   */
  def checkEvaluator(eval: Evaluator, dataset: Dataset[_], name: String): Unit = {
    if (eval.hasParam("metricName")) {
      val p = eval.getParam("metricName").asInstanceOf[Param[Any]]
      val value = eval.getOrDefault(p)
      if (!p.isValid(value)) {
        throw new IllegalArgumentException(s"$name: evaluator ${eval.uid} has no metric '$value' (${p.doc})")
      }
    }
    if (eval.hasParam("labelCol")) {
      val label = String.valueOf(eval.getOrDefault(eval.getParam("labelCol")))
      if (!dataset.columns.contains(label)) {
        throw new IllegalArgumentException(s"$name: evaluator ${eval.uid} reads labelCol '$label', which is not " +
          s"a column of the data set (its columns: ${dataset.columns.mkString(", ")})")
      }
    }
  }

  def fmt(v: Double): String =
    if (v.isNaN || v.isInfinite) v.toString
    else BigDecimal(v).round(new java.math.MathContext(6)).bigDecimal.stripTrailingZeros.toPlainString
}
