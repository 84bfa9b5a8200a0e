package io.sparktune.ml.tuning

import org.apache.spark.ml.param.{DoubleParam, Param, ParamValidators}

/**
 * Params of [[TrainValidationSplit]] and [[TrainValidationSplitModel]]: the shared [[ValidatorParams]],
 * Spark's trainRatio (name, doc, default and validator as in `org.apache.spark.ml.tuning`), and
 * sparktune's split (how the rows are split, as Spark's Scala or PySpark's TrainValidationSplit).
 */
trait TrainValidationSplitParams extends ValidatorParams {

  /** @group param */
  final val trainRatio: DoubleParam = new DoubleParam(this, "trainRatio",
    "ratio between training set and validation set (>= 0 && <= 1)", ParamValidators.inRange(0, 1))

  /** @group getParam */
  def getTrainRatio: Double = $(trainRatio)

  /**
   * How the rows are split: "scala" as Spark's Scala TrainValidationSplit (`randomSplit`), "pyspark"
   * as pyspark.ml.tuning.TrainValidationSplit (a rand(seed) column cut at trainRatio).
   * @group expertParam
   */
  final val split: Param[String] = new Param(this, "split",
    "how the rows are split: scala (randomSplit) or pyspark (rand(seed) cut at trainRatio)",
    ParamValidators.inArray(Array(CrossValidatorParams.ScalaSplit, CrossValidatorParams.PySparkSplit)))

  /** @group expertGetParam */
  def getSplit: String = $(split)

  setDefault(trainRatio -> 0.75, split -> CrossValidatorParams.ScalaSplit)
}
