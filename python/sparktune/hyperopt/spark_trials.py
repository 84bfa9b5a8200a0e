"""hyperopt's SparkTrials on sparktune's core: each trial runs as one Spark task on an executor.

    from sparktune.hyperopt import fmin, tpe, hp, SparkTrials

    best = fmin(objective, space, algo=tpe.suggest, max_evals=64, trials=SparkTrials(parallelism=8))

The driver proposes the trials (the Rust core, through fmin's study) and dispatches them: one
Spark job of one task per trial, each in its own job group, so that a timeout, an early stop or a
Ctrl-C cancels exactly the running trials (interruptOnCancel) and keeps the finished ones.

Why it is fast where hyperopt's is not: the scheduler is kept fed. Up to ``parallelism +
max_queue_len`` jobs are in flight (the core's constant liar treats the queued ones as running),
so when a slot frees, the next trial's task is already waiting for it; the driver blocks on a
queue of finished jobs (no polling); the objective is pickled once, and sent with each task when
small, else broadcast (each reused Python worker unpickling it once); every trial is a job on the
same RDD, its values in the job's local property, so a dispatch builds no RDD.

An objective's exception is caught inside its task (no Spark retries): the trial fails, its
traceback kept in its result. MLflow: with a tracking URI set (or an active run), fmin logs a
parent run and one child run per trial, the objective's own mlflow.log_* landing in its child
run (see sparktune.hyperopt._trial_mlflow).
"""

from __future__ import annotations

import logging
import math
import numbers
import pickle
import queue
import sys
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from timeit import default_timer as timer
from typing import Any, Callable, Dict, List, Optional

from sparktune import pyspark_daemon
from sparktune.hyperopt import _spark_task, progress
from sparktune.hyperopt._trial_mlflow import TrialRuns
from sparktune.hyperopt.base import JOB_STATE_CANCEL, JOB_STATE_DONE, JOB_STATE_ERROR, STATUS_OK, Trials
from sparktune.hyperopt.fmin import _check_loss_threshold, _check_timeout, _plain_point, _result_of

logger = logging.getLogger(__name__)

__all__ = ["SparkTrials", "ObjectiveNotPicklable", "ObjectiveNotLoadable"]

# hyperopt's cap: more concurrent trials than this swamp the driver's threads and the scheduler.
MAX_CONCURRENT_JOBS_ALLOWED = 128

# An objective pickled to at most this goes with each trial's task; a larger one (closing over
# data, say) is broadcast once, and each reused Python worker unpickles it once.
INLINE_OBJECTIVE_BYTES = 64 * 1024


class ObjectiveNotPicklable(TypeError):
    """The objective cannot be pickled to run on the executors (e.g. it uses the SparkContext)."""


# The task's answers that stop fmin (see _spark_task): what could not be unpickled there.
_NOT_LOADABLE = {"load_error": "the objective", "values_error": "the trial's values"}


class ObjectiveNotLoadable(RuntimeError):
    """The objective, or a trial's values (a choice's option), was pickled on the driver but cannot
    be unpickled on an executor (e.g. a module it needs is not installed there): every trial would
    fail the same way, so fmin stops. The message says which of the two."""


def _session(spark_session: Any) -> Any:
    if spark_session is None:
        from pyspark.sql import SparkSession

        spark_session = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    try:
        context = spark_session.sparkContext
    except Exception as e:  # Spark Connect has no SparkContext to run Python tasks with
        raise NotImplementedError(
            f"SparkTrials needs a classic SparkSession with a SparkContext (Spark Connect is not supported): {e}"
        ) from None
    return spark_session, context


def _parallelism(requested: Any, slots: int) -> int:
    """hyperopt's rules: None or <= 0 means the cluster's task slots; at most 128; and sparktune
    reduces a request above the slots to the slots (more would only queue, with worse proposals)."""
    if requested is not None and (not isinstance(requested, numbers.Integral) or isinstance(requested, bool)):
        raise ValueError(f"parallelism must be None or an integer, got {requested!r}")
    slots = max(1, int(slots))
    if requested is None or requested <= 0:
        parallelism = slots
        if requested is not None:
            logger.warning("parallelism=%s is not positive: using the cluster's %d task slots", requested, slots)
    else:
        parallelism = int(requested)
    if parallelism > MAX_CONCURRENT_JOBS_ALLOWED:
        logger.warning("parallelism %d is above the limit %d: using %d", parallelism, MAX_CONCURRENT_JOBS_ALLOWED,
                       MAX_CONCURRENT_JOBS_ALLOWED)
        parallelism = MAX_CONCURRENT_JOBS_ALLOWED
    if parallelism > slots:
        logger.warning("parallelism %d is above the cluster's %d task slots (defaultParallelism): using %d",
                       parallelism, slots, slots)
        parallelism = slots
    return parallelism


def _pickle_objective(fn: Callable) -> bytes:
    """The objective cloudpickled once, for all its trials; ObjectiveNotPicklable naming the cause."""
    from pyspark import cloudpickle

    for module in (_spark_task, pyspark_daemon):  # executors need not have sparktune
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(fn)
    except Exception as e:
        name = getattr(fn, "__qualname__", None) or type(fn).__name__
        raise ObjectiveNotPicklable(
            f"SparkTrials: the objective {name!r} cannot be pickled to run on Spark executors: "
            f"{type(e).__name__}: {e}. An objective runs in another process: it must not use the "
            "SparkContext, the SparkSession or a DataFrame (create what it needs inside it, or pass data "
            "as plain Python values), nor hold locks, sockets or open files."
        ) from None


class SparkTrials(Trials):
    """hyperopt's SparkTrials: `fmin` with these trials runs each trial as one Spark task.

    parallelism: trials run at once; None or <= 0: the cluster's task slots (defaultParallelism);
        at most 128 and at most the slots (reduced, with a warning).
    timeout: seconds after which fmin cancels the running trials and returns the best so far
        (with fmin's own timeout too, the earlier one counts).
    loss_threshold: fmin stops (cancelling the running trials) once a loss is below it.
    spark_session: the session to run on (None: the active one, else a new one).

    The objective must pickle (cloudpickle): it runs in the executors' Python workers. Its
    exceptions fail its trial (the traceback in the trial's result, and in `errors`), never the run.
    """

    asynchronous = True
    MAX_CONCURRENT_JOBS_ALLOWED = MAX_CONCURRENT_JOBS_ALLOWED

    def __init__(self, parallelism: Optional[int] = None, timeout: Optional[float] = None,
                 loss_threshold: Optional[float] = None, spark_session: Any = None):
        super().__init__()
        _check_timeout(timeout)
        _check_loss_threshold(loss_threshold)
        self._spark, self._spark_context = _session(spark_session)
        self.parallelism = _parallelism(parallelism, self._spark_context.defaultParallelism)
        self.timeout = timeout
        self.loss_threshold = loss_threshold

    def __getstate__(self) -> Dict[str, Any]:
        # The history pickles (as a Trials does); the session stays behind.
        state = dict(self.__dict__)
        state["_spark"] = state["_spark_context"] = None
        return state

    # -- hyperopt's counters ---------------------------------------------------------------------

    def count_successful_trials(self) -> int:
        return sum(1 for t in self._dynamic_trials
                   if t["state"] == JOB_STATE_DONE and t["result"].get("status") == STATUS_OK)

    def count_failed_trials(self) -> int:
        return sum(1 for t in self._dynamic_trials
                   if t["state"] == JOB_STATE_ERROR
                   or (t["state"] == JOB_STATE_DONE and t["result"].get("status") != STATUS_OK))

    def count_cancelled_trials(self) -> int:
        return sum(1 for t in self._dynamic_trials if t["state"] == JOB_STATE_CANCEL)

    def count_total_trials(self) -> int:
        return len(self._dynamic_trials)

    # -- fmin's hook (see fmin.fmin) -------------------------------------------------------------

    def _fmin_loop(self, search: Any, max_evals: int, timeout: Optional[float], loss_threshold: Optional[float],
                   max_queue_len: int, early_stop_fn: Optional[Callable], progress_callback: Callable) -> None:
        if self._spark_context is None:
            raise RuntimeError("this SparkTrials was unpickled: it has no SparkSession; create a new SparkTrials")
        timeouts = [t for t in (timeout, self.timeout) if t is not None]
        thresholds = [t for t in (loss_threshold, self.loss_threshold) if t is not None]
        run = _SparkRun(self, search, self.parallelism + max_queue_len)
        run.run(max_evals, min(timeouts) if timeouts else None, min(thresholds) if thresholds else None,
                early_stop_fn, progress_callback)


class _Running:
    __slots__ = ("trial", "doc", "group", "run_id")

    def __init__(self, trial: Dict[str, Any], doc: Dict[str, Any], group: str, run_id: Optional[str]):
        self.trial = trial
        self.doc = doc
        self.group = group
        self.run_id = run_id


class _SparkRun:
    """One fmin call on Spark: dispatches trials as jobs, records them as their jobs end."""

    def __init__(self, owner: SparkTrials, search: Any, in_flight: int):
        self.owner = owner
        self.search = search
        self.sc = owner._spark_context
        self.in_flight = max(1, in_flight)
        data = _pickle_objective(search.fn)  # before any trial is asked: nothing to cancel
        self.broadcast = None
        if len(data) <= INLINE_OBJECTIVE_BYTES:
            self.objective = _spark_task.Inline(data)
        else:
            self.objective = self.broadcast = self.sc.broadcast(_spark_task.Pickled(data))
        # One RDD for all the trials, its Python function pickled once: each trial is a job on
        # it, its values in the job's local property (_spark_task.TRIAL_PROPERTY).
        self.rdd = self.sc.parallelize([0], 1).mapPartitions(_spark_task.partition_function(self.objective))
        self.rdd._jrdd  # built here, not by the first jobs' threads at once
        self.finished: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self.running: Dict[str, _Running] = {}
        self.prefix = f"sparktune-trials-{uuid.uuid4().hex[:12]}"
        # One thread per job in flight: each blocks in collect(); in PySpark's pinned-thread mode
        # each has its own JVM thread, so that its job group is its own.
        self.pool = ThreadPoolExecutor(max_workers=self.in_flight, thread_name_prefix="sparktune-trial")
        self.mlflow = TrialRuns.start()
        self.n_failed = 0
        self.best_loss = math.inf

    # -- dispatch --------------------------------------------------------------------------------

    def _job(self, group: str, values: Any, mlflow_run: Optional[Dict[str, str]]) -> Any:
        self.sc.setJobGroup(group, f"sparktune trial {group.rsplit('-', 1)[-1]}", interruptOnCancel=True)
        self.sc.setLocalProperty(_spark_task.TRIAL_PROPERTY, _spark_task.encode_trial(values, mlflow_run))
        return self.rdd.collect()[0]

    def _submit(self, trial: Dict[str, Any], new_doc: Optional[Dict[str, Any]]) -> None:
        search = self.search
        doc = search.start(trial, new_doc)
        values = search.compiled.values(trial["values"])
        self.owner._values[doc["tid"]] = values
        group = f"{self.prefix}-{doc['tid']}"
        run_id = self.mlflow.child(doc["tid"], values) if self.mlflow else None
        mlflow_run = self.mlflow.task_info(run_id) if run_id else None
        self.running[group] = _Running(trial, doc, group, run_id)
        future = self.pool.submit(self._job, group, values, mlflow_run)
        future.add_done_callback(lambda f, g=group: self.finished.put((g, f)))

    # -- results ---------------------------------------------------------------------------------

    def _finish(self, group: str, future: Any) -> None:
        running = self.running.pop(group, None)
        if running is None:
            return  # cancelled already
        search, trial, doc = self.search, running.trial, running.doc
        try:
            answer = future.result()
        except Exception as e:  # the job itself failed: an executor lost, the task not serializable...
            message = _spark_error(e)
            logger.error("trial %s: its Spark job failed: %s", doc["tid"], message)
            self._failed(running, str(type(e)), type(e).__name__, f"the trial's Spark job failed: {message}", "")
            return
        kind = answer[0]
        if kind in _NOT_LOADABLE:
            raise ObjectiveNotLoadable(
                f"SparkTrials: {_NOT_LOADABLE[kind]} could not be unpickled on an executor: {answer[2]}: "
                f"{answer[3]} (is every module needed installed on the executors?)"
            )
        if kind == "error":
            _, type_repr, type_name, message, tb, _seconds = answer
            logger.error("trial %s: the objective raised %s: %s", doc["tid"], type_name, message)
            self._failed(running, type_repr, type_name, message, tb)
            return
        try:
            result = _result_of(_checked_return(pickle.loads(answer[1])))
        except Exception as e:
            logger.error("trial %s: %s", doc["tid"], e)
            self._failed(running, str(type(e)), type(e).__name__, str(e), traceback.format_exc())
            return
        search.record(trial, doc, result)
        loss = result.get("loss")
        if result.get("status") == STATUS_OK and isinstance(loss, float) and math.isnan(loss):
            logger.warning("trial %s: the objective returned a NaN loss", doc["tid"])
        if result.get("status") != STATUS_OK or not isinstance(loss, float) or not math.isfinite(loss):
            self.n_failed += 1
        elif loss < self.best_loss:
            self.best_loss = loss
        if self.mlflow:
            self.mlflow.finish(running.run_id, result)

    def _failed(self, running: _Running, type_repr: str, type_name: str, message: str, tb: str) -> None:
        self.search.record_error(running.trial, running.doc, type_repr, type_name, message, tb)
        self.n_failed += 1
        if self.mlflow:
            self.mlflow.finish(running.run_id, running.doc["result"])

    def _drain(self) -> None:
        """Records the jobs that ended already (before their trials would be cancelled)."""
        while True:
            try:
                group, future = self.finished.get_nowait()
            except queue.Empty:
                return
            self._finish(group, future)

    def _cancel_running(self, why: str) -> None:
        for group, running in list(self.running.items()):
            try:
                self.sc.cancelJobGroup(group)
            except Exception as e:  # a stopped SparkContext: nothing runs any more
                logger.warning("could not cancel the Spark job group %s: %s", group, e)
            self.search.cancel(running.trial, running.doc, why)
            if self.mlflow:
                self.mlflow.finish(running.run_id, running.doc["result"], cancelled=True)
        self.running.clear()

    # -- the loop --------------------------------------------------------------------------------

    def run(self, max_evals: int, timeout: Optional[float], loss_threshold: Optional[float],
            early_stop_fn: Optional[Callable], progress_callback: Callable) -> None:
        search, trials, study = self.search, self.owner, self.search.study
        start = timer()
        deadline = None if timeout is None else start + timeout
        budget = max_evals - len(trials) - sum(1 for _, doc in search.pending if doc is None)
        asked = 0
        for loss in trials.losses():
            if isinstance(loss, numbers.Real) and loss < self.best_loss:
                self.best_loss = loss
        early_stop_state: List[Any] = []
        stop: Optional[str] = None
        if progress_callback is progress.default_callback:  # no tqdm bar: no carriage returns in a log file
            progress_callback = progress.plain_progress_callback
        n_done = trials.count_by_state_synced(JOB_STATE_DONE)
        try:
            with progress_callback(initial=n_done, total=max_evals if max_evals != sys.maxsize else None) as bar:
                try:
                    while True:
                        if loss_threshold is not None and self.best_loss < loss_threshold:
                            stop = "cancelled: the loss threshold was reached"
                        elif deadline is not None and timer() >= deadline:
                            stop = f"cancelled: fmin's timeout ({timeout} s) was reached"
                        if stop is not None:
                            break
                        while len(self.running) < self.in_flight and (search.pending or asked < budget):
                            if search.pending:
                                point, new_doc = search.pending.popleft()
                                self._submit(study.enqueue(_plain_point(point)), new_doc)
                                continue
                            proposed = study.ask(1)
                            if not proposed:
                                budget = asked  # the sampler has nothing left (an exhausted grid)
                                break
                            asked += 1
                            self._submit(proposed[0], None)
                        self._show(bar)
                        if not self.running:
                            break
                        wait = None if deadline is None else max(0.0, deadline - timer())
                        try:
                            group, future = self.finished.get(timeout=wait)
                        except queue.Empty:
                            continue  # the deadline: the check above stops
                        n_before = trials.count_by_state_synced(JOB_STATE_DONE)
                        self._finish(group, future)
                        self._drain()
                        bar.update(trials.count_by_state_synced(JOB_STATE_DONE) - n_before)
                        if early_stop_fn is not None:
                            stop_now, early_stop_state = early_stop_fn(trials, *early_stop_state)
                            if stop_now:
                                logger.info("Early stop triggered: the search stops.")
                                stop = "cancelled: early_stop_fn stopped the search"
                    if self.running:
                        self._drain()
                        self._cancel_running(stop or "cancelled")
                        trials.refresh()
                    self._show(bar)
                except BaseException as e:  # KeyboardInterrupt, an error: nothing may keep running
                    self._cancel_running(f"cancelled: fmin was interrupted ({type(e).__name__})")
                    trials.refresh()
                    raise
        finally:
            self.pool.shutdown(wait=False)
            if self.broadcast is not None:
                try:
                    self.broadcast.destroy(blocking=False)
                except Exception:  # a stopped SparkContext
                    pass
            if self.mlflow:
                self.mlflow.close(self.best_loss, trials)

    def _show(self, bar: Any) -> None:
        best = "?" if self.best_loss == math.inf else f"{self.best_loss:.6g}"
        bar.postfix = f"running {len(self.running)}, failed {self.n_failed}, best loss {best}"
        refresh = getattr(bar, "refresh", None)
        if refresh is not None:
            refresh()


def _checked_return(rval: Any) -> Any:
    """A clear error for a return value that is neither a number nor a dict (hyperopt fails the trial)."""
    if isinstance(rval, (numbers.Real, dict)) and not isinstance(rval, bool):
        return rval
    if hasattr(rval, "keys") and hasattr(rval, "__getitem__"):
        return rval
    text = repr(rval)
    if len(text) > 80:
        text = text[:77] + "..."
    raise TypeError(f"the objective returned {type(rval).__name__} {text}: not a number (the loss) nor a dict "
                    "with 'status' and 'loss'")


def _spark_error(e: Exception) -> str:
    """The first line of a Py4J/Spark error, which otherwise carries the whole JVM stack."""
    text = str(e).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("An error occurred while calling", "Traceback")):
            return line[:500]
    return text[:500] or type(e).__name__
