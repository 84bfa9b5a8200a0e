package io.sparktune.ml.tuning

import java.util.Locale

import org.apache.spark.ml.Estimator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{Identifiable, MLReadable, MLReader}
import org.apache.spark.sql.Dataset
import org.apache.spark.sql.types.{IntegerType, StructType}

import io.sparktune.ml.tracking.TrialMetrics
import io.sparktune.ml.tuning.persistence.ValidatorReadWrite

/**
 * K-fold cross validation as Spark's `org.apache.spark.ml.tuning.CrossValidator` (same params, same
 * folds, same averages), with the search driven by sparktune's core:
 *  - grid mode (`estimatorParamMaps`): the maps are told to the core as a grid and evaluated in
 *    their given order; `avgMetrics` equal Spark's on the same maps, folds and seed;
 *  - search-space mode (`searchSpace`): `maxTrials` trials sampled by the core's `sampler` (random,
 *    tpe, qmc, grid) from a [[ParamSpace]].
 * Every (trial, fold) pair is a task of its own on `parallelism` threads, with no wait at the end of
 * a fold; each trial's jobs run in the job group `sparktune-<uid>-trial-<id>`. With `trialStore`,
 * trials are journaled and a later fit resumes from the journal; with `timeout`, the search stops in
 * time; with `pruning`, configurations that cannot win are stopped after their first folds.
 */
class CrossValidator(override val uid: String)
  extends Estimator[CrossValidatorModel] with CrossValidatorParams with Validator {

  def this() = this(Identifiable.randomUID("cv"))

  /** @group setParam */
  def setNumFolds(value: Int): this.type = set(numFolds, value)

  /** @group setParam */
  def setFoldCol(value: String): this.type = set(foldCol, value)

  /** @group expertSetParam */
  def setFoldSplit(value: String): this.type = set(foldSplit, value.toLowerCase(Locale.ROOT))

  private def tuner(dataset: Dataset[_]): Tuner =
    new Tuner(this, s"CrossValidator $uid", $(numFolds), () => $(foldSplit) match {
      case CrossValidatorParams.ScalaSplit => Folds.scala(dataset, $(numFolds), $(seed), $(foldCol))
      case _ => Folds.pyspark(dataset, $(numFolds), $(seed), $(foldCol), uid)
    }, TrialMetrics.crossValidation, jobGroup, log)

  override def fit(dataset: Dataset[_]): CrossValidatorModel = {
    transformSchema(dataset.schema, logging = true)
    val r = tuner(dataset).fit(dataset)
    val model = new CrossValidatorModel(uid, r.bestModel,
      avgMetrics = r.metrics,
      stdMetrics = r.entries.map(_.std).toArray,
      foldMetrics = r.entries.map(_.folds).toArray,
      bestIndex = r.bestIndex,
      bestParams = r.bestParams,
      trialIds = r.trialIds,
      trials = r.trials,
      trialsJson = r.trialsJson)
    r.subModels.foreach(model.setSubModels)
    copyValues(model).setParent(this)
  }

  override def transformSchema(schema: StructType): StructType = {
    if ($(foldCol) != "") {
      val foldColDt = schema($(foldCol)).dataType
      require(foldColDt.isInstanceOf[IntegerType],
        s"The specified `foldCol` column ${$(foldCol)} must be integer type, but got $foldColDt.")
    }
    Tuner.transformSchema(this, schema, Tuner.plan(this, s"CrossValidator $uid"))
  }

  override def copy(extra: ParamMap): CrossValidator =
    withNestedCopies(defaultCopy(extra).asInstanceOf[CrossValidator], extra)
}

object CrossValidator extends MLReadable[CrossValidator] {
  override def read: MLReader[CrossValidator] = ValidatorReadWrite.reader(new CrossValidator(_))

  override def load(path: String): CrossValidator = super.load(path)
}
