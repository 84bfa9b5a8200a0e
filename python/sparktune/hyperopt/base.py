"""hyperopt's constants and its `Trials`: the history of a search as hyperopt's documents.

A trial document is the dict hyperopt users know::

    {"tid": 3, "state": JOB_STATE_DONE, "spec": None,
     "result": {"loss": 0.12, "status": "ok", ...what the objective returned},
     "misc": {"tid": 3, "cmd": ("domain_attachment", "FMinIter_Domain"), "workdir": None,
              "idxs": {label: [3] or []}, "vals": {label: [raw value] or []}},
     "exp_key": None, "owner": None, "version": 0, "book_time": datetime, "refresh_time": datetime}

`vals` holds the raw draw of each active label (a choice's option index, not the option); a label
inactive in the trial maps to ``[]``. `Trials` is plain Python data (no SparkSession, no native
handle), so it pickles; `fmin` fills it from the core's trials.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Iterator, List, Optional

from sparktune.hyperopt.exceptions import AllTrialsFailed, InvalidTrial

# -- result statuses: an objective returning a dict gives one of these as 'status'
STATUS_NEW = "new"
STATUS_RUNNING = "running"
STATUS_SUSPENDED = "suspended"
STATUS_OK = "ok"
STATUS_FAIL = "fail"
STATUS_STRINGS = (STATUS_NEW, STATUS_RUNNING, STATUS_SUSPENDED, STATUS_OK, STATUS_FAIL)

# -- job states of a trial document
JOB_STATE_NEW = 0
JOB_STATE_RUNNING = 1
JOB_STATE_DONE = 2
JOB_STATE_ERROR = 3
JOB_STATE_CANCEL = 4
JOB_STATES = [JOB_STATE_NEW, JOB_STATE_RUNNING, JOB_STATE_DONE, JOB_STATE_ERROR, JOB_STATE_CANCEL]
# The states `Trials.trials` shows; errored and cancelled trials stay in `_dynamic_trials` only.
JOB_VALID_STATES = {JOB_STATE_NEW, JOB_STATE_RUNNING, JOB_STATE_DONE}

TRIAL_KEYS = ["tid", "spec", "result", "misc", "state", "owner", "book_time", "refresh_time", "exp_key"]
TRIAL_MISC_KEYS = ["tid", "cmd", "idxs", "vals"]

# misc['cmd'] as hyperopt writes it (its workers read it; kept for code that inspects documents).
DOMAIN_CMD = ("domain_attachment", "FMinIter_Domain")


def spec_from_misc(misc: Dict[str, Any]) -> Dict[str, Any]:
    """label -> raw value of the active labels of a document's misc."""
    spec = {}
    for label, v in misc["vals"].items():
        if len(v) == 1:
            spec[label] = v[0]
        elif len(v) > 1:
            raise NotImplementedError("multiple values", (label, v))
    return spec


def miscs_to_idxs_vals(miscs: List[Dict[str, Any]], keys: Optional[List[str]] = None):
    """(idxs, vals) by label over all `miscs`: hyperopt's column form of the history."""
    if keys is None:
        if not miscs:
            raise ValueError("cannot infer keys from empty miscs")
        keys = list(miscs[0]["idxs"].keys())
    idxs: Dict[str, list] = {k: [] for k in keys}
    vals: Dict[str, list] = {k: [] for k in keys}
    for misc in miscs:
        for label in keys:
            idxs[label].extend(misc["idxs"].get(label, ()))
            vals[label].extend(misc["vals"].get(label, ()))
    return idxs, vals


def _is_nan(x: Any) -> bool:
    try:
        return math.isnan(x)
    except TypeError:
        return False


class Trials:
    """The trials of a search: what `fmin` proposed, what the objective returned.

    hyperopt's API: `trials` (the documents), `results`, `losses()`, `statuses()`, `tids`, `vals`,
    `idxs`, `miscs`, `best_trial`, `argmin`, `attachments` / `trial_attachments(doc)`,
    `len()`, iteration, `refresh()`, `insert_trial_docs`, `fmin(...)`.

    sparktune adds:

    - `argmin_values`: the best trial's values as the objective received them (hyperopt's
      ``space_eval(space, trials.argmin)``: a choice gives its option, not its index);
    - `errors`: the documents of trials whose objective raised (with ``catch_eval_exceptions``),
      each with ``misc['error']`` and the traceback in ``result['traceback']``.
    """

    asynchronous = False

    def __init__(self, exp_key: Any = None, refresh: bool = True):
        self._ids: set = set()
        self._dynamic_trials: List[Dict[str, Any]] = []
        self._exp_key = exp_key
        self.attachments: Dict[str, Any] = {}
        # tid -> the values the objective received (set by fmin), for argmin_values.
        self._values: Dict[Any, Any] = {}
        # The space of the last fmin (a sparktune.hyperopt._space.CompiledSpace), to evaluate a
        # point that fmin did not see.
        self._space = None
        if refresh:
            self.refresh()

    # -- documents -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Rebuilds `trials` from all documents: those in a valid state of this exp_key."""
        self._trials = [
            t for t in self._dynamic_trials
            if t["state"] in JOB_VALID_STATES and (self._exp_key is None or t["exp_key"] == self._exp_key)
        ]
        self._ids.update(t["tid"] for t in self._trials)

    @property
    def trials(self) -> List[Dict[str, Any]]:
        return self._trials

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return iter(self._trials)

    def __len__(self) -> int:
        return len(self._trials)

    def __getitem__(self, item: Any):
        # As hyperopt: indexing by position or by tid would be ambiguous.
        raise NotImplementedError("index trials.trials (by position) or filter it by 'tid'")

    @property
    def tids(self) -> List[Any]:
        return [t["tid"] for t in self._trials]

    @property
    def specs(self) -> List[Any]:
        return [t["spec"] for t in self._trials]

    @property
    def results(self) -> List[Dict[str, Any]]:
        return [t["result"] for t in self._trials]

    @property
    def miscs(self) -> List[Dict[str, Any]]:
        return [t["misc"] for t in self._trials]

    @property
    def idxs_vals(self):
        return miscs_to_idxs_vals(self.miscs)

    @property
    def idxs(self) -> Dict[str, list]:
        return self.idxs_vals[0]

    @property
    def vals(self) -> Dict[str, list]:
        return self.idxs_vals[1]

    @property
    def errors(self) -> List[Dict[str, Any]]:
        """Documents of trials whose objective raised (state JOB_STATE_ERROR), oldest first.
        They are not in `trials` (as in hyperopt), so they count neither in `len()` nor in
        `max_evals` when a search is resumed."""
        return [t for t in self._dynamic_trials if t["state"] == JOB_STATE_ERROR]

    def losses(self, bandit: Any = None) -> List[Optional[float]]:
        if bandit is not None:
            return list(map(bandit.loss, self.results, self.specs))
        return [r.get("loss") for r in self.results]

    def statuses(self, bandit: Any = None) -> List[Optional[str]]:
        if bandit is not None:
            return list(map(bandit.status, self.results, self.specs))
        return [r.get("status") for r in self.results]

    @property
    def best_trial(self) -> Dict[str, Any]:
        """The ok trial with the lowest loss (NaN losses skipped; ties: the first); raises
        AllTrialsFailed when there is none."""
        best = None
        best_loss = math.inf
        for t in self._trials:
            r = t["result"]
            if r.get("status") != STATUS_OK:
                continue
            loss = r.get("loss")
            if loss is None or _is_nan(loss):
                continue
            loss = float(loss)
            if best is None or loss < best_loss:
                best, best_loss = t, loss
        if best is None:
            raise AllTrialsFailed("no trial finished with status 'ok' and a loss that is not NaN")
        return best

    @property
    def argmin(self) -> Dict[str, Any]:
        """label -> raw value of the best trial (a choice gives its option index)."""
        return spec_from_misc(self.best_trial["misc"])

    @property
    def argmin_values(self) -> Any:
        """The best trial's values: the space evaluated at `argmin`, as the objective received
        them (a choice gives the chosen option). Raises AllTrialsFailed when no trial succeeded."""
        best = self.best_trial
        tid = best["tid"]
        if tid in self._values:
            return self._values[tid]
        if self._space is None:
            raise ValueError(
                "these trials were not filled by sparktune.hyperopt.fmin, so their space is unknown: "
                "use space_eval(space, trials.argmin)"
            )
        return self._space.evaluate(spec_from_misc(best["misc"]))

    # -- attachments -------------------------------------------------------------------------

    def aname(self, trial: Dict[str, Any], name: str) -> str:
        return f"ATTACH::{trial['tid']}::{name}"

    def trial_attachments(self, trial: Dict[str, Any]):
        """A mapping view of one trial's attachments: ``trials.trial_attachments(doc)[name]``."""
        trials = self

        class Attachments:
            def __contains__(self, name: str) -> bool:
                return trials.aname(trial, name) in trials.attachments

            def __getitem__(self, name: str) -> Any:
                return trials.attachments[trials.aname(trial, name)]

            def __setitem__(self, name: str, value: Any) -> None:
                trials.attachments[trials.aname(trial, name)] = value

            def __delitem__(self, name: str) -> None:
                del trials.attachments[trials.aname(trial, name)]

        return Attachments()

    # -- inserting documents (hyperopt's API, for code that builds histories by hand) ---------

    def assert_valid_trial(self, trial: Dict[str, Any]) -> Dict[str, Any]:
        if not (hasattr(trial, "keys") and hasattr(trial, "values")):
            raise InvalidTrial("trial should be dict-like", trial)
        for key in TRIAL_KEYS:
            if key not in trial:
                raise InvalidTrial(f"trial missing key {key}", trial)
        for key in TRIAL_MISC_KEYS:
            if key not in trial["misc"]:
                raise InvalidTrial(f"trial['misc'] missing key {key}", trial)
        if trial["tid"] != trial["misc"]["tid"]:
            raise InvalidTrial("tid mismatch between root and misc", trial)
        if trial["exp_key"] != self._exp_key:
            raise InvalidTrial("wrong exp_key", (trial["exp_key"], self._exp_key))
        return trial

    def _insert_trial_docs(self, docs: List[Dict[str, Any]]) -> List[Any]:
        self._dynamic_trials.extend(docs)
        return [d["tid"] for d in docs]

    def insert_trial_doc(self, doc: Dict[str, Any]) -> Any:
        """Inserts a document after checking it; call refresh() to see it in `trials`."""
        return self._insert_trial_docs([self.assert_valid_trial(doc)])[0]

    def insert_trial_docs(self, docs: List[Dict[str, Any]]) -> List[Any]:
        return self._insert_trial_docs([self.assert_valid_trial(d) for d in docs])

    def new_trial_ids(self, n: int) -> List[int]:
        start = len(self._ids)
        ids = list(range(start, start + n))
        self._ids.update(ids)
        return ids

    def new_trial_docs(self, tids, specs, results, miscs) -> List[Dict[str, Any]]:
        assert len(tids) == len(specs) == len(results) == len(miscs)
        return [
            {"state": JOB_STATE_NEW, "tid": tid, "spec": spec, "result": result, "misc": misc,
             "exp_key": self._exp_key, "owner": None, "version": 0, "book_time": None, "refresh_time": None}
            for tid, spec, result, misc in zip(tids, specs, results, miscs)
        ]

    def delete_all(self) -> None:
        self._dynamic_trials = []
        self.attachments = {}
        self._values = {}
        self.refresh()

    def count_by_state_synced(self, arg: Any, trials: Optional[List[Dict[str, Any]]] = None) -> int:
        if trials is None:
            trials = self._trials
        if arg in JOB_STATES:
            return sum(1 for t in trials if t["state"] == arg)
        if hasattr(arg, "__iter__"):
            states = set(arg)
            assert all(s in JOB_STATES for s in states)
            return sum(1 for t in trials if t["state"] in states)
        raise TypeError(arg)

    def count_by_state_unsynced(self, arg: Any) -> int:
        docs = self._dynamic_trials
        if self._exp_key is not None:
            docs = [t for t in docs if t["exp_key"] == self._exp_key]
        return self.count_by_state_synced(arg, trials=docs)

    # -- searching -------------------------------------------------------------------------------

    def fmin(self, fn, space, algo=None, max_evals=None, timeout=None, loss_threshold=None, max_queue_len=1,
             rstate=None, verbose=False, pass_expr_memo_ctrl=None, catch_eval_exceptions=False,
             return_argmin=True, show_progressbar=True, early_stop_fn=None, trials_save_file=""):
        """`sparktune.hyperopt.fmin` with these trials (see there)."""
        from sparktune.hyperopt.fmin import fmin

        return fmin(fn, space, algo=algo, max_evals=max_evals, timeout=timeout, loss_threshold=loss_threshold,
                    trials=self, rstate=rstate, verbose=verbose, max_queue_len=max_queue_len,
                    allow_trials_fmin=False, pass_expr_memo_ctrl=pass_expr_memo_ctrl,
                    catch_eval_exceptions=catch_eval_exceptions, return_argmin=return_argmin,
                    show_progressbar=show_progressbar, early_stop_fn=early_stop_fn,
                    trials_save_file=trials_save_file)


def trials_from_docs(docs: List[Dict[str, Any]], validate: bool = True, **kwargs: Any) -> Trials:
    """A Trials holding `docs`."""
    trials = Trials(**kwargs)
    if validate:
        trials.insert_trial_docs(docs)
    else:
        trials._insert_trial_docs(docs)
    trials.refresh()
    return trials
