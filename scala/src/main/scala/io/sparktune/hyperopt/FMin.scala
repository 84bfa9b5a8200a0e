package io.sparktune.hyperopt

import org.apache.spark.sql.SparkSession

import io.sparktune.Trial
import io.sparktune.space.SearchSpace

/**
 * hyperopt's `fmin` for Scala functions, each trial a Spark task (see [[SparkTrials]]):
 * {{{
 *   val result = FMin.fmin(p => loss(p), SearchSpace(Map("x" -> Hp.uniform("x", -5, 5))), maxEvals = 32,
 *                          parallelism = 4, timeoutSeconds = Some(600.0),
 *                          mlflowTrackingUri = Some("http://127.0.0.1:5000"))
 *   result.best.map(_.value)   // the best loss; result.bestValues: its parameters
 * }}}
 */
object FMin {

  /** Minimizes `fn` on the active SparkSession; the arguments are those of [[SparkTrials]] and its fmin. */
  def fmin(
      fn: Map[String, Any] => Double,
      space: SearchSpace,
      maxEvals: Int,
      algo: String = "tpe",
      parallelism: Int = 0,
      timeoutSeconds: Option[Double] = None,
      seed: Long = 0L,
      lossThreshold: Option[Double] = None,
      earlyStop: Seq[Trial] => Boolean = _ => false,
      showProgress: Boolean = true,
      mlflowTrackingUri: Option[String] = None,
      mlflowExperimentName: Option[String] = None,
      mlflowRunId: Option[String] = None,
      mlflowLogging: Boolean = true): FMinResult =
    new SparkTrials(SparkSession.active, parallelism, timeoutSeconds, mlflowTrackingUri, mlflowExperimentName,
      mlflowRunId, mlflowLogging).fmin(fn, space, maxEvals, algo, seed, lossThreshold, earlyStop,
      showProgress = showProgress)
}
