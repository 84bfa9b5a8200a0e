package io.sparktune.ml.tuning

import org.apache.spark.ml.Estimator
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param.{IntParam, LongParam, Param, ParamMap, ParamValidators, Params}

import io.sparktune.ml.tracking.MlflowParams

/**
 * Params of [[CrossValidator]] and [[CrossValidatorModel]]: Spark's own (names, docs, defaults and
 * validators as in `org.apache.spark.ml.tuning`, whose traits are private to Spark) and sparktune's.
 */
trait CrossValidatorParams extends Params with MlflowParams {

  /** @group param */
  final val estimator: Param[Estimator[_]] = new Param(this, "estimator", "estimator for selection")

  /** @group getParam */
  def getEstimator: Estimator[_] = $(estimator)

  /** Grid mode: these maps, evaluated in their given order. @group param */
  final val estimatorParamMaps: Param[Array[ParamMap]] =
    new Param(this, "estimatorParamMaps", "param maps for the estimator")

  /** @group getParam */
  def getEstimatorParamMaps: Array[ParamMap] = $(estimatorParamMaps)

  /** @group param */
  final val evaluator: Param[Evaluator] = new Param(this, "evaluator",
    "evaluator used to select hyper-parameters that maximize the validated metric")

  /** @group getParam */
  def getEvaluator: Evaluator = $(evaluator)

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

  /** Spark's HasSeed (private to Spark), with its default: the class name's hash. @group param */
  final val seed: LongParam = new LongParam(this, "seed", "random seed")

  /** @group getParam */
  def getSeed: Long = $(seed)

  /** @group expertParam */
  final val parallelism: IntParam = new IntParam(this, "parallelism",
    "the number of threads to use when running parallel algorithms (>= 1)", ParamValidators.gtEq(1))

  /** @group expertGetParam */
  def getParallelism: Int = $(parallelism)

  /** Random mode: Spark params bound to sparktune expressions, sampled by the core. @group param */
  final val searchSpace: Param[ParamSpace] = new Param(this, "searchSpace",
    "Spark params of the estimator's stages bound to sparktune expressions (random search)")

  /** @group getParam */
  def getSearchSpace: ParamSpace = $(searchSpace)

  /** @group param */
  final val maxTrials: IntParam = new IntParam(this, "maxTrials",
    "the number of trials of a random search, counting finished trials of a resumed store (>= 1)",
    ParamValidators.gtEq(1))

  /** @group getParam */
  def getMaxTrials: Int = $(maxTrials)

  /** @group param */
  final val trialStore: Param[String] = new Param(this, "trialStore",
    "path of the trial journal: trials are recorded there and a later fit resumes from it " +
      "(empty: in memory only)")

  /** @group getParam */
  def getTrialStore: String = $(trialStore)

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
    seed -> this.getClass.getName.hashCode.toLong,
    parallelism -> 1,
    maxTrials -> 10,
    trialStore -> "",
    foldSplit -> CrossValidatorParams.ScalaSplit)
}

object CrossValidatorParams {
  /** Folds of `MLUtils.kFold`, as Spark's Scala CrossValidator draws them. */
  val ScalaSplit = "scala"

  /** Folds of `pyspark.ml.tuning.CrossValidator._kFold`. */
  val PySparkSplit = "pyspark"
}
