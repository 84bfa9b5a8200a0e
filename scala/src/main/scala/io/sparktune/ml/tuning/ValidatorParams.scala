package io.sparktune.ml.tuning

import org.apache.spark.ml.Estimator
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param.{BooleanParam, DoubleParam, IntParam, LongParam, Param, ParamMap, ParamValidators,
  Params}

import io.sparktune.ml.tracking.MlflowParams

/**
 * Params shared by [[CrossValidator]] and [[TrainValidationSplit]] (and their models): Spark's own
 * (names, docs, defaults and validators as in `org.apache.spark.ml.tuning.ValidatorParams`,
 * HasSeed, HasParallelism and HasCollectSubModels, which are private to Spark) and sparktune's
 * search params (searchSpace, sampler, maxTrials, timeout, pruning, trialStore, foldPartitions) and
 * MLflow params (mlflowLogging, mlflowTrackingUri, mlflowRunId, mlflowExperimentName: where the
 * trials are logged).
 */
trait ValidatorParams extends Params with MlflowParams {

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

  /** Spark's HasSeed (private to Spark), with its default: the class name's hash. @group param */
  final val seed: LongParam = new LongParam(this, "seed", "random seed")

  /** @group getParam */
  def getSeed: Long = $(seed)

  /** @group expertParam */
  final val parallelism: IntParam = new IntParam(this, "parallelism",
    "the number of threads to use when running parallel algorithms (>= 1)", ParamValidators.gtEq(1))

  /** @group expertGetParam */
  def getParallelism: Int = $(parallelism)

  /**
   * Spark's HasCollectSubModels: keep the model of every (fold, configuration) pair in the fitted
   * model's `subModels` (they may take a lot of memory).
   * @group expertParam
   */
  final val collectSubModels: BooleanParam = new BooleanParam(this, "collectSubModels",
    "whether to collect a list of sub-models trained during tuning. If set to false, then only the single best " +
      "sub-model will be available after fitting. If set to true, then all sub-models will be available. " +
      "Warning: For large models, collecting all sub-models can cause OOMs on the Spark driver")

  /** @group expertGetParam */
  def getCollectSubModels: Boolean = $(collectSubModels)

  /** Search mode: Spark params bound to sparktune expressions, sampled by the core. @group param */
  final val searchSpace: Param[ParamSpace] = new Param(this, "searchSpace",
    "Spark params of the estimator's stages bound to sparktune expressions (sampled by `sampler`)")

  /** @group getParam */
  def getSearchSpace: ParamSpace = $(searchSpace)

  /**
   * How the core samples `searchSpace`: "random", "tpe" (tree-structured Parzen estimator), "qmc"
   * (scrambled Sobol) or "grid" (every combination of a discrete space), or a sampler config as JSON
   * (`{"kind": "tpe", "n_startup_trials": 5}`). Grid mode (`estimatorParamMaps`) is always "grid".
   * @group param
   */
  final val sampler: Param[String] = new Param(this, "sampler",
    "how the core samples searchSpace: random, tpe, qmc or grid, or a sampler config as JSON",
    (s: String) => s != null && (ValidatorParams.Samplers.contains(s) || s.trim.startsWith("{")))

  /** @group getParam */
  def getSampler: String = $(sampler)

  /** @group param */
  final val maxTrials: IntParam = new IntParam(this, "maxTrials",
    "the number of trials of a search over searchSpace, counting finished trials of a resumed store (>= 1)",
    ParamValidators.gtEq(1))

  /** @group getParam */
  def getMaxTrials: Int = $(maxTrials)

  /**
   * Seconds after which the search stops: trials under way are cancelled (through their job
   * groups), finished ones are kept and the best of them is refitted. 0: no limit.
   * @group param
   */
  final val timeout: DoubleParam = new DoubleParam(this, "timeout",
    "seconds after which running trials are cancelled and the best finished one is used (0: no limit)",
    ParamValidators.gtEq(0.0))

  /** @group getParam */
  def getTimeout: Double = $(timeout)

  /**
   * Fold-level early stopping, decided by the core: "" (none), "median" (median stopping), "truncation"
   * (the worst 20% at each fold), "bandit" (outside a 10% slack of the best), or a pruner config as
   * JSON (`{"kind": "median", "min_trials": 5, "min_step": 1}`). A configuration is compared after each
   * of its first folds with the others' means over the same folds; a stopped one is recorded "pruned".
   * @group param
   */
  final val pruning: Param[String] = new Param(this, "pruning",
    "fold-level early stopping: '' (none), median, truncation, bandit, or a pruner config as JSON",
    (s: String) => s != null && (ValidatorParams.Pruners.contains(s) || s.trim.startsWith("{")))

  /** @group getParam */
  def getPruning: String = $(pruning)

  /** @group param */
  final val trialStore: Param[String] = new Param(this, "trialStore",
    "path of the trial journal: trials are recorded there and a later fit resumes from it " +
      "(empty: in memory only)")

  /** @group getParam */
  def getTrialStore: String = $(trialStore)

  /**
   * How many partitions each fold's training and validation rows are coalesced to before they are
   * cached. 0 (the default) chooses: as many as the cores each of the `parallelism` concurrent trials
   * has (`defaultParallelism / parallelism`, rounded up), more where a partition would hold over
   * `spark.sql.files.maxPartitionBytes` of the data set; it keeps the data's partitions when the
   * plan does not know its size. A fit runs a job per iteration with a task per partition, so small data over many
   * partitions spends its time on tasks, and the concurrent trials' tasks queue behind each other.
   * Each fold keeps Spark's rows; only the order of floating-point sums within a fit changes. A value
   * at or above the data's partition count keeps its partitioning.
   * @group expertParam
   */
  final val foldPartitions: IntParam = new IntParam(this, "foldPartitions",
    "partitions each fold is coalesced to before it is cached (0: the cores per concurrent trial, " +
      "at most spark.sql.files.maxPartitionBytes of data each; never more than the data has)",
    ParamValidators.gtEq(0))

  /** @group expertGetParam */
  def getFoldPartitions: Int = $(foldPartitions)

  setDefault(
    seed -> this.getClass.getName.hashCode.toLong,
    parallelism -> 1,
    collectSubModels -> false,
    sampler -> "random",
    maxTrials -> 10,
    timeout -> 0.0,
    pruning -> "",
    trialStore -> "",
    foldPartitions -> 0)
}

object ValidatorParams {
  /** The sampler names `sampler` takes (besides JSON configs). */
  val Samplers: Set[String] = Set("random", "tpe", "qmc", "grid")

  /** The pruner names `pruning` takes (besides JSON configs); "" is none. */
  val Pruners: Set[String] = Set("", "none", "median", "truncation", "bandit")

  /** The core's pruner config of a `pruning` value; None for no pruning. */
  private[tuning] def prunerConfig(pruning: String): Option[String] = pruning.trim match {
    case "" | "none" => None
    case "median" => Some("""{"kind":"median"}""")
    case "truncation" => Some("""{"kind":"truncation","truncation_percentage":20}""")
    case "bandit" => Some("""{"kind":"bandit","slack_factor":0.1}""")
    case json => Some(json)
  }

  /** The core's sampler config of a `sampler` value. */
  private[tuning] def samplerConfig(sampler: String): String = sampler.trim
}
