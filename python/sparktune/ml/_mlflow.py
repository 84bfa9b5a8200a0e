"""MLflow params of sparktune's tuners. The logging itself is the Scala tuner's (trials as nested
runs, from a background thread); Python passes on the caller's active run and tracking URI."""

from __future__ import annotations

import sys
from typing import Any

from pyspark.ml.param import Param, Params, TypeConverters

_LOGGABLE_SCHEMES = ("http:", "https:", "databricks")


class _MlflowParams(Params):
    """Whether and where trials are logged to MLflow: as child runs of the caller's active run
    (left running), else of a new run ended with the fit. Unset, MLflow's environment variables
    (MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_NAME, ...) apply; with no tracking URI nothing is logged."""

    mlflowLogging: "Param[bool]" = Param(
        Params._dummy(),
        "mlflowLogging",
        "whether to log the trials to MLflow as child runs of a parent run (when a tracking URI is set)",
        typeConverter=TypeConverters.toBoolean,
    )
    mlflowTrackingUri: "Param[str]" = Param(
        Params._dummy(),
        "mlflowTrackingUri",
        "the MLflow tracking server: http(s)://..., databricks or databricks://<profile> (empty: "
        "mlflow.get_tracking_uri() when it is one of those, else MLFLOW_TRACKING_URI)",
        typeConverter=TypeConverters.toString,
    )
    mlflowExperimentName: "Param[str]" = Param(
        Params._dummy(),
        "mlflowExperimentName",
        "the experiment of a new parent run, created if missing (empty: MLFLOW_EXPERIMENT_NAME, "
        "else MLFLOW_EXPERIMENT_ID, else Default)",
        typeConverter=TypeConverters.toString,
    )

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(mlflowLogging=True, mlflowTrackingUri="", mlflowExperimentName="")

    def getMlflowLogging(self) -> bool:
        """Gets the value of mlflowLogging or its default value."""
        return self.getOrDefault(self.mlflowLogging)

    def setMlflowLogging(self, value: bool):
        """Sets the value of :py:attr:`mlflowLogging`."""
        return self._set(mlflowLogging=value)

    def getMlflowTrackingUri(self) -> str:
        """Gets the value of mlflowTrackingUri or its default value."""
        return self.getOrDefault(self.mlflowTrackingUri)

    def setMlflowTrackingUri(self, value: str):
        """Sets the value of :py:attr:`mlflowTrackingUri`."""
        return self._set(mlflowTrackingUri=value)

    def getMlflowExperimentName(self) -> str:
        """Gets the value of mlflowExperimentName or its default value."""
        return self.getOrDefault(self.mlflowExperimentName)

    def setMlflowExperimentName(self, value: str):
        """Sets the value of :py:attr:`mlflowExperimentName`."""
        return self._set(mlflowExperimentName=value)

    def _set_java_mlflow_params(self, java_tuner) -> None:
        """The Scala tuner's MLflow params, with the caller's active run (`with mlflow.start_run():`)
        as the parent, on the caller's tracking URI."""
        uri, run_id = self.getMlflowTrackingUri(), ""
        # Only when the caller uses mlflow: importing it would cost seconds.
        mlflow = sys.modules.get("mlflow")
        if mlflow is not None and self.getMlflowLogging():
            run = mlflow.active_run()
            if run is not None:
                run_id = run.info.run_id
                uri = uri or mlflow.get_tracking_uri()
            elif not uri and str(mlflow.get_tracking_uri()).startswith(_LOGGABLE_SCHEMES):
                uri = mlflow.get_tracking_uri()
        java_tuner.setMlflowLogging(self.getMlflowLogging())
        java_tuner.setMlflowTrackingUri(uri)
        java_tuner.setMlflowRunId(run_id)
        java_tuner.setMlflowExperimentName(self.getMlflowExperimentName())
