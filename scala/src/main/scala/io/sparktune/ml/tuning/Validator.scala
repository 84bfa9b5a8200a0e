package io.sparktune.ml.tuning

import org.apache.spark.ml.Estimator
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{MLWritable, MLWriter}

import io.sparktune.ml.tuning.persistence.TunerWriter

/**
 * The setters of the shared [[ValidatorParams]] and what else [[CrossValidator]] and
 * [[TrainValidationSplit]] do alike (their models have the params but not the setters, as Spark's).
 */
trait Validator extends ValidatorParams with MLWritable {

  /** @group setParam */
  def setEstimator(value: Estimator[_]): this.type = set(estimator, value)

  /** @group setParam */
  def setEstimatorParamMaps(value: Array[ParamMap]): this.type = set(estimatorParamMaps, value)

  /** @group setParam */
  def setEvaluator(value: Evaluator): this.type = set(evaluator, value)

  /** @group setParam */
  def setSeed(value: Long): this.type = set(seed, value)

  /** @group expertSetParam */
  def setParallelism(value: Int): this.type = set(parallelism, value)

  /** @group expertSetParam */
  def setCollectSubModels(value: Boolean): this.type = set(collectSubModels, value)

  /** @group setParam */
  def setSearchSpace(value: ParamSpace): this.type = set(searchSpace, value)

  /** @group setParam */
  def setSampler(value: String): this.type = set(sampler, value)

  /** @group setParam */
  def setMaxTrials(value: Int): this.type = set(maxTrials, value)

  /** @group setParam */
  def setTimeout(value: Double): this.type = set(timeout, value)

  /** @group setParam */
  def setPruning(value: String): this.type = set(pruning, value)

  /** @group setParam */
  def setTrialStore(value: String): this.type = set(trialStore, value)

  /** @group expertSetParam */
  def setFoldPartitions(value: Int): this.type = set(foldPartitions, value)

  /** Saves as Spark saves its validators, in Spark's layout (persistence/TunerReadWrite.scala). */
  override def write: MLWriter = new TunerWriter(this)

  /** The job group of a trial's Spark jobs (for `SparkContext.cancelJobGroup`). */
  def jobGroup(trialId: Long): String = s"sparktune-$uid-trial-$trialId"

  /** A copy made by `defaultCopy`, with its estimator and evaluator copied too (as Spark's validators). */
  protected def withNestedCopies[V <: Validator](copied: V, extra: ParamMap): V = {
    if (copied.isDefined(estimator)) copied.setEstimator(copied.getEstimator.copy(extra))
    if (copied.isDefined(evaluator)) copied.setEvaluator(copied.getEvaluator.copy(extra))
    copied
  }
}
