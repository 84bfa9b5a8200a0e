"""What runs inside the Spark task of one SparkTrials trial, on an executor.

This module is shipped to the executors by value (cloudpickle), with sparktune.pyspark_daemon, so
that they need pyspark and the objective's own imports, not sparktune: it must import nothing else
of sparktune's. Its answer is a tuple of plain values, so that nothing the objective returns can
fail the task (and make Spark retry it):

    ("ok", pickled return value, seconds)
    ("error", repr of the exception type, its name, message, traceback, seconds)
    ("load_error", ...same fields): the objective could not be unpickled here
    ("values_error", ...same fields): the trial's values could not be unpickled here

The task's function is the same for every trial of a run (one RDD, collected once per trial);
each trial's values come as a local property of its job (see `encode_trial`), so that
dispatching a trial pickles no function and builds no Python RDD (that took 7-37 ms on the
driver between a trial's end and the next dispatch; setting the property takes 0.4 ms).
"""

import base64
import gc
import pickle
import time
import traceback

from sparktune.pyspark_daemon import keep_zip_indexes


class Pickled:
    """Bytes that unpickle to the objective: broadcast as this (plain pickle stores a call to
    pickle.loads on the cloudpickled bytes), so that each Python worker unpickles it once and
    keeps it with the broadcast."""

    def __init__(self, data):
        self.data = data

    def __reduce__(self):
        return (pickle.loads, (self.data,))


class Inline:
    """A small objective's bytes, sent with each task's command: cheaper than a broadcast, which
    costs about 30 ms to create and more to destroy. Unpickled by `.value`, in the task, so that
    an objective that cannot load there fails as a "load_error" answer."""

    def __init__(self, data):
        self.data = data

    @property
    def value(self):
        return pickle.loads(self.data)


def _dumps(value):
    try:
        return pickle.dumps(value)
    except Exception:  # a lambda or a local class inside the result: cloudpickle knows those
        from pyspark import cloudpickle

        return cloudpickle.dumps(value)


def _error(kind, e, start):
    return (kind, str(type(e)), type(e).__name__, str(e), traceback.format_exc(), time.time() - start)


def _start_mlflow_run(mlflow_run):
    """Makes the trial's child run (created by the driver) the active run of this worker, so that
    mlflow.log_* in the objective land there."""
    import mlflow

    mlflow.set_tracking_uri(mlflow_run["tracking_uri"])
    if mlflow.active_run() is not None:  # left over by an earlier trial of this reused worker
        mlflow.end_run()
    return mlflow.start_run(run_id=mlflow_run["run_id"])


def _end_mlflow_run(failed):
    try:
        import mlflow

        mlflow.end_run("FAILED" if failed else "FINISHED")
    except Exception:  # the driver ends the run too; a tracking server down must not fail the trial
        pass


def _freeze_worker_objects():
    """Moves what the worker holds now (pyspark, the objective and its imports) out of the cyclic
    collector's sight. Spark's daemon runs gc.collect() after every task of a reused worker, and
    the next task's input waits for it: 15-40 ms a trial with pyspark alone, more with big
    libraries. Freezing before the objective runs keeps its own garbage collectable; frozen
    objects are still freed by reference counting."""
    gc.freeze()


def evaluate(objective, values, mlflow_run):
    """Runs the objective (an `Inline`, or a broadcast of `Pickled`) on `values`; see the module docs."""
    start = time.time()
    keep_zip_indexes()  # a worker of pyspark's own daemon: its next tasks skip re-reading the zips
    _freeze_worker_objects()
    try:
        from pyspark import TaskContext

        context = TaskContext.get()
        attempt = context.attemptNumber() if context is not None else 0
    except Exception:
        attempt = 0
    if attempt > 0:
        # Exceptions of the objective never fail the task, so an earlier attempt was lost with its
        # worker (a crash, an executor lost): a trial runs once, as hyperopt's SparkTrials says.
        message = (f"the trial's Spark task was lost (this is attempt {attempt + 1}): its Python worker or "
                   "executor died while the objective ran (out of memory? a crash in native code?)")
        return ("error", "<class 'sparktune.TrialLost'>", "TrialLost", message, "", 0.0)
    try:
        fn = objective.value
    except Exception as e:
        return _error("load_error", e, start)
    started_run = False
    failed = True
    try:
        if mlflow_run is not None:
            try:
                _start_mlflow_run(mlflow_run)
                started_run = True
            except Exception as e:  # the objective still runs; its own mlflow calls may fail
                print(f"sparktune SparkTrials: could not start the trial's MLflow run: {e}")
        rval = fn(values)
        try:
            data = _dumps(rval)
        except Exception as e:
            raise TypeError(f"the objective returned a {type(rval).__name__} that cannot be pickled back to "
                            f"the driver: {e}") from None
        failed = False
        return ("ok", data, time.time() - start)
    except (Exception, SystemExit) as e:
        return _error("error", e, start)
    finally:
        if started_run:
            _end_mlflow_run(failed)


# The job's local property that carries a trial's values and MLflow run to its task.
TRIAL_PROPERTY = "sparktune.trial"


def encode_trial(values, mlflow_run):
    """The TRIAL_PROPERTY value of a trial, on the driver: local properties are strings.
    cloudpickle, as a choice's option may be a class or a function defined in the notebook."""
    from pyspark import cloudpickle

    return base64.b64encode(cloudpickle.dumps((values, mlflow_run))).decode("ascii")


def _decode_trial(text):
    return pickle.loads(base64.b64decode(text))


def partition_function(objective):
    """The mapPartitions function of a run's one-element RDD: evaluates the trial its job carries."""

    def run(partition):
        # The input read to its end: a Python worker that leaves input unread is not reused (it
        # exits, and the next task waits for a new one).
        for _ in partition:
            pass
        start = time.time()
        try:
            from pyspark import TaskContext

            values, mlflow_run = _decode_trial(TaskContext.get().getLocalProperty(TRIAL_PROPERTY))
        except Exception as e:  # a choice's option whose module the executors lack
            yield _error("values_error", e, start)
            return
        yield evaluate(objective, values, mlflow_run)

    return run
