package io.sparktune.ml.tracking

/**
 * What a tuner tells a tracker, as plain data (names and values already rendered), so that every
 * tuner (CrossValidator, TrainValidationSplit) logs through the same [[MlflowTracker]].
 */

/** A metric value at a step (a fold's metric has its fold index as step). */
final case class MetricPoint(key: String, value: Double, step: Long = 0L)

/**
 * The tuner being fitted: the parent run's params and tags, logged when the fit starts.
 *
 * @param tunerClass the tuner's class (the `estimator_name` / `estimator_class` tags, as autologging sets them)
 * @param params     the tuner's params, named as MLflow's pyspark.ml autologging names them
 */
final case class TunerInfo(
    tunerClass: Class[_],
    uid: String,
    params: Seq[(String, String)])

/**
 * One finished trial: a child run of the parent.
 *
 * @param params      every param of the estimator the trial fitted, by name, as values
 * @param tunedParams the params the search set (the results table's `param.<name>` columns)
 * @param state       sparktune's state: ok, fail, cancelled or pruned
 */
final case class TrialRecord(
    id: Long,
    params: Seq[(String, String)],
    tunedParams: Seq[(String, String)],
    metrics: Seq[MetricPoint],
    state: String,
    error: Option[String],
    startedMs: Long,
    finishedMs: Long)

/** An artifact of the parent run: a file name and its text. */
final case class Artifact(fileName: String, text: String)

/**
 * The end of a successful fit: the parent run's best params and metrics, and its artifacts.
 *
 * @param params    e.g. `best_LogisticRegression.regParam`
 * @param metrics   e.g. `best_avg_areaUnderROC`
 * @param tags      e.g. the best trial's id
 */
final case class TuningSummary(
    params: Seq[(String, String)],
    metrics: Seq[(String, Double)],
    tags: Seq[(String, String)],
    artifacts: Seq[Artifact])
