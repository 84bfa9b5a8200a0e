package io.sparktune.ml.tracking

import org.apache.spark.ml.param.{BooleanParam, Param, Params}

/**
 * A tuner's MLflow params: whether and where its trials are logged as nested runs. Unset, they
 * follow MLflow's environment variables (MLFLOW_TRACKING_URI, MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_NAME);
 * with no tracking URI at all nothing is logged.
 */
trait MlflowParams extends Params {

  /** @group param */
  final val mlflowLogging: BooleanParam = new BooleanParam(this, "mlflowLogging",
    "whether to log the trials to MLflow as child runs of a parent run (when a tracking URI is set)")

  /** @group getParam */
  def getMlflowLogging: Boolean = $(mlflowLogging)

  /** @group setParam */
  def setMlflowLogging(value: Boolean): this.type = set(mlflowLogging, value)

  /** @group param */
  final val mlflowTrackingUri: Param[String] = new Param(this, "mlflowTrackingUri",
    "the MLflow tracking server: http(s)://..., databricks or databricks://<profile> " +
      "(empty: MLFLOW_TRACKING_URI)")

  /** @group getParam */
  def getMlflowTrackingUri: String = $(mlflowTrackingUri)

  /** @group setParam */
  def setMlflowTrackingUri(value: String): this.type = set(mlflowTrackingUri, value)

  /** @group param */
  final val mlflowRunId: Param[String] = new Param(this, "mlflowRunId",
    "the run the trials nest under, left running (empty: MLFLOW_RUN_ID, else a new run ended with the fit)")

  /** @group getParam */
  def getMlflowRunId: String = $(mlflowRunId)

  /** @group setParam */
  def setMlflowRunId(value: String): this.type = set(mlflowRunId, value)

  /** @group param */
  final val mlflowExperimentName: Param[String] = new Param(this, "mlflowExperimentName",
    "the experiment of a new parent run, created if missing (empty: MLFLOW_EXPERIMENT_NAME, else " +
      "MLFLOW_EXPERIMENT_ID, else Default)")

  /** @group getParam */
  def getMlflowExperimentName: String = $(mlflowExperimentName)

  /** @group setParam */
  def setMlflowExperimentName(value: String): this.type = set(mlflowExperimentName, value)

  setDefault(mlflowLogging -> true, mlflowTrackingUri -> "", mlflowRunId -> "", mlflowExperimentName -> "")

  /** The settings these params and the environment give. */
  def mlflowSettings: MlflowSettings =
    MlflowSettings.resolve($(mlflowLogging), $(mlflowTrackingUri), $(mlflowRunId), $(mlflowExperimentName))
}
