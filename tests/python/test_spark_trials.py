"""SparkTrials on a real multi-process cluster: local-cluster[2,1,1024], two executor JVMs of one
core each, so that every objective runs in an executor's Python worker, not in the driver.

The cluster is started once for the module (about 10 s). A SparkSession the other modules made
(conftest's local[2]) is stopped for good: conftest runs this module's tests last.
"""

import math
import os
import shutil
import sys
import time

import numpy as np
import pytest

from sparktune.hyperopt import STATUS_OK, SparkTrials, fmin, hp, rand, tpe
from sparktune.hyperopt.base import JOB_STATE_CANCEL, JOB_STATE_DONE, JOB_STATE_ERROR
from sparktune.hyperopt.spark_trials import (
    INLINE_OBJECTIVE_BYTES,
    ObjectiveNotLoadable,
    ObjectiveNotPicklable,
    _parallelism,
    _pickle_objective,
)

DRIVER_PID = os.getpid()
SPACE = {"x": hp.uniform("x", -5, 5)}

# Objectives are defined in this module; the executors cannot import it, so cloudpickle ships it
# by value (as a notebook's functions are).
from pyspark import cloudpickle  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def quadratic(p):
    return {"loss": (p["x"] - 1.0) ** 2, "status": STATUS_OK, "pid": os.getpid()}


@pytest.fixture(scope="module")
def cluster():
    from pyspark.sql import SparkSession

    previous = SparkSession.getActiveSession()
    if previous is not None:  # conftest's local session: this module's tests run last (see conftest)
        previous.stop()
    session = (
        SparkSession.builder.master("local-cluster[2,1,1024]")
        .appName("sparktune-spark-trials-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.executor.memory", "512m")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    sc = session.sparkContext
    deadline = time.time() + 90
    # Both executors registered: defaultParallelism counts their cores.
    while sc._jsc.sc().getExecutorMemoryStatus().size() < 3 and time.time() < deadline:
        time.sleep(0.2)
    assert sc.defaultParallelism == 2
    # Python workers started on both executors, so that the first test's trials do not wait for them.
    assert len(set(sc.parallelize(range(8), 8).map(lambda _: os.getpid()).collect())) >= 2
    yield session
    app_id = sc.applicationId
    session.stop()
    # local-cluster's workers keep the executors' logs in $SPARK_HOME/work/<app id> (pyspark's folder).
    import pyspark

    shutil.rmtree(os.path.join(os.path.dirname(pyspark.__file__), "work", app_id), ignore_errors=True)


def test_trials_run_on_executors_and_find_the_minimum(cluster):
    trials = SparkTrials(parallelism=2, spark_session=cluster)
    best = fmin(quadratic, SPACE, algo=tpe.suggest, max_evals=24, trials=trials,
                rstate=np.random.default_rng(0), show_progressbar=False)
    assert len(trials.trials) == 24
    assert all(t["state"] == JOB_STATE_DONE for t in trials.trials)
    pids = {r["pid"] for r in trials.results}
    assert DRIVER_PID not in pids
    # The best trial is the minimum of what ran, and TPE got close to x = 1.
    losses = trials.losses()
    assert trials.best_trial["result"]["loss"] == min(losses)
    assert abs(best["x"] - 1.0) < 0.5
    assert best.space_values == {"x": best["x"]}
    assert trials.count_successful_trials() == 24 and trials.count_failed_trials() == 0


def test_choices_reach_the_objective_as_options(cluster):
    space = {"kind": hp.choice("kind", ["a", "b"]), "n": hp.randint("n", 1, 4)}

    def objective(p):
        return {"a": 1.0, "b": 0.0}[p["kind"]] + p["n"]

    trials = SparkTrials(parallelism=2, spark_session=cluster)
    best = fmin(objective, space, algo=rand.suggest, max_evals=12, trials=trials,
                rstate=np.random.default_rng(3), show_progressbar=False)
    assert best.space_values == {"kind": "b", "n": 1}
    assert best == {"kind": 1, "n": 1}


def test_options_defined_in_the_notebook_reach_the_executors(cluster):
    # A trial's values travel in its job's local property, cloudpickled: functions and classes
    # defined here (in __main__, for a notebook) arrive by value, not by a module name.
    class Shift:
        def __init__(self, by):
            self.by = by

    space = {"f": hp.choice("f", [lambda x: (x - 1) ** 2, lambda x: x ** 2 + 3]),
             "shift": hp.choice("shift", [Shift(0.0), Shift(2.0)]),
             "x": hp.uniform("x", -2, 2)}

    def objective(p):
        return {"loss": p["f"](p["x"]) + p["shift"].by, "status": STATUS_OK, "pid": os.getpid()}

    trials = SparkTrials(parallelism=2, spark_session=cluster)
    fmin(objective, space, algo=tpe.suggest, max_evals=16, trials=trials, rstate=np.random.default_rng(5),
         show_progressbar=False)
    assert trials.count_successful_trials() == 16
    assert DRIVER_PID not in {r["pid"] for r in trials.results}
    assert {t["misc"]["vals"]["f"][0] for t in trials.trials} == {0, 1}
    # Each loss is what the chosen options give at the trial's x, computed on the executor.
    for t in trials.trials:
        vals = {k: v[0] for k, v in t["misc"]["vals"].items()}
        expected = ((vals["x"] - 1) ** 2 if vals["f"] == 0 else vals["x"] ** 2 + 3) + (0.0, 2.0)[vals["shift"]]
        assert t["result"]["loss"] == pytest.approx(expected)


def failing(p):
    if p["x"] < 0:
        raise ValueError(f"x={p['x']:.3f} is negative")
    return p["x"]


def test_an_exception_fails_its_trial_with_the_traceback(cluster):
    trials = SparkTrials(parallelism=2, spark_session=cluster)
    best = fmin(failing, SPACE, algo=rand.suggest, max_evals=12, trials=trials,
                rstate=np.random.default_rng(1), show_progressbar=False)
    errors = trials.errors
    assert errors, "some x were negative"
    assert len(errors) + len(trials.trials) == 12
    for doc in errors:
        assert doc["state"] == JOB_STATE_ERROR
        assert "ValueError: x=" in doc["result"]["error"]
        assert "raise ValueError" in doc["result"]["traceback"]
        assert "failing" in doc["result"]["traceback"]
        assert doc["misc"]["error"][0] == "<class 'ValueError'>"
    assert best["x"] >= 0
    assert trials.count_failed_trials() == len(errors)


def test_nan_and_non_numbers_fail_their_trials_and_the_run_goes_on(cluster):
    def objective(p):
        if p["x"] < -2:
            return float("nan")
        if p["x"] < 0:
            return "not a loss"
        return p["x"]

    trials = SparkTrials(parallelism=2, spark_session=cluster)
    fmin(objective, SPACE, algo=rand.suggest, max_evals=16, trials=trials, rstate=np.random.default_rng(2),
         show_progressbar=False)
    nan = [t for t in trials.trials if isinstance(t["result"].get("loss"), float) and math.isnan(t["result"]["loss"])]
    strings = trials.errors
    assert nan and strings
    for doc in strings:
        assert "the objective returned str 'not a loss': not a number" in doc["result"]["error"]
    assert len(trials.trials) + len(strings) == 16
    assert trials.best_trial["result"]["loss"] >= 0


def test_an_objective_that_cannot_be_pickled_is_refused_before_any_trial(cluster):
    sc = cluster.sparkContext

    def uses_the_context(p):
        return sc.parallelize([p["x"]]).sum()

    trials = SparkTrials(parallelism=2, spark_session=cluster)
    with pytest.raises(ObjectiveNotPicklable, match="uses_the_context.*cannot be pickled.*SparkContext"):
        fmin(uses_the_context, SPACE, algo=rand.suggest, max_evals=4, trials=trials, show_progressbar=False)
    assert trials.count_total_trials() == 0


def test_a_large_objective_is_broadcast_and_its_trials_run(cluster):
    table = np.arange(50_000, dtype=np.float64)  # 400 KB: above the size sent with each task

    def objective(p):
        return {"loss": (p["x"] - 1.0) ** 2 + table[-1] - 49_999.0, "status": STATUS_OK}

    assert len(_pickle_objective(objective)) > INLINE_OBJECTIVE_BYTES
    trials = SparkTrials(parallelism=2, spark_session=cluster)
    fmin(objective, SPACE, algo=rand.suggest, max_evals=6, trials=trials, show_progressbar=False)
    assert trials.count_successful_trials() == 6
    expected = sorted((t["misc"]["vals"]["x"][0] - 1.0) ** 2 for t in trials.trials)
    assert sorted(trials.losses()) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("padding", [0, 200_000], ids=["sent-with-each-task", "broadcast"])
def test_an_objective_that_cannot_load_on_the_executors_stops_fmin_naming_why(cluster, tmp_path, monkeypatch,
                                                                               padding):
    # A module only the driver can import, as a library installed on the driver alone.
    (tmp_path / "driver_only_helpers.py").write_text("def shift(x):\n    return x - 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import driver_only_helpers

    blob = b"x" * padding

    def objective(p):
        return driver_only_helpers.shift(p["x"]) ** 2 + len(blob) * 0

    assert (len(_pickle_objective(objective)) > INLINE_OBJECTIVE_BYTES) == (padding > 0)
    trials = SparkTrials(parallelism=2, spark_session=cluster)
    with pytest.raises(ObjectiveNotLoadable, match="could not be unpickled on an executor.*driver_only_helpers"):
        fmin(objective, SPACE, algo=rand.suggest, max_evals=4, trials=trials, show_progressbar=False)


def test_an_option_that_cannot_load_on_the_executors_stops_fmin_naming_why(cluster, tmp_path, monkeypatch):
    # The objective loads; a choice's option is an object of a module only the driver has.
    (tmp_path / "driver_only_options.py").write_text("class Shift:\n    by = 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import driver_only_options

    space = {"x": hp.uniform("x", -2, 2), "shift": hp.choice("shift", [driver_only_options.Shift()])}
    trials = SparkTrials(parallelism=2, spark_session=cluster)
    with pytest.raises(ObjectiveNotLoadable, match="trial's values could not be unpickled.*driver_only_options"):
        fmin(lambda p: (p["x"] - p["shift"].by) ** 2, space, algo=rand.suggest, max_evals=4, trials=trials,
             show_progressbar=False)


def slow_when_negative(p):
    import time as _time

    if p["x"] < 0:
        _time.sleep(60)
    else:
        _time.sleep(0.2)
    return p["x"]


def test_a_timeout_cancels_the_running_trials_and_keeps_the_finished(cluster):
    trials = SparkTrials(parallelism=2, timeout=15, spark_session=cluster)
    start = time.time()
    # Two quick trials first (so that some finish), then random ones: half of them sleep 60 s.
    best = fmin(slow_when_negative, SPACE, algo=rand.suggest, max_evals=100, trials=trials,
                rstate=np.random.default_rng(5), show_progressbar=False, points_to_evaluate=[{"x": 1.0}, {"x": 2.0}])
    wall = time.time() - start
    assert wall < 15 + 2.5, f"fmin returned {wall:.1f} s after its start, with a 15 s timeout"
    cancelled = [t for t in trials._dynamic_trials if t["state"] == JOB_STATE_CANCEL]
    assert cancelled and all("timeout" in t["result"]["error"] for t in cancelled)
    assert len(trials.trials) >= 1 and all(t["state"] == JOB_STATE_DONE for t in trials.trials)
    assert best["x"] >= 0
    assert trials.count_cancelled_trials() == len(cancelled)
    # The cancelled jobs are gone: the cluster runs new trials at once.
    again = SparkTrials(parallelism=2, spark_session=cluster)
    fmin(quadratic, SPACE, algo=rand.suggest, max_evals=2, trials=again, show_progressbar=False)
    assert len(again.trials) == 2


def sleepy(p):
    import time as _time

    _time.sleep(60)
    return p["x"]


def test_ctrl_c_cancels_the_running_trials(cluster):
    import signal
    import threading

    trials = SparkTrials(parallelism=2, spark_session=cluster)
    interrupt = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT))
    start = time.time()
    interrupt.start()
    with pytest.raises(KeyboardInterrupt):
        fmin(sleepy, SPACE, algo=rand.suggest, max_evals=10, trials=trials, show_progressbar=False)
    assert time.time() - start < 3 + 2.5
    assert trials.count_cancelled_trials() >= 2
    assert all("KeyboardInterrupt" in t["result"]["error"] for t in trials._dynamic_trials)
    # Their jobs are cancelled, not left running on the executors.
    tracker = cluster.sparkContext.statusTracker()
    deadline = time.time() + 10
    while tracker.getActiveJobsIds() and time.time() < deadline:
        time.sleep(0.1)
    assert not tracker.getActiveJobsIds()


def test_early_stop_fn_cancels_the_running_trials(cluster):
    def one_second(p):
        import time as _time

        _time.sleep(1)
        return p["x"]

    trials = SparkTrials(parallelism=2, spark_session=cluster)
    fmin(one_second, SPACE, algo=rand.suggest, max_evals=100, trials=trials, rstate=np.random.default_rng(7),
         show_progressbar=False, early_stop_fn=lambda t, *state: (t.count_by_state_synced(JOB_STATE_DONE) >= 3, state))
    done = trials.count_by_state_synced(JOB_STATE_DONE)
    cancelled = [t for t in trials._dynamic_trials if t["state"] == JOB_STATE_CANCEL]
    # Stopped at the first check with 3 done: the trials still in flight then (2) cancelled, unless done by then.
    assert done >= 3 and trials.count_total_trials() == 5
    assert all("early_stop_fn" in t["result"]["error"] for t in cancelled)
    assert done + len(cancelled) == trials.count_total_trials()


def test_loss_threshold_stops_the_search(cluster):
    trials = SparkTrials(parallelism=2, spark_session=cluster, loss_threshold=0.5)
    fmin(quadratic, SPACE, algo=tpe.suggest, max_evals=200, trials=trials, rstate=np.random.default_rng(0),
         show_progressbar=False)
    assert min(trials.losses()) < 0.5
    assert trials.count_total_trials() < 200


def test_parallelism_rules():
    assert _parallelism(None, 8) == 8
    assert _parallelism(0, 8) == 8
    assert _parallelism(4, 8) == 4
    assert _parallelism(16, 8) == 8
    assert _parallelism(500, 1000) == 128
    with pytest.raises(ValueError, match="parallelism"):
        _parallelism(2.5, 8)


def test_progress_line_counts_running_failed_and_best(cluster, capsys):
    trials = SparkTrials(parallelism=2, spark_session=cluster)
    fmin(failing, SPACE, algo=rand.suggest, max_evals=6, trials=trials, rstate=np.random.default_rng(1))
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert f"{len(trials.trials)}/6 trials" in last
    assert f"failed {len(trials.errors)}" in last and "running 0" in last
    assert f"best loss {trials.best_trial['result']['loss']:.6g}" in last


# -- MLflow -----------------------------------------------------------------------------------------


def logging_objective(p):
    import mlflow

    mlflow.log_metric("inside", p["x"] * 10)
    mlflow.log_param("worker_pid", os.getpid())
    if p["kind"] == "bad":
        raise RuntimeError("bad kind")
    return (p["x"] - 1) ** 2


def test_mlflow_parent_and_child_runs(cluster, mlflow_server):
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(mlflow_server)
    try:
        mlflow.set_experiment("spark-trials")
        space = {"x": hp.uniform("x", -2, 2), "kind": hp.choice("kind", ["good", "bad", "good2"]),
                 "tree": {"depth": hp.randint("depth", 2, 5)}}
        with mlflow.start_run(run_name="mine") as parent:
            trials = SparkTrials(parallelism=2, spark_session=cluster)
            fmin(logging_objective, space, algo=rand.suggest, max_evals=8, trials=trials,
                 rstate=np.random.default_rng(4), show_progressbar=False)
            assert mlflow.active_run().info.run_id == parent.info.run_id  # still the caller's, still running
        client = MlflowClient(mlflow_server)
        children = client.search_runs([parent.info.experiment_id],
                                      filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
        assert len(children) == 8
        by_trial = {int(r.data.tags["trial_id"]): r for r in children}
        docs = {t["tid"]: t for t in trials._dynamic_trials}
        assert set(by_trial) == set(docs)
        for tid, run in by_trial.items():
            doc = docs[tid]
            kind = ["good", "bad", "good2"][doc["misc"]["vals"]["kind"][0]]
            x = doc["misc"]["vals"]["x"][0]
            assert run.data.params["kind"] == kind  # the option, not its index
            assert float(run.data.params["x"]) == pytest.approx(x)
            # A nested dict's entry as outer.inner, as the Scala FMin names it:
            assert int(run.data.params["tree.depth"]) == doc["misc"]["vals"]["depth"][0]
            # Logged by the objective, inside its task on an executor:
            assert run.data.metrics["inside"] == pytest.approx(x * 10)
            assert int(run.data.params["worker_pid"]) != DRIVER_PID
            if kind == "bad":
                assert run.data.tags["status"] == "fail" and run.info.status == "FAILED"
                assert "bad kind" in run.data.tags["error"]
            else:
                assert run.data.tags["status"] == "ok" and run.info.status == "FINISHED"
                assert run.data.metrics["loss"] == pytest.approx((x - 1) ** 2)
        assert client.get_run(parent.info.run_id).info.status == "FINISHED"  # ended by the with block
    finally:
        mlflow.set_tracking_uri(None)


def sum_of_values(p):
    return float(sum(p.values()))


def test_mlflow_logs_every_param_of_a_wide_space(cluster, mlflow_server):
    """MLflow takes at most 100 params a batch: a trial with 120 is logged in two."""
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(mlflow_server)
    try:
        mlflow.set_experiment("spark-trials-wide")
        space = {f"p{i:03d}": hp.uniform(f"p{i:03d}", 0, 1) for i in range(120)}
        with mlflow.start_run(run_name="wide") as parent:
            trials = SparkTrials(parallelism=1, spark_session=cluster)
            fmin(sum_of_values, space, algo=rand.suggest, max_evals=1, trials=trials, show_progressbar=False)
        (child,) = MlflowClient(mlflow_server).search_runs(
            [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
        assert set(child.data.params) == set(space)
        assert float(child.data.params["p119"]) == pytest.approx(trials.trials[0]["misc"]["vals"]["p119"][0])
    finally:
        mlflow.set_tracking_uri(None)


def test_mlflow_down_warns_and_the_search_runs(cluster, caplog, free_port):
    pytest.importorskip("mlflow")
    import mlflow

    mlflow.set_tracking_uri(f"http://127.0.0.1:{free_port}")
    try:
        trials = SparkTrials(parallelism=2, spark_session=cluster)
        fmin(quadratic, SPACE, algo=rand.suggest, max_evals=4, trials=trials, show_progressbar=False)
    finally:
        mlflow.set_tracking_uri(None)
    assert len(trials.trials) == 4
    assert "does not answer" in caplog.text
