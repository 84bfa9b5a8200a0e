package io.sparktune.ml.tuning

import org.apache.spark.ml.{Estimator, Model, Pipeline, PipelineModel, PipelineStage}
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.sql.Dataset
import org.apache.spark.storage.StorageLevel
import org.slf4j.Logger

/**
 * What each (trial, fold) task of [[TrialRunner]] does: fit the trial's params on the fold's training
 * rows and evaluate them on its validation rows. The folds are drawn, persisted and checked once.
 *
 * When the estimator is a Pipeline whose leading stages no trial changes (a feature pipeline before
 * the tuned model: VectorAssembler and StandardScaler before LogisticRegression, say), those stages
 * are fitted once per fold rather than once per trial and fold, as Spark's CrossValidator fits them,
 * and their output on the fold is cached: a trial fits the remaining stages only. Every trial would
 * have fitted the same stages on the same rows, so the metrics are those of fitting the whole
 * pipeline. Fitted models (subModels) are whole pipelines, the shared stages' models included.
 *
 * The folds can be coalesced to fewer partitions before they are cached ([[FoldFits.partitions]]).
 *
 * @param partitions   the partitions each fold is coalesced to, or None to keep those it is drawn with
 * @param prefixLength how many leading stages of the Pipeline `estimator` are shared ([[FoldFits.sharedPrefix]])
 */
private[tuning] final class FoldFits(
    drawFolds: () => Seq[Fold],
    partitions: Option[Int],
    estimator: Estimator[_],
    evaluator: Evaluator,
    prefixLength: Int,
    keepModels: Boolean,
    log: Logger) {

  private val level = StorageLevel.MEMORY_AND_DISK // as Spark and PySpark persist their folds
  private var folds: Option[IndexedSeq[Fold]] = None
  private var prefixes: IndexedSeq[SharedPrefix] = IndexedSeq.empty
  /** Set by [[release]]: a task still out after a stopped search must not cache anything again. */
  @volatile private var released = false

  /** The folds, drawn, persisted and checked on first use (a resumed search with nothing left draws none). */
  def draw(): IndexedSeq[Fold] = synchronized {
    folds.getOrElse {
      val drawn = drawFolds()
      val persisted = partitions.fold(drawn)(n => drawn.map(_.coalesce(n))).map(_.persist(level)).toIndexedSeq
      folds = Some(persisted)
      if (prefixLength > 0) {
        val stages = estimator.asInstanceOf[Pipeline].getStages.take(prefixLength)
        log.info(s"stages ${stages.map(s => s"${s.uid} (${s.getClass.getSimpleName})").mkString(", ")} of " +
          s"${estimator.uid} are tuned by no trial: fitted once per fold, their output cached")
        prefixes = persisted.map(new SharedPrefix(stages, _))
      }
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

  /**
   * The metric of `paramMap` fitted on fold `i` and evaluated there, and the fitted model. With a
   * shared prefix, the model is null unless models are kept (subModels are its only use).
   */
  def fitAndEvaluate(i: Int, paramMap: ParamMap): (Double, Model[_]) = {
    val fold = draw()(i)
    if (prefixLength == 0) {
      val model = estimator.fit(fold.training, paramMap).asInstanceOf[Model[_]]
      (evaluator.evaluate(model.transform(fold.validation, paramMap)), model)
    } else {
      val shared = prefixes(i).fitted()
      // Pipeline.fit(data, map) fits copy(map): a stage choice's map replaces the Pipeline's stages.
      val pipeline = estimator.copy(paramMap).asInstanceOf[Pipeline]
      val rest = new Pipeline().setStages(pipeline.getStages.drop(prefixLength)).fit(shared.output.training)
      val metric = evaluator.evaluate(rest.transform(shared.output.validation, paramMap))
      val model = if (!keepModels) null else {
        // The whole pipeline's model as Pipeline.fit makes it (its uid, its parent): all stages are
        // fitted already, so this fit runs no job.
        new Pipeline(estimator.uid).setStages(shared.model.stages ++ rest.stages).fit(fold.training)
          .setParent(pipeline)
      }
      (metric, model)
    }
  }

  /** Unpersists what [[draw]] and the shared prefixes cached. */
  def release(): Unit = synchronized {
    released = true
    prefixes.foreach(_.release())
    folds.foreach(_.foreach(_.unpersist()))
  }

  /** A fold's shared stages fitted, and their output on both sides of the fold (persisted). */
  private final class Fitted(val model: PipelineModel, val output: Fold)

  /**
   * The shared stages of one fold, fitted by the first task that needs them, in that task's job group
   * (so that cancelling its trial cancels this fit too; a later task then fits them again).
   */
  private final class SharedPrefix(stages: Array[PipelineStage], fold: Fold) {
    private var done: Option[Fitted] = None

    def fitted(): Fitted = synchronized {
      done.getOrElse {
        if (released) throw new IllegalStateException("the search has ended")
        val model = new Pipeline().setStages(stages).fit(fold.training)
        val output = Fold(model.transform(fold.training), model.transform(fold.validation))
        val f = new Fitted(model, output.persist(level))
        done = Some(f)
        f
      }
    }

    def release(): Unit = synchronized {
      done.foreach(_.output.unpersist())
    }
  }
}

private[tuning] object FoldFits {

  /**
   * The partitions the folds of `dataset` are coalesced to, with the reason, or None to keep the
   * data's: `foldPartitions` (`requested`) if set, else the cores each of the `parallelism` concurrent
   * trials has, or more where a partition would hold over `spark.sql.files.maxPartitionBytes` of the
   * data set (None when the plan does not know its size). Coalescing never adds partitions; their
   * current number is not asked here, as that would run the shuffles of an uncached plan.
   */
  def partitions(dataset: Dataset[_], parallelism: Int, requested: Int): Option[(Int, String)] =
    if (requested > 0) Some(requested -> "foldPartitions") else {
      val execution = dataset.queryExecution
      val conf = execution.sparkSession.sessionState.conf
      val bytes = execution.optimizedPlan.stats.sizeInBytes
      val cores = execution.sparkSession.sparkContext.defaultParallelism
      Option.when(bytes < conf.defaultSizeInBytes) {
        val perTrial = (cores + parallelism - 1) / parallelism
        val bySize = ((bytes + conf.filesMaxPartitionBytes - 1) / conf.filesMaxPartitionBytes).min(Int.MaxValue).toInt
        math.max(perTrial, bySize) ->
          f"$cores cores for $parallelism concurrent trials, ${bytes.toDouble / (1 << 20)}%.1f MiB of data"
      }
    }

  /**
   * How many leading stages of `estimator` can be fitted once per fold: those of a Pipeline before
   * the first stage that is a tuned stage or holds one (a nested Pipeline's, say), at most all but
   * the last; 0 when `estimator` is no Pipeline, when the Pipeline's own params are tuned (its stages
   * in a grid), or when those stages fit nothing (transformers alone: the fit after them reads their
   * output once anyway, and caching it would cost memory for little).
   *
   * @param tuned the uids of the stages whose params a trial sets, and of the stages a choice replaces
   */
  def sharedPrefix(estimator: Estimator[_], tuned: Set[String]): Int = estimator match {
    case pipeline: Pipeline if pipeline.isDefined(pipeline.stages) && !tuned(pipeline.uid) =>
      val stages = pipeline.getStages
      val firstTuned = stages.indexWhere(s => Stages.all(s).exists(p => tuned(p.uid)))
      val length = if (firstTuned < 0) stages.length - 1 else firstTuned
      if (stages.take(length).exists(_.isInstanceOf[Estimator[_]])) length else 0
    case _ => 0
  }
}
