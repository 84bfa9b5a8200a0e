package io.sparktune.ml.tuning

import org.apache.spark.ml.Model
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType
import org.apache.spark.ml.util.{MLReadable, MLReader, MLWritable, MLWriter}

import io.sparktune.Trial
import io.sparktune.ml.tuning.persistence.CrossValidatorReadWrite

/**
 * The result of [[CrossValidator.fit]]: the best configuration refitted on the whole data set, and
 * every trial's metrics. Transforms with `bestModel`, as Spark's CrossValidatorModel.
 *
 * @param bestModel   the estimator fitted on the whole data set with `bestParams`
 * @param avgMetrics  the average metric over the folds of each trial: in grid mode one per param map,
 *                    in the maps' order (as Spark's); in search-space mode one per finished trial (ok,
 *                    failed or pruned) in trial id order. NaN for a trial that failed, was pruned or
 *                    was cancelled.
 * @param stdMetrics  the population standard deviation over the folds (PySpark's stdMetrics)
 * @param foldMetrics `foldMetrics(i)(k)`: entry i's metric on fold k (NaN where there is none)
 * @param bestIndex   the index of the best entry in avgMetrics (the first best, as Spark picks it)
 * @param bestParams  the params of the best entry
 * @param trialIds    the core's trial id of each entry (-1 for a grid map without a finished trial)
 * @param trials      every trial of the study, as the core keeps them (resumed ones included)
 * @param trialsJson  the same as a JSON array (the core's trial JSON)
 */
class CrossValidatorModel private[tuning] (
    override val uid: String,
    val bestModel: Model[_],
    val avgMetrics: Array[Double],
    val stdMetrics: Array[Double],
    val foldMetrics: Array[Array[Double]],
    val bestIndex: Int,
    val bestParams: ParamMap,
    val trialIds: Array[Long],
    val trials: Seq[Trial],
    val trialsJson: String)
  extends Model[CrossValidatorModel] with CrossValidatorParams with HasSubModels[Array[Array[Model[_]]]]
  with MLWritable {

  /** The best average metric. */
  def bestMetric: Double = avgMetrics(bestIndex)

  override def transform(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema, logging = true)
    bestModel.transform(dataset)
  }

  override def transformSchema(schema: StructType): StructType = bestModel.transformSchema(schema)

  override def copy(extra: ParamMap): CrossValidatorModel = {
    val copied = new CrossValidatorModel(uid, bestModel.copy(extra).asInstanceOf[Model[_]], avgMetrics.clone(),
      stdMetrics.clone(), foldMetrics.map(_.clone()), bestIndex, bestParams.copy, trialIds.clone(), trials,
      trialsJson)
    if (hasSubModels) copied.setSubModels(subModels.map(_.clone()))
    copyValues(copied, extra).setParent(parent)
  }

  /** Saves as Spark saves its CrossValidatorModel, with sparktune's results (persistence/). */
  override def write: MLWriter = CrossValidatorReadWrite.writer(this)

  override def toString: String =
    s"CrossValidatorModel: uid=$uid, bestModel=$bestModel, numFolds=${$(numFolds)}, trials=${trials.size}"
}

object CrossValidatorModel extends MLReadable[CrossValidatorModel] {
  override def read: MLReader[CrossValidatorModel] = CrossValidatorReadWrite.reader

  override def load(path: String): CrossValidatorModel = super.load(path)
}
