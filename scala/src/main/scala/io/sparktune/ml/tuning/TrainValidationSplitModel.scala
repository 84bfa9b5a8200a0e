package io.sparktune.ml.tuning

import org.apache.spark.ml.Model
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{MLReadable, MLReader, MLWritable, MLWriter}
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType

import io.sparktune.Trial
import io.sparktune.ml.tuning.persistence.TrainValidationSplitReadWrite

/**
 * The result of [[TrainValidationSplit.fit]]: the best configuration refitted on the whole data set,
 * and every trial's metric on the validation split. Transforms with `bestModel`, as Spark's
 * TrainValidationSplitModel.
 *
 * @param bestModel         the estimator fitted on the whole data set with `bestParams`
 * @param validationMetrics the metric on the validation split: in grid mode one per param map, in the
 *                          maps' order (as Spark's); in search-space mode one per finished trial in
 *                          trial id order. NaN for a trial that failed or was cancelled.
 * @param bestIndex         the index of the best entry (the first best, as Spark picks it)
 * @param bestParams        the params of the best entry
 * @param trialIds          the core's trial id of each entry (-1 for a grid map without a finished trial)
 * @param trials            every trial of the study, as the core keeps them (resumed ones included)
 * @param trialsJson        the same as a JSON array (the core's trial JSON)
 */
class TrainValidationSplitModel private[tuning] (
    override val uid: String,
    val bestModel: Model[_],
    val validationMetrics: Array[Double],
    val bestIndex: Int,
    val bestParams: ParamMap,
    val trialIds: Array[Long],
    val trials: Seq[Trial],
    val trialsJson: String)
  extends Model[TrainValidationSplitModel] with TrainValidationSplitParams
  with HasSubModels[Array[Model[_]]] with MLWritable {

  /** The best validation metric. */
  def bestMetric: Double = validationMetrics(bestIndex)

  override def transform(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema, logging = true)
    bestModel.transform(dataset)
  }

  override def transformSchema(schema: StructType): StructType = bestModel.transformSchema(schema)

  override def copy(extra: ParamMap): TrainValidationSplitModel = {
    val copied = new TrainValidationSplitModel(uid, bestModel.copy(extra).asInstanceOf[Model[_]],
      validationMetrics.clone(), bestIndex, bestParams.copy, trialIds.clone(), trials, trialsJson)
    if (hasSubModels) copied.setSubModels(subModels.clone())
    copyValues(copied, extra).setParent(parent)
  }

  /** Saves as Spark saves its TrainValidationSplitModel, with sparktune's results (persistence/). */
  override def write: MLWriter = TrainValidationSplitReadWrite.writer(this)

  override def toString: String =
    s"TrainValidationSplitModel: uid=$uid, bestModel=$bestModel, trainRatio=${$(trainRatio)}, trials=${trials.size}"
}

object TrainValidationSplitModel extends MLReadable[TrainValidationSplitModel] {
  override def read: MLReader[TrainValidationSplitModel] = TrainValidationSplitReadWrite.reader

  override def load(path: String): TrainValidationSplitModel = super.load(path)
}
