"""MLflow runs of a SparkTrials search: a parent run, one child run per trial.

Only when MLflow is importable and a tracking URI is set (mlflow.set_tracking_uri or
$MLFLOW_TRACKING_URI) or a run is active: the parent is the active run if there is one (left
running: it is the caller's), else a run sparktune creates and ends. Each trial's child run
(tag mlflow.parentRunId) is created by the driver before its task starts, with the values the
objective receives as params (a choice's option, not its index; named as sparktune's Scala FMin
names them, see `trial_params`); the task makes it the active run, so that mlflow.log_* inside
the objective land there; the driver then logs the loss and the status and ends it.

Logging never fails the search: a tracking server that does not answer is warned about once and
logging stops for the rest of the run. The driver's writes after a trial go through one
background thread, so that a slow server does not hold up dispatching the next trials.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import numbers
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional

logger = logging.getLogger(__name__)

PARENT_TAG = "mlflow.parentRunId"
# MLflow's limit on a param value (older servers: 500 characters).
MAX_PARAM_CHARS = 500
# MLflow's limit on the params of one log_batch call.
MAX_PARAMS_PER_BATCH = 100


def _tracking_uri_set() -> bool:
    try:
        from mlflow.tracking._tracking_service.utils import is_tracking_uri_set

        return bool(is_tracking_uri_set())
    except Exception:  # an MLflow without the helper: only the environment variable says
        return bool(os.environ.get("MLFLOW_TRACKING_URI"))


def _answers(uri: str) -> Optional[str]:
    """None when the tracking server at `uri` answers /health within 3 s, else why not."""
    if not uri.startswith(("http://", "https://")):
        return None
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=3) as response:
            response.read()
        return None
    except Exception as e:  # refused, timed out, HTTP error: the same for us
        return f"{type(e).__name__}: {e}"


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value) if not isinstance(value, (int, float)) else str(value)
    return text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 3] + "..."


def trial_params(values: Any) -> Dict[str, str]:
    """A trial's values, as its objective receives them, as MLflow params named as sparktune's Scala
    FMin names them: a dict's entries by key (a nested dict's as `outer.inner`), else `value`."""
    if not isinstance(values, dict):
        return {"value": _param_text(values)}
    out: Dict[str, str] = {}

    def flatten(prefix: str, entries: Dict[Any, Any]) -> None:
        for key, value in entries.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                flatten(name + ".", value)
            else:
                out[name] = _param_text(value)

    flatten("", values)
    return out


class TrialRuns:
    """The parent run and the trials' child runs of one fmin call (see the module docs)."""

    def __init__(self, mlflow: Any, client: Any, uri: str, experiment_id: str, parent_id: str, own_parent: bool):
        self._mlflow = mlflow
        self._client = client
        self.uri = uri
        self.experiment_id = experiment_id
        self.parent_id = parent_id
        self._own_parent = own_parent
        self._broken = False
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sparktune-mlflow")

    @classmethod
    def start(cls) -> Optional["TrialRuns"]:
        """The runs of a new search, or None when MLflow logging is off or its server is down."""
        # Importing mlflow takes seconds: only when the caller imported it (and may have set a
        # tracking URI or started a run) or named a tracking server in the environment.
        if "mlflow" not in sys.modules and not os.environ.get("MLFLOW_TRACKING_URI"):
            return None
        try:
            import mlflow
        except ImportError:
            return None
        active = mlflow.active_run()
        if active is None and not _tracking_uri_set():
            return None
        uri = mlflow.get_tracking_uri()
        down = _answers(uri)
        if down is not None:
            logger.warning("MLflow tracking server %s does not answer (%s): the trials are not logged", uri, down)
            return None
        try:
            from mlflow.tracking import MlflowClient

            client = MlflowClient(uri)
            if active is not None:
                return cls(mlflow, client, uri, active.info.experiment_id, active.info.run_id, False)
            from mlflow.tracking.fluent import _get_experiment_id

            experiment_id = _get_experiment_id() or "0"
            parent = client.create_run(experiment_id, run_name="sparktune-fmin",
                                       tags={"sparktune.trials": "SparkTrials"})
            return cls(mlflow, client, uri, experiment_id, parent.info.run_id, True)
        except Exception as e:
            logger.warning("MLflow logging is off for this search: %s: %s", type(e).__name__, e)
            return None

    def _failed(self, what: str, e: Exception) -> None:
        if not self._broken:
            self._broken = True
            logger.warning("MLflow: %s failed (%s: %s); the rest of the search is not logged", what,
                           type(e).__name__, e)

    def child(self, tid: Any, values: Any) -> Optional[str]:
        """Creates trial `tid`'s child run with its values as params; its run id (None when logging broke)."""
        if self._broken:
            return None
        try:
            from mlflow.entities import Param

            run = self._client.create_run(self.experiment_id, run_name=f"trial-{tid}",
                                          tags={PARENT_TAG: self.parent_id, "trial_id": str(tid)})
            params = [Param(k, v) for k, v in trial_params(values).items()]
            for first in range(0, len(params), MAX_PARAMS_PER_BATCH):
                self._client.log_batch(run.info.run_id, params=params[first:first + MAX_PARAMS_PER_BATCH])
            return run.info.run_id
        except Exception as e:
            self._failed(f"creating the run of trial {tid}", e)
            return None

    def task_info(self, run_id: str) -> Dict[str, str]:
        """What a task needs to make `run_id` its active run."""
        return {"tracking_uri": self.uri, "run_id": run_id}

    def finish(self, run_id: Optional[str], result: Dict[str, Any], cancelled: bool = False) -> None:
        """Logs a trial's outcome in its child run and ends it (in the background)."""
        if run_id is None or self._broken:
            return
        self._writer.submit(self._finish, run_id, dict(result), cancelled)

    def _finish(self, run_id: str, result: Dict[str, Any], cancelled: bool) -> None:
        if self._broken:
            return
        from mlflow.entities import Metric, RunTag

        status = str(result.get("status"))
        ok = status == "ok" and not cancelled
        now = int(time.time() * 1000)
        metrics = []
        for key, value in result.items():
            if key == "status" or isinstance(value, bool) or not isinstance(value, numbers.Real):
                continue
            if math.isfinite(float(value)):
                metrics.append(Metric(str(key), float(value), now, 0))
        tags = [RunTag("status", "cancelled" if cancelled else status)]
        if result.get("error"):
            tags.append(RunTag("error", str(result["error"])[:5000]))
        try:
            self._client.log_batch(run_id, metrics=metrics[:900], tags=tags)
            self._client.set_terminated(run_id, "FINISHED" if ok else ("KILLED" if cancelled else "FAILED"))
        except Exception as e:
            self._failed(f"logging the outcome of run {run_id}", e)

    def close(self, best_loss: float, trials: Any) -> None:
        """Waits for the pending writes; logs the best loss in the parent, ending it if sparktune began it."""
        self._writer.shutdown(wait=True)
        if self._broken:
            return
        try:
            from mlflow.entities import Metric

            now = int(time.time() * 1000)
            metrics = [Metric("best_loss", best_loss, now, 0)] if math.isfinite(best_loss) else []
            metrics.append(Metric("n_trials", float(trials.count_total_trials()), now, 0))
            self._client.log_batch(self.parent_id, metrics=metrics)
            if self._own_parent:
                self._client.set_terminated(self.parent_id, "FINISHED")
        except Exception as e:
            self._failed("logging the search's parent run", e)
