package io.sparktune.ml.tuning

import java.util.Locale

import org.apache.spark.ml.Estimator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{Identifiable, MLReadable, MLReader}
import org.apache.spark.sql.Dataset
import org.apache.spark.sql.types.StructType

import io.sparktune.ml.tracking.TrialMetrics
import io.sparktune.ml.tuning.persistence.ValidatorReadWrite

/**
 * Validation on one train-validation split, as Spark's `org.apache.spark.ml.tuning.TrainValidationSplit`
 * (same params, same split for the same seed, so the same validationMetrics), run by the same search
 * as [[CrossValidator]] with the split as its one fold: grid mode, search-space mode with the core's
 * samplers, a trial store, a timeout, every trial in its own job group. The best configuration is
 * refitted on the whole data set.
 */
class TrainValidationSplit(override val uid: String)
  extends Estimator[TrainValidationSplitModel] with TrainValidationSplitParams with Validator {

  def this() = this(Identifiable.randomUID("tvs"))

  /** @group setParam */
  def setTrainRatio(value: Double): this.type = set(trainRatio, value)

  /** @group expertSetParam */
  def setSplit(value: String): this.type = set(split, value.toLowerCase(Locale.ROOT))

  private def tuner(dataset: Dataset[_]): Tuner =
    new Tuner(this, s"TrainValidationSplit $uid", 1, () => Seq($(split) match {
      case CrossValidatorParams.ScalaSplit => Folds.scalaTrainValidation(dataset, $(trainRatio), $(seed))
      case _ => Folds.pysparkTrainValidation(dataset, $(trainRatio), $(seed), uid)
    }), TrialMetrics.trainValidation, jobGroup, log)

  override def fit(dataset: Dataset[_]): TrainValidationSplitModel = {
    transformSchema(dataset.schema, logging = true)
    val r = tuner(dataset).fit(dataset)
    val model = new TrainValidationSplitModel(uid, r.bestModel,
      validationMetrics = r.metrics,
      bestIndex = r.bestIndex,
      bestParams = r.bestParams,
      trialIds = r.trialIds,
      trials = r.trials,
      trialsJson = r.trialsJson)
    r.subModels.foreach(m => model.setSubModels(m.head))
    copyValues(model).setParent(this)
  }

  override def transformSchema(schema: StructType): StructType =
    Tuner.transformSchema(this, schema, Tuner.plan(this, s"TrainValidationSplit $uid"))

  override def copy(extra: ParamMap): TrainValidationSplit =
    withNestedCopies(defaultCopy(extra).asInstanceOf[TrainValidationSplit], extra)
}

object TrainValidationSplit extends MLReadable[TrainValidationSplit] {
  override def read: MLReader[TrainValidationSplit] = ValidatorReadWrite.reader(new TrainValidationSplit(_))

  override def load(path: String): TrainValidationSplit = super.load(path)
}
