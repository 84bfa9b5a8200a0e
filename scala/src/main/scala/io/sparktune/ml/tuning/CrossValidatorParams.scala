package io.sparktune.ml.tuning

import org.apache.spark.ml.param.{IntParam, Param, ParamValidators}

/**
 * Params of [[CrossValidator]] and [[CrossValidatorModel]]: the shared [[ValidatorParams]] and
 * Spark's numFolds and foldCol (names, docs, defaults and validators as in `org.apache.spark.ml.tuning`,
 * whose traits are private to Spark), and sparktune's foldSplit.
 */
trait CrossValidatorParams extends ValidatorParams {

  /** @group param */
  final val numFolds: IntParam = new IntParam(this, "numFolds",
    "number of folds for cross validation (>= 2)", ParamValidators.gtEq(2))

  /** @group getParam */
  def getNumFolds: Int = $(numFolds)

  /**
   * Column of user-specified fold numbers in [0, numFolds); when set, no random split is made.
   * @group param
   */
  final val foldCol: Param[String] = new Param(this, "foldCol",
    "the column name of user specified fold number")

  /** @group getParam */
  def getFoldCol: String = $(foldCol)

  /**
   * How random folds are drawn: "scala" as Spark's Scala CrossValidator (MLUtils.kFold), "pyspark"
   * as pyspark.ml.tuning.CrossValidator (a rand(seed) column cut into numFolds ranges), so that each
   * front end reproduces the avgMetrics its users know.
   * @group expertParam
   */
  final val foldSplit: Param[String] = new Param(this, "foldSplit",
    "how random folds are drawn: scala (MLUtils.kFold) or pyspark (rand(seed) ranges)",
    ParamValidators.inArray(Array(CrossValidatorParams.ScalaSplit, CrossValidatorParams.PySparkSplit)))

  /** @group expertGetParam */
  def getFoldSplit: String = $(foldSplit)

  setDefault(
    numFolds -> 3,
    foldCol -> "",
    foldSplit -> CrossValidatorParams.ScalaSplit)
}

object CrossValidatorParams {
  /** Folds of `MLUtils.kFold`, as Spark's Scala CrossValidator draws them. */
  val ScalaSplit = "scala"

  /** Folds of `pyspark.ml.tuning.CrossValidator._kFold`. */
  val PySparkSplit = "pyspark"
}
