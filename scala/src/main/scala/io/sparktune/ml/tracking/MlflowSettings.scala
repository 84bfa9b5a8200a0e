package io.sparktune.ml.tracking

/**
 * Where a fit logs: the tuner's params, else the environment variables MLflow's clients read.
 *
 * @param enabled        false turns logging off
 * @param trackingUri    the tuner's mlflowTrackingUri, else MLFLOW_TRACKING_URI; empty: no logging
 * @param parentRunId    the run the trials nest under (the caller's, never ended by sparktune): the
 *                       tuner's mlflowRunId, else MLFLOW_RUN_ID; empty: a new run for the fit
 * @param experimentName for a new run: the tuner's mlflowExperimentName, else MLFLOW_EXPERIMENT_NAME
 *                       (created if missing); else MLFLOW_EXPERIMENT_ID; else the Default experiment
 */
final case class MlflowSettings(
    enabled: Boolean,
    trackingUri: String,
    parentRunId: String,
    experimentName: String,
    experimentId: String)

object MlflowSettings {
  /** The Default experiment every MLflow server has. */
  val DefaultExperimentId = "0"

  def resolve(enabled: Boolean, trackingUri: String, runId: String, experimentName: String,
      env: Map[String, String] = sys.env): MlflowSettings = {
    def or(param: String, variable: String): String =
      Option(param).map(_.trim).filter(_.nonEmpty).getOrElse(env.getOrElse(variable, "").trim)
    MlflowSettings(
      enabled = enabled,
      trackingUri = or(trackingUri, "MLFLOW_TRACKING_URI"),
      parentRunId = or(runId, "MLFLOW_RUN_ID"),
      experimentName = or(experimentName, "MLFLOW_EXPERIMENT_NAME"),
      experimentId = env.getOrElse("MLFLOW_EXPERIMENT_ID", "").trim)
  }
}
