"""hyperopt's `fmin` on sparktune's core.

The loop is hyperopt's: propose, evaluate the objective in this process, record, check the stop
conditions (max_evals, timeout, loss_threshold, early_stop_fn). What differs is where the work
is: the space is validated, the trials proposed (TPE, random, QMC) and recorded by the Rust core
in this process (through ``sparktune._native``); `Trials` keeps hyperopt's documents for the
user, filled from the core's trials.

The core sees each trial's outcome: a finite loss as ok, a NaN or infinite loss and an objective
that failed or raised as fail (so that they steer the sampler away without poisoning its model),
the result dict's other JSON-able keys as the trial's attributes (numeric ones also as metrics).

With ``trials_save_file`` the history lives in the core's journal at that path (fsync'ed after
every trial): rerunning the same call after a crash or a restart resumes it, its finished trials
rebuilt from the journal, a trial cut short by the crash dropped (cancelled), the study's seed the
one it was created with.
"""

from __future__ import annotations

import datetime
import inspect
import json
import logging
import math
import numbers
import os
import secrets
import sys
import time
import traceback
from collections import deque
from timeit import default_timer as timer
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from sparktune import _native
from sparktune.errors import SearchSpaceError
from sparktune.hyperopt import progress, tpe
from sparktune.hyperopt._algo import sampler_config
from sparktune.hyperopt._space import CompiledSpace
from sparktune.hyperopt.base import (
    DOMAIN_CMD,
    JOB_STATE_CANCEL,
    JOB_STATE_DONE,
    JOB_STATE_ERROR,
    JOB_STATE_NEW,
    JOB_STATE_RUNNING,
    STATUS_FAIL,
    STATUS_OK,
    STATUS_STRINGS,
    Trials,
)
from sparktune.hyperopt.exceptions import AllTrialsFailed, InvalidLoss, InvalidResultStatus

logger = logging.getLogger(__name__)

__all__ = ["fmin", "space_eval", "partial", "fmin_pass_expr_memo_ctrl", "generate_trials_to_calculate", "Argmin"]

# The key of a trial's attrs in the journal under which the hyperopt side keeps what the core's
# own fields cannot say (see _attrs).
ATTRS_KEY = "hyperopt"


class Argmin(dict):
    """What `fmin` returns: hyperopt's argmin, a plain dict of label -> raw value (a choice's
    option *index*), equal to and usable as a dict.

    `space_values` holds the same point as the objective received it (a choice's *option*), which
    hyperopt only gives through ``space_eval(space, argmin)``."""

    space_values: Any

    def __init__(self, argmin: Dict[str, Any], space_values: Any):
        super().__init__(argmin)
        self.space_values = space_values

    def __reduce__(self):
        return (Argmin, (dict(self), self.space_values))


def partial(fn: Callable, **kwargs: Any) -> Callable:
    """hyperopt's `partial` (functools.partial, keeping the fmin_pass_expr_memo_ctrl mark)."""
    import functools

    wrapped = functools.partial(fn, **kwargs)
    if hasattr(fn, "fmin_pass_expr_memo_ctrl"):
        wrapped.fmin_pass_expr_memo_ctrl = fn.fmin_pass_expr_memo_ctrl
    return wrapped


def fmin_pass_expr_memo_ctrl(f: Callable) -> Callable:
    """hyperopt's mark for objectives that take (expr, memo, ctrl): refused by sparktune's fmin,
    which has no pyll graph to pass."""
    f.fmin_pass_expr_memo_ctrl = True
    return f


def generate_trials_to_calculate(points: List[Dict[str, Any]]) -> Trials:
    """A Trials holding `points` (label -> raw value, a choice's option index) as new trials,
    which fmin evaluates first (hyperopt's way to seed a search; see also points_to_evaluate)."""
    trials = Trials()
    docs = []
    for tid, point in enumerate(points):
        docs.append({
            "state": JOB_STATE_NEW, "tid": tid, "spec": None, "result": {"status": "new"},
            "misc": {"tid": tid, "cmd": DOMAIN_CMD, "workdir": None,
                     "idxs": {k: [tid] for k in point}, "vals": {k: [v] for k, v in point.items()}},
            "exp_key": None, "owner": None, "version": 0, "book_time": None, "refresh_time": None,
        })
    trials.insert_trial_docs(docs)
    trials.refresh()
    return trials


def space_eval(space: Any, hp_assignment: Dict[str, Any]) -> Any:
    """The space evaluated at a raw point (label -> value, a choice's value its option index), as
    hyperopt's `space_eval`: what the objective receives for that point. Labels inactive at the
    point are ignored; a label the space does not define is an error naming it."""
    return CompiledSpace(space).evaluate(dict(hp_assignment))


# -- checks of fmin's arguments, as hyperopt's ----------------------------------------------------

def _check_timeout(timeout: Any) -> None:
    if timeout is not None and (not isinstance(timeout, numbers.Number) or isinstance(timeout, bool) or timeout <= 0):
        raise ValueError(f"The timeout argument should be None or a positive value. Given value: {timeout}")


def _check_loss_threshold(loss_threshold: Any) -> None:
    if loss_threshold is not None and (not isinstance(loss_threshold, numbers.Number) or isinstance(loss_threshold, bool)):
        raise ValueError(f"The loss_threshold argument should be None or a numeric value. Given value: {loss_threshold}")


def _seed(rstate: Any) -> int:
    """The study's seed, drawn once from `rstate` (a numpy Generator as hyperopt 0.3 takes, a legacy
    RandomState, or an int); None: $HYPEROPT_FMIN_SEED if set, else a fresh random seed."""
    if rstate is None:
        env = os.environ.get("HYPEROPT_FMIN_SEED", "")
        if not env:
            return secrets.randbits(63)
        import numpy as np

        rstate = np.random.default_rng(int(env))
    if isinstance(rstate, numbers.Integral) and not isinstance(rstate, bool):
        if rstate < 0:
            raise ValueError(f"rstate: a seed must be >= 0, got {rstate}")
        return int(rstate)
    if hasattr(rstate, "integers"):
        return int(rstate.integers(2**63 - 1))
    if hasattr(rstate, "randint"):
        return int(rstate.randint(2**31 - 1))
    raise TypeError(f"rstate must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rstate).__name__}")


# -- results: hyperopt's dict <-> the core's outcome ---------------------------------------------

def _result_of(rval: Any) -> Dict[str, Any]:
    """The objective's return value as hyperopt's result dict (hyperopt's rules: a number is an ok
    loss; a dict needs a 'status' from STATUS_STRINGS, and a float 'loss' when ok)."""
    if isinstance(rval, numbers.Real):
        return {"loss": float(rval), "status": STATUS_OK}
    result = dict(rval)
    if "status" not in result:
        raise InvalidResultStatus(
            result,
            f"the objective returned a dict without 'status' (give 'status': STATUS_OK and a 'loss'): {result!r}",
        )
    status = result["status"]
    if status not in STATUS_STRINGS:
        raise InvalidResultStatus(result, f"the objective returned status {status!r}, not one of {STATUS_STRINGS}: {result!r}")
    if status == STATUS_OK:
        try:
            result["loss"] = float(result["loss"])
        except (TypeError, KeyError, ValueError):
            raise InvalidLoss(result) from None
    return result


_json_encode = json.JSONEncoder(allow_nan=False, separators=(",", ":"), default=_native._plain).encode


def _non_finite_name(x: float) -> str:
    return "NaN" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _attrs(result: Dict[str, Any], job_state: int = JOB_STATE_DONE, misc_error: Any = None) -> Optional[Dict[str, Any]]:
    """What the journal must keep to rebuild `result` (None when the core's state and value say it
    all: status ok with a finite loss and nothing else). Values JSON cannot carry are dropped and
    named; a non-finite float at the top (a NaN loss) is kept as its name."""
    if job_state == JOB_STATE_DONE and len(result) == 2 and result.get("status") == STATUS_OK:
        loss = result.get("loss")
        if isinstance(loss, float) and math.isfinite(loss):
            return None
    kept: Dict[str, Any] = {}
    non_finite: List[str] = []
    dropped: List[str] = []
    for key, value in result.items():
        if not isinstance(key, str):
            dropped.append(repr(key))
            continue
        if isinstance(value, float) and not math.isfinite(value):
            kept[key] = _non_finite_name(value)
            non_finite.append(key)
            continue
        try:
            kept[key] = json.loads(_json_encode(value))
        except (TypeError, ValueError):
            dropped.append(key)
    attrs: Dict[str, Any] = {"result": kept}
    if non_finite:
        attrs["non_finite"] = non_finite
    if dropped:
        attrs["dropped"] = dropped
    if job_state != JOB_STATE_DONE:
        attrs["job_state"] = job_state
    if misc_error is not None:
        attrs["misc_error"] = list(misc_error)
    return {ATTRS_KEY: attrs}


def _metrics(result: Dict[str, Any]) -> Dict[str, float]:
    """The result's finite numbers other than the loss (loss_variance, true_loss, accuracy, ...)."""
    out = {}
    for key, value in result.items():
        if key in ("loss", "status") or isinstance(value, bool) or not isinstance(value, numbers.Real):
            continue
        value = float(value)
        if math.isfinite(value):
            out[str(key)] = value
    return out


def _outcome(result: Dict[str, Any]) -> Tuple[str, Optional[float], Optional[str]]:
    """(state, value, error) for the core: ok only with a finite loss."""
    status = result.get("status")
    if status == STATUS_OK:
        loss = result["loss"]
        if math.isfinite(loss):
            return "ok", loss, None
        return "fail", None, f"loss is {_non_finite_name(loss)}"
    if status == STATUS_FAIL:
        why = result.get("error") or result.get("failure") or result.get("exception")
        return "fail", None, str(why) if why else "the objective returned status 'fail'"
    return "fail", None, f"the objective returned status {status!r}"


_EPOCH = datetime.datetime(1970, 1, 1)
_MS = datetime.timedelta(milliseconds=1)


def _time(ms: Optional[int]) -> Optional[datetime.datetime]:
    """The core's epoch milliseconds as hyperopt's book_time: a naive UTC datetime."""
    if ms is None:
        return None
    return _EPOCH + ms * _MS


def _now() -> datetime.datetime:
    """hyperopt's refresh_time for a trial just told: now, a naive UTC datetime (ms resolution)."""
    return _time(int(time.time() * 1000))


def _new_doc(tid: Any, point: Dict[str, Any], labels: List[str], exp_key: Any, started_ms: Optional[int]) -> Dict[str, Any]:
    idxs: Dict[str, list] = {}
    vals: Dict[str, list] = {}
    for label in labels:
        if label in point:
            idxs[label] = [tid]
            vals[label] = [point[label]]
        else:
            idxs[label] = []
            vals[label] = []
    booked = _time(started_ms)
    return {
        "state": JOB_STATE_RUNNING, "tid": tid, "spec": None, "result": {"status": "running"},
        "misc": {"tid": tid, "cmd": DOMAIN_CMD, "workdir": None, "idxs": idxs, "vals": vals},
        "exp_key": exp_key, "owner": None, "version": 0, "book_time": booked, "refresh_time": booked,
    }


def _doc_from_core(trial: Dict[str, Any], labels: List[str], exp_key: Any) -> Dict[str, Any]:
    """hyperopt's document of a trial read back from the core (a resumed journal)."""
    tid = trial["id"]
    doc = _new_doc(tid, trial["point"], labels, exp_key, trial.get("started_ms"))
    doc["refresh_time"] = _time(trial.get("finished_ms")) or doc["book_time"]
    state = trial["state"]
    saved = (trial.get("attrs") or {}).get(ATTRS_KEY) if isinstance(trial.get("attrs"), dict) else None
    if state == "cancelled":
        doc["state"] = JOB_STATE_CANCEL
        doc["result"] = {"status": STATUS_FAIL, "error": trial.get("error") or "cancelled"}
        return doc
    if state == "running":
        return doc
    if saved is not None:
        result = dict(saved.get("result") or {})
        for key in saved.get("non_finite", ()):
            result[key] = float({"NaN": "nan"}.get(result[key], result[key]))
        doc["state"] = saved.get("job_state", JOB_STATE_DONE)
        if saved.get("misc_error") is not None:
            doc["misc"]["error"] = tuple(saved["misc_error"])
    elif state == "ok":
        result = {"loss": trial["value"], "status": STATUS_OK}
        doc["state"] = JOB_STATE_DONE
    else:
        result = {"status": STATUS_FAIL, "error": trial.get("error")}
        doc["state"] = JOB_STATE_DONE
    doc["result"] = result
    return doc


class _Search:
    """One fmin call: the study, the Trials being filled, and the loop."""

    def __init__(self, fn: Callable, compiled: CompiledSpace, trials: Trials, sampler: Dict[str, Any], seed: int,
                 store: Optional[str], catch_eval_exceptions: bool):
        self.fn = fn
        self.compiled = compiled
        self.labels = compiled.labels
        self.trials = trials
        self.catch = catch_eval_exceptions
        config: Dict[str, Any] = {"space": compiled.document, "sampler": sampler, "seed": seed}
        if store:
            config["store"] = store
            config["seed_from_store"] = True
        self.store = store
        self.study = _native.NativeStudy(config)
        for warning in self.study.warnings:
            logger.warning("%s", warning)
        self._next_tid: Optional[int] = None  # for core ids already taken as tids (see _tid_for)
        self.pending: Deque[Tuple[Dict[str, Any], Optional[Dict[str, Any]]]] = deque()  # (point, NEW doc)

    # -- bringing the core and the Trials to the same history ------------------------------------

    def sync(self) -> None:
        trials = self.trials
        trials._space = self.compiled
        core = self.study.trials() if self.study.n_trials else []
        if core:
            self._adopt_journal(core)
        else:
            self._replay()

    def _adopt_journal(self, core: List[Dict[str, Any]]) -> None:
        """The journal is the history: documents for the trials the Trials lacks."""
        trials = self.trials
        # New documents (generate_trials_to_calculate) are a way to start a search: the journal's
        # history has started it already (its first trials were those points).
        trials._dynamic_trials = [d for d in trials._dynamic_trials if d["state"] != JOB_STATE_NEW]
        by_tid = {d["tid"]: d for d in trials._dynamic_trials}
        core_ids = {t["id"] for t in core}
        strangers = [tid for tid in by_tid if tid not in core_ids]
        if strangers:
            raise ValueError(
                f"trials holds {len(strangers)} trials (tids {strangers[:5]}) that are not in trials_save_file "
                f"{self.store!r}: pass trials=None to resume from the file, or another file for these trials"
            )
        for t in core:
            doc = by_tid.get(t["id"])
            if doc is None:
                trials._dynamic_trials.append(_doc_from_core(t, self.labels, trials._exp_key))
            elif t["state"] == "cancelled" and doc["state"] == JOB_STATE_RUNNING:
                doc["state"] = JOB_STATE_CANCEL
            if t["state"] in ("ok", "fail") and t["id"] not in trials._values:
                trials._values[t["id"]] = self.compiled.values(t["values"])
        trials._dynamic_trials.sort(key=lambda d: d["tid"])
        trials.refresh()

    def _replay(self) -> None:
        """A fresh study learns the Trials' finished trials (enqueued at their points, told their
        outcomes), so that a Trials reused across fmin calls continues as hyperopt's does."""
        trials = self.trials
        for doc in trials._dynamic_trials:
            state = doc["state"]
            if state == JOB_STATE_NEW:
                self._queue_doc(doc)
                continue
            if state not in (JOB_STATE_DONE, JOB_STATE_ERROR):
                continue
            point = self.compiled.point_of(doc["misc"]["vals"])
            try:
                trial = self.study.enqueue(_plain_point(point))
            except SearchSpaceError as e:
                raise type(e)(f"trials: trial {doc['tid']} does not fit the space: {e}") from None
            result = doc["result"]
            state_name, value, error = _outcome(result) if state == JOB_STATE_DONE else ("fail", None, _error_text(doc))
            self.study.tell(trial["id"], state_name, value=value, metrics=_metrics(result) or None, error=error,
                            attrs=_attrs(result, state, doc["misc"].get("error")) if self.store else None)
            trials._values.setdefault(doc["tid"], self.compiled.values(trial["values"]))
        trials.refresh()

    def _queue_doc(self, doc: Dict[str, Any]) -> None:
        self.pending.append((self.compiled.point_of(doc["misc"]["vals"]), doc))

    def queue_points(self, points: List[Dict[str, Any]]) -> None:
        for i, point in enumerate(points):
            if not isinstance(point, dict):
                raise TypeError(f"points_to_evaluate[{i}] must be a dict of label -> value, got {type(point).__name__}")
            try:
                # Checked now, so that a bad point fails before any trial runs.
                self.compiled.evaluate(_plain_point(point))
            except SearchSpaceError as e:
                raise type(e)(f"points_to_evaluate[{i}]: {e}") from None
            self.pending.append((point, None))

    # -- one trial ----------------------------------------------------------------------------

    def _tid_for(self, core_id: int) -> Any:
        """The new document's tid: the core's id, unless the Trials has it already (its history
        has gaps, e.g. an interrupted trial), then the next free one."""
        ids = self.trials._ids
        tid = core_id
        if tid in ids:
            if self._next_tid is None:
                self._next_tid = max((i for i in ids if isinstance(i, int)), default=-1) + 1
            while self._next_tid in ids:
                self._next_tid += 1
            tid = self._next_tid
        ids.add(tid)
        return tid

    def start(self, trial: Dict[str, Any], new_doc: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        trials = self.trials
        if new_doc is not None:
            # A NEW document from generate_trials_to_calculate: it becomes this trial.
            doc = new_doc
            fresh = _new_doc(doc["tid"], trial["point"], self.labels, doc["exp_key"], trial["started_ms"])
            doc.update(state=JOB_STATE_RUNNING, misc=fresh["misc"], result=fresh["result"],
                       book_time=fresh["book_time"], refresh_time=fresh["refresh_time"])
        else:
            doc = _new_doc(self._tid_for(trial["id"]), trial["point"], self.labels, trials._exp_key, trial["started_ms"])
            trials._dynamic_trials.append(doc)
            trials._trials.append(doc)  # RUNNING is a valid state: no refresh needed
        return doc

    def evaluate(self, trial: Dict[str, Any], doc: Dict[str, Any]) -> None:
        """Runs the objective on the trial's values and records the outcome in the document and
        the core. An exception of the objective propagates unless catch_eval_exceptions."""
        trials = self.trials
        values = self.compiled.values(trial["values"])
        trials._values[doc["tid"]] = values
        try:
            result = _result_of(self.fn(values))
        except Exception as e:
            self._errored(trial, doc, e)
            if not self.catch:
                raise
            return
        except BaseException as e:  # KeyboardInterrupt, SystemExit: the trial did not finish
            self.cancel(trial, doc, f"interrupted: {type(e).__name__}")
            raise
        self.record(trial, doc, result)

    def record(self, trial: Dict[str, Any], doc: Dict[str, Any], result: Dict[str, Any]) -> None:
        """Records a trial's result dict (as `_result_of` gives it) in its document and the core."""
        trials = self.trials
        attachments = result.pop("attachments", None)
        if attachments:
            for key, value in attachments.items():
                trials.attachments[trials.aname(doc, key)] = value
        doc["result"] = result
        doc["state"] = JOB_STATE_DONE
        state, value, error = _outcome(result)
        self.study.tell(trial["id"], state, value=value, metrics=_metrics(result) if len(result) > 2 else None,
                        error=error, attrs=_attrs(result), return_trial=False)
        doc["refresh_time"] = _now()

    def _errored(self, trial: Dict[str, Any], doc: Dict[str, Any], e: Exception) -> None:
        logger.error("job exception: %s", e)
        self.record_error(trial, doc, str(type(e)), type(e).__name__, str(e), traceback.format_exc())

    def record_error(self, trial: Dict[str, Any], doc: Dict[str, Any], type_repr: str, type_name: str, message: str,
                     tb: str) -> None:
        """Records a trial whose objective raised (where it ran: here, or a Spark task)."""
        doc["state"] = JOB_STATE_ERROR
        doc["misc"]["error"] = (type_repr, message)
        doc["result"] = {"status": STATUS_FAIL, "error": f"{type_name}: {message}", "traceback": tb}
        try:
            told = self.study.tell(trial["id"], "fail", error=tb, attrs=_attrs(doc["result"], JOB_STATE_ERROR, doc["misc"]["error"]))
            doc["refresh_time"] = _time(told.get("finished_ms"))
        finally:
            self.trials.refresh()

    def cancel(self, trial: Dict[str, Any], doc: Optional[Dict[str, Any]], why: str) -> None:
        """A trial that will not be evaluated: cancelled in the core, out of `trials`."""
        try:
            self.study.tell(trial["id"], "cancelled", error=why)
        finally:
            if doc is not None:
                doc["state"] = JOB_STATE_CANCEL
                doc["result"] = {"status": STATUS_FAIL, "error": why}
                self.trials.refresh()

    def close(self) -> None:
        self.study.close()


def _error_text(doc: Dict[str, Any]) -> str:
    err = doc["misc"].get("error")
    return f"{err[0]}: {err[1]}" if isinstance(err, (tuple, list)) and len(err) == 2 else "the objective raised"


def _plain_point(point: Dict[str, Any]) -> Dict[str, Any]:
    """A point with numpy numbers as Python ones (an argmin of hyperopt holds numpy scalars)."""
    out = {}
    for label, value in point.items():
        item = getattr(value, "item", None)
        out[label] = item() if item is not None else value
    return out


def _progress(verbose: bool, show_progressbar: Any):
    if not verbose or not show_progressbar:
        return progress.no_progress_callback
    if show_progressbar is True:
        return progress.default_callback
    return show_progressbar


def fmin(
    fn: Callable,
    space: Any,
    algo: Any = None,
    max_evals: Optional[int] = None,
    timeout: Optional[float] = None,
    loss_threshold: Optional[float] = None,
    trials: Optional[Trials] = None,
    rstate: Any = None,
    allow_trials_fmin: bool = True,
    pass_expr_memo_ctrl: Any = None,
    catch_eval_exceptions: bool = False,
    verbose: bool = True,
    return_argmin: bool = True,
    points_to_evaluate: Optional[List[Dict[str, Any]]] = None,
    max_queue_len: int = 1,
    show_progressbar: Any = True,
    early_stop_fn: Optional[Callable] = None,
    trials_save_file: str = "",
):
    """Minimizes `fn` over `space`: hyperopt's fmin, with the search run by sparktune's core.

    fn: called with the space's values at each trial (a choice gives its option); returns a loss
        (a number) or a dict with 'status' (STATUS_OK or STATUS_FAIL), 'loss' when ok, and any
        other keys (kept in the trial's result; 'attachments' go to trials.attachments).
    space: built with ``sparktune.hyperopt.hp`` (hyperopt's ``hp`` signatures), inside dicts,
        lists and tuples; or "annotated" to read it from fn's annotations. Invalid spaces raise
        SearchSpaceError (a ValueError) naming the label, before any trial runs.
    algo: tpe.suggest (the default), rand.suggest, qmc.suggest, or functools.partial of one with
        settings (see sparktune.hyperopt.tpe); hyperopt's own tpe/rand.suggest are understood.
    max_evals: the number of trials in `trials` to reach, counting those already there.
    timeout: seconds after which no new trial starts. loss_threshold: stop once a loss is below.
    trials: a Trials to fill (None: a new one; or the journal's, see trials_save_file).
    rstate: numpy Generator the study's seed is drawn from, once (same seed, same trials).
    catch_eval_exceptions: when True an objective that raises makes a failed trial (in
        trials.errors, with the traceback) and the search goes on; else the exception propagates.
    verbose, show_progressbar: a progress bar (tqdm if installed, else a line on stderr) unless
        either is False; show_progressbar may be a hyperopt progress callback.
    return_argmin: True: return trials.argmin (an Argmin dict: choices as indices, with
        .space_values); False: the best point's values (hyperopt's space_eval of it), or None.
    points_to_evaluate: raw points (label -> value, a choice's option index) evaluated first,
        counted in max_evals, for a new search (ignored when the trials already hold a history).
    max_queue_len: trials proposed at once (then evaluated one after another).
    early_stop_fn: ``fn(trials, *state) -> (stop, state)``, called after each evaluation, e.g.
        early_stop.no_progress_loss(10).
    trials_save_file: a journal file that holds the search: created on the first call, resumed
        (finished trials kept, counted in max_evals) when the same call runs again.

    Not supported: pass_expr_memo_ctrl (there is no pyll graph); allow_trials_fmin only matters
    for Trials subclasses with their own fmin.
    """
    if algo is None:
        algo = tpe.suggest
        logger.warning("TPE is being used as the default algorithm.")
    sampler = sampler_config(algo)
    max_evals = sys.maxsize if max_evals is None else int(max_evals)
    _check_timeout(timeout)
    _check_loss_threshold(loss_threshold)
    if isinstance(space, str) and space == "annotated":
        annotations = {k: v for k, v in inspect.getfullargspec(fn).annotations.items() if k != "return"}
        space = annotations
        objective = fn
        fn = lambda kwargs: objective(**kwargs)  # noqa: E731
    if pass_expr_memo_ctrl or getattr(fn, "fmin_pass_expr_memo_ctrl", False):
        raise NotImplementedError(
            "pass_expr_memo_ctrl: sparktune's spaces are evaluated by its core, there is no pyll "
            "expression, memo or ctrl to pass; write fn to take the space's values"
        )
    if trials is not None and not isinstance(trials, Trials):
        raise TypeError(
            f"trials must be a sparktune.hyperopt.Trials, got {type(trials).__module__}.{type(trials).__name__}"
            " (a Trials of hyperopt itself cannot be filled by sparktune)"
        )
    if allow_trials_fmin and trials is not None and type(trials).fmin is not Trials.fmin:
        return trials.fmin(
            fn, space, algo=algo, max_evals=max_evals, timeout=timeout, loss_threshold=loss_threshold,
            max_queue_len=max_queue_len, rstate=rstate, pass_expr_memo_ctrl=pass_expr_memo_ctrl, verbose=verbose,
            catch_eval_exceptions=catch_eval_exceptions, return_argmin=return_argmin,
            show_progressbar=show_progressbar, early_stop_fn=early_stop_fn, trials_save_file=trials_save_file)
    if not isinstance(max_queue_len, numbers.Integral) or max_queue_len < 1:
        raise ValueError(f"max_queue_len must be a positive integer, got {max_queue_len!r}")

    compiled = CompiledSpace(space)  # validated by the core: SearchSpaceError before any trial
    store = os.path.abspath(os.path.expanduser(os.fspath(trials_save_file))) if trials_save_file else None
    # A journal that exists keeps its own seed (the core reads it: seed_from_store).
    seed = _seed(rstate)
    if trials is None:
        trials = Trials()

    search = _Search(fn, compiled, trials, sampler, seed, store, catch_eval_exceptions)
    try:
        search.sync()
        if points_to_evaluate and not len(trials) and not search.pending:
            search.queue_points(list(points_to_evaluate))
        # A Trials that runs its trials elsewhere (SparkTrials: on executors) brings its own loop.
        loop = getattr(trials, "_fmin_loop", None) or _loop
        loop(search, max_evals, timeout, loss_threshold, max_queue_len, early_stop_fn,
             _progress(verbose, show_progressbar))
    finally:
        search.close()

    if return_argmin:
        if len(trials.trials) == 0:
            raise AllTrialsFailed("There are no evaluation tasks, cannot return argmin of task losses.")
        return Argmin(trials.argmin, trials.argmin_values)
    if len(trials) > 0:
        return trials.argmin_values
    return None


def _loop(search: _Search, max_evals: int, timeout: Optional[float], loss_threshold: Optional[float],
          max_queue_len: int, early_stop_fn: Optional[Callable], progress_callback: Callable) -> None:
    trials = search.trials
    study = search.study
    start = timer()
    # hyperopt's budget: max_evals counts the trials already there and the points still to run.
    budget = max_evals - len(trials) - sum(1 for _, doc in search.pending if doc is None)
    asked = 0
    best_loss = math.inf
    for loss in trials.losses():
        if isinstance(loss, numbers.Real) and loss < best_loss:  # NaN compares False
            best_loss = loss
    early_stop_state: List[Any] = []
    n_done = trials.count_by_state_synced(JOB_STATE_DONE)
    with progress_callback(initial=n_done, total=max_evals if max_evals != sys.maxsize else None) as bar:
        if best_loss < math.inf:
            bar.postfix = f"best loss: {best_loss}"
        while (
            (search.pending or asked < budget)
            and (timeout is None or timer() - start < timeout)
            and (loss_threshold is None or best_loss >= loss_threshold)
        ):
            if search.pending:
                point, new_doc = search.pending.popleft()
                batch = [(study.enqueue(_plain_point(point)), new_doc)]
            else:
                proposed = study.ask(min(max_queue_len, budget - asked))
                if not proposed:
                    break  # the sampler has nothing left (an exhausted grid)
                asked += len(proposed)
                batch = [(t, None) for t in proposed]
            docs = [search.start(t, d) for t, d in batch]
            finished = 0
            for i, ((trial, _), doc) in enumerate(zip(batch, docs)):
                try:
                    search.evaluate(trial, doc)
                except BaseException:
                    for (later, _), later_doc in zip(batch[i + 1:], docs[i + 1:]):
                        search.cancel(later, later_doc, "cancelled: an earlier trial of its batch raised")
                    raise
                if doc["state"] == JOB_STATE_DONE:
                    finished += 1
                    loss = doc["result"].get("loss")
                    if isinstance(loss, numbers.Real) and loss < best_loss:
                        best_loss = loss
                        bar.postfix = f"best loss: {best_loss}"
            if finished:
                bar.update(finished)
            if early_stop_fn is not None:
                stop, early_stop_state = early_stop_fn(trials, *early_stop_state)
                if stop:
                    logger.info("Early stop triggered: the search stops.")
                    break
