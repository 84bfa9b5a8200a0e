"""sparktune.hyperopt against hyperopt 0.3.0: the same notebook code under either import.

No Spark: the core runs in this process through the native library (see test_hyperopt_native.py).
hyperopt itself is needed only for the side-by-side tests, which are skipped without it.
"""

import functools
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import sparktune.hyperopt as sh
from sparktune import _native
from sparktune import errors as sparktune_errors
from sparktune.errors import SearchSpaceError
from sparktune.hyperopt import (
    STATUS_FAIL,
    STATUS_OK,
    Argmin,
    Trials,
    early_stop,
    fmin,
    hp,
    qmc,
    rand,
    space_eval,
    tpe,
)
from sparktune.hyperopt._algo import sampler_config
from sparktune.hyperopt._space import CompiledSpace
from sparktune.hyperopt.exceptions import AllTrialsFailed, InvalidLoss, InvalidResultStatus

# sparktune.hyperopt/__init__.py -> python/: the subprocesses import this checkout, not an installed one.
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(sh.__file__))))

# What hyperopt exports that a notebook uses, and sparktune.hyperopt must have too.
HYPEROPT_NAMES = [
    "fmin", "tpe", "rand", "hp", "Trials", "space_eval", "partial", "trials_from_docs", "early_stop",
    "exceptions", "progress", "pyll", "fmin_pass_expr_memo_ctrl",
    "STATUS_NEW", "STATUS_RUNNING", "STATUS_SUSPENDED", "STATUS_OK", "STATUS_FAIL", "STATUS_STRINGS",
    "JOB_STATE_NEW", "JOB_STATE_RUNNING", "JOB_STATE_DONE", "JOB_STATE_ERROR", "JOB_STATES",
]
HP_FUNCTIONS = ["uniform", "loguniform", "quniform", "qloguniform", "normal", "lognormal", "qnormal",
                "qlognormal", "randint", "uniformint", "choice", "pchoice"]


def quiet(**kwargs):
    return dict(show_progressbar=False, **kwargs)


def parabola(p):
    return (p["x"] - 0.3) ** 2


X_SPACE = {"x": hp.uniform("x", -1, 1)}


def core_trials(path, space, algo=tpe.suggest):
    """The trials of a journal as the core reads them (opened with the config fmin wrote, its seed
    the store's own)."""
    config = {"space": CompiledSpace(space).document, "sampler": sampler_config(algo),
              "seed": 0, "seed_from_store": True, "store": path}
    with _native.NativeStudy(config) as study:
        return study.trials()


# -- the public surface ---------------------------------------------------------------------------

def test_every_public_name_is_importable():
    for name in HYPEROPT_NAMES + ["qmc", "Argmin", "JOB_STATE_CANCEL", "generate_trials_to_calculate"]:
        assert hasattr(sh, name), name
    for name in sh.__all__:
        assert getattr(sh, name) is not None, name
    for name in HP_FUNCTIONS:
        assert callable(getattr(hp, name)), name
    assert callable(early_stop.no_progress_loss)
    import importlib

    # The module paths hyperopt users import from.
    for module, name in [("fmin", "generate_trials_to_calculate"), ("fmin", "space_eval"), ("base", "Trials"),
                         ("base", "STATUS_OK"), ("exceptions", "AllTrialsFailed"), ("early_stop", "no_progress_loss"),
                         ("progress", "no_progress_callback")]:
        assert hasattr(importlib.import_module(f"sparktune.hyperopt.{module}"), name), (module, name)


def test_constants_equal_hyperopts():
    hyperopt = pytest.importorskip("hyperopt")
    import importlib

    for name in HYPEROPT_NAMES:
        # `from hyperopt import early_stop` imports the submodule: so may a notebook.
        assert hasattr(hyperopt, name) or importlib.util.find_spec(f"hyperopt.{name}"), name
        if name.startswith(("STATUS_", "JOB_STATE")):
            assert getattr(sh, name) == getattr(hyperopt, name), name


def test_suggest_functions_are_only_names():
    with pytest.raises(TypeError, match="algo=tpe.suggest"):
        tpe.suggest([0], None, None, 0)


# -- switching the import ---------------------------------------------------------------------------

def notebook(mod):
    """A notebook cell as a hyperopt user writes it; `mod` is hyperopt or sparktune.hyperopt."""
    hp = mod.hp
    space = {
        "lr": hp.loguniform("lr", math.log(1e-4), 0.0),
        "model": hp.choice("model", [
            {"kind": "linear", "reg": hp.uniform("reg", 0.0, 1.0)},
            {"kind": "tree", "depth": mod.pyll.scope.int(hp.quniform("depth", 2, 12, 1)),
             "leaves": hp.randint("leaves", 2, 64)},
        ]),
        "batch": hp.choice("batch", [16, 32, 64]),
    }

    def objective(p):
        m = p["model"]
        loss = (math.log10(p["lr"]) + 2) ** 2 + (m["reg"] if m["kind"] == "linear" else abs(m["depth"] - 6) / 10)
        if m["kind"] == "tree":
            assert type(m["depth"]) is int, m  # scope.int
        return {"loss": loss, "status": mod.STATUS_OK, "batch_seen": p["batch"]}

    trials = mod.Trials()
    best = mod.fmin(objective, space, algo=mod.tpe.suggest, max_evals=25, trials=trials,
                    rstate=np.random.default_rng(7), show_progressbar=False)
    return space, trials, best, mod.space_eval(space, best)


def test_the_same_notebook_runs_under_either_import():
    hyperopt = pytest.importorskip("hyperopt")
    h_space, h_trials, h_best, h_values = notebook(hyperopt)
    s_space, s_trials, s_best, s_values = notebook(sh)

    assert len(s_trials) == len(h_trials) == 25
    assert isinstance(s_best, dict) and set(s_best) <= {"lr", "model", "reg", "depth", "leaves", "batch"}
    assert {"lr", "model", "batch"} <= set(s_best) and {"lr", "model", "batch"} <= set(h_best)
    # A choice is reported as its index, in both.
    assert isinstance(s_best["model"], int) and s_best["model"] in (0, 1)
    assert isinstance(s_best["batch"], int) and s_best["batch"] in (0, 1, 2)
    # Documents shaped alike.
    for s_doc, h_doc in zip(s_trials.trials, h_trials.trials):
        assert set(s_doc) == set(h_doc)
        assert set(s_doc["misc"]) == set(h_doc["misc"])
        assert set(s_doc["misc"]["vals"]) == set(h_doc["misc"]["vals"]) == {"lr", "model", "reg", "depth", "leaves", "batch"}
        assert set(s_doc["result"]) == set(h_doc["result"]) == {"loss", "status", "batch_seen"}
        assert s_doc["state"] == h_doc["state"] == sh.JOB_STATE_DONE
        assert type(s_doc["book_time"]) is type(h_doc["book_time"])
    assert s_trials.statuses() == h_trials.statuses() == ["ok"] * 25
    assert set(s_trials.vals) == set(h_trials.vals) and set(s_trials.idxs) == set(h_trials.idxs)
    assert s_trials.tids == list(range(25))
    # Inactive labels are [] in vals, active ones one value, as hyperopt's.
    for doc in s_trials.trials:
        vals = doc["misc"]["vals"]
        linear = vals["model"] == [0]
        assert (vals["reg"] != []) == linear and (vals["depth"] != []) == (not linear)
    assert s_trials.best_trial["result"]["loss"] == min(s_trials.losses())
    # space_eval gives the same structure.
    assert set(s_values) == set(h_values) == {"lr", "model", "batch"}
    assert s_values["batch"] in (16, 32, 64) and s_values["model"]["kind"] in ("linear", "tree")


# -- objectives ----------------------------------------------------------------------------------

def test_float_objective():
    trials = Trials()
    best = fmin(parabola, X_SPACE, algo=rand.suggest, max_evals=30, trials=trials, rstate=np.random.default_rng(0), **quiet())
    assert len(trials) == 30
    assert trials.results[0] == {"loss": trials.losses()[0], "status": "ok"}
    assert best == {"x": trials.best_trial["misc"]["vals"]["x"][0]}
    assert abs(best["x"] - 0.3) < 0.2


def test_integer_and_numpy_losses_are_floats():
    trials = Trials()
    fmin(lambda p: np.float32(1.5) if p["x"] > 0 else 2, X_SPACE, algo=rand.suggest, max_evals=6, trials=trials, **quiet())
    assert set(trials.losses()) <= {1.5, 2.0}
    assert all(type(loss) is float for loss in trials.losses())


def test_dict_objective_keeps_extra_keys_and_attachments():
    trials = Trials()

    def objective(p):
        return {"loss": parabola(p), "status": STATUS_OK, "loss_variance": 0.1, "true_loss": 1.0,
                "note": f"x={p['x']:.2f}", "attachments": {"blob": b"bytes of a model"}}

    fmin(objective, X_SPACE, algo=rand.suggest, max_evals=5, trials=trials, **quiet())
    for doc in trials.trials:
        assert set(doc["result"]) == {"loss", "status", "loss_variance", "true_loss", "note"}
        assert trials.trial_attachments(doc)["blob"] == b"bytes of a model"
        assert "blob" in trials.trial_attachments(doc)
    assert f"ATTACH::{trials.tids[0]}::blob" in trials.attachments


def test_failed_trials_are_kept_and_never_best(tmp_path):
    path = str(tmp_path / "fail.journal")

    def objective(p):
        if p["x"] < 0:
            return {"status": STATUS_FAIL, "error": "diverged"}
        return {"loss": p["x"], "status": STATUS_OK}

    trials = Trials()
    fmin(objective, X_SPACE, algo=rand.suggest, max_evals=20, trials=trials, rstate=np.random.default_rng(1),
         trials_save_file=path, **quiet())
    statuses = trials.statuses()
    assert len(trials) == 20 and "fail" in statuses and "ok" in statuses
    assert [loss is None for loss in trials.losses()] == [s == "fail" for s in statuses]
    assert trials.best_trial["result"]["status"] == "ok"
    core = core_trials(path, X_SPACE, rand.suggest)
    assert [t["state"] for t in core] == [s for s in statuses]
    assert {t["error"] for t in core if t["state"] == "fail"} == {"diverged"}


def test_a_nan_loss_stays_in_the_result_but_the_core_is_told_fail(tmp_path):
    path = str(tmp_path / "nan.journal")
    trials = Trials()
    fmin(lambda p: float("nan") if p["x"] > 0 else p["x"], X_SPACE, algo=rand.suggest, max_evals=12, trials=trials,
         rstate=np.random.default_rng(2), trials_save_file=path, **quiet())
    losses = trials.losses()
    assert any(math.isnan(v) for v in losses) and any(not math.isnan(v) for v in losses)
    assert trials.statuses() == ["ok"] * 12  # as hyperopt records it
    assert not math.isnan(trials.best_trial["result"]["loss"])
    core = core_trials(path, X_SPACE, rand.suggest)
    for loss, t in zip(losses, core):
        assert (t["state"], t["error"]) == (("fail", "loss is NaN") if math.isnan(loss) else ("ok", None))


def test_nan_handling_matches_hyperopt():
    hyperopt = pytest.importorskip("hyperopt")
    results = []
    for mod in (hyperopt, sh):
        trials = mod.Trials()
        best = mod.fmin(lambda p: float("nan") if p["x"] > 0 else p["x"], {"x": mod.hp.uniform("x", -1, 1)},
                        algo=mod.rand.suggest, max_evals=10, trials=trials, rstate=np.random.default_rng(3),
                        show_progressbar=False)
        nan_count = sum(math.isnan(v) for v in trials.losses())
        results.append((len(trials), trials.statuses(), best["x"] < 0, 0 < nan_count < 10))
    assert results[0][0] == results[1][0] and results[0][1] == results[1][1]
    assert results[1][2] and results[1][3]


def test_an_objective_that_raises_propagates_and_leaves_an_error_trial():
    calls = []

    def objective(p):
        calls.append(p)
        if len(calls) == 3:
            raise ZeroDivisionError("bad fold")
        return parabola(p)

    trials = Trials()
    with pytest.raises(ZeroDivisionError, match="bad fold"):
        fmin(objective, X_SPACE, algo=rand.suggest, max_evals=10, trials=trials, **quiet())
    assert len(calls) == 3
    assert len(trials) == 2  # as hyperopt: the errored trial is not in trials.trials
    [err] = trials.errors
    assert err["state"] == sh.JOB_STATE_ERROR
    assert err["misc"]["error"] == (str(ZeroDivisionError), "bad fold")
    assert "ZeroDivisionError: bad fold" in err["result"]["traceback"]


def test_catch_eval_exceptions_goes_on_and_keeps_the_traceback(tmp_path):
    path = str(tmp_path / "catch.journal")

    def objective(p):
        if p["x"] > 0.2:
            raise RuntimeError(f"cannot fit at {p['x']:.3f}")
        return parabola(p)

    trials = Trials()
    fmin(objective, X_SPACE, algo=rand.suggest, max_evals=20, trials=trials, catch_eval_exceptions=True,
         rstate=np.random.default_rng(4), trials_save_file=path, **quiet())
    errors = trials.errors
    assert errors and len(trials) + len(errors) == 20
    assert all(e["result"]["status"] == "fail" and "RuntimeError: cannot fit" in e["result"]["traceback"] for e in errors)
    core = core_trials(path, X_SPACE, rand.suggest)
    failed = [t for t in core if t["state"] == "fail"]
    assert len(failed) == len(errors)
    assert all("Traceback" in t["error"] and "cannot fit" in t["error"] for t in failed)


def test_catch_eval_exceptions_counts_as_hyperopt():
    hyperopt = pytest.importorskip("hyperopt")
    counts = []
    for mod in (hyperopt, sh):
        trials = mod.Trials()
        n = [0]

        def objective(p):
            n[0] += 1
            if n[0] % 3 == 0:
                raise ValueError("every third")
            return p["x"]

        mod.fmin(objective, {"x": mod.hp.uniform("x", 0, 1)}, algo=mod.rand.suggest, max_evals=9, trials=trials,
                 catch_eval_exceptions=True, rstate=np.random.default_rng(0), show_progressbar=False)
        counts.append((n[0], len(trials), len(trials._dynamic_trials)))
    assert counts[0] == counts[1] == (9, 6, 9)


def test_a_dict_without_status_is_an_error():
    with pytest.raises(InvalidResultStatus, match="without 'status'"):
        fmin(lambda p: {"loss": 1.0}, X_SPACE, algo=rand.suggest, max_evals=3, **quiet())
    with pytest.raises(InvalidResultStatus, match="'finished'"):
        fmin(lambda p: {"loss": 1.0, "status": "finished"}, X_SPACE, algo=rand.suggest, max_evals=3, **quiet())
    with pytest.raises(InvalidLoss):
        fmin(lambda p: {"status": STATUS_OK}, X_SPACE, algo=rand.suggest, max_evals=3, **quiet())


def test_all_failed_raises_all_trials_failed():
    with pytest.raises(AllTrialsFailed):
        fmin(lambda p: {"status": STATUS_FAIL}, X_SPACE, algo=rand.suggest, max_evals=3, **quiet())
    with pytest.raises(AllTrialsFailed):  # as hyperopt, which evaluates space_eval(space, trials.argmin)
        fmin(lambda p: {"status": STATUS_FAIL}, X_SPACE, algo=rand.suggest, max_evals=3, return_argmin=False, **quiet())
    # No trial at all: hyperopt returns None when asked for values.
    assert fmin(parabola, X_SPACE, algo=rand.suggest, max_evals=0, return_argmin=False, **quiet()) is None


# -- algorithms and seeds -----------------------------------------------------------------------------

def test_partial_tpe_settings_reach_the_core():
    def run(algo):
        trials = Trials()
        fmin(parabola, X_SPACE, algo=algo, max_evals=14, trials=trials, rstate=np.random.default_rng(5), **quiet())
        return trials.vals["x"]

    few = run(functools.partial(tpe.suggest, n_startup_jobs=4, n_EI_candidates=48, gamma=0.25, prior_weight=1.0))
    many = run(functools.partial(tpe.suggest, n_startup_jobs=14))
    assert few[:4] == many[:4]  # the same quasi-random start
    assert few[4:] != many[4:]  # then the model, in one run only
    assert sampler_config(functools.partial(tpe.suggest, n_startup_jobs=4, n_EI_candidates=48, gamma=0.25)) == {
        "kind": "tpe", "n_startup_trials": 4, "n_ei_candidates": 48, "gamma": 0.25}
    assert sampler_config(sh.partial(tpe.suggest, multivariate=False, verbose=False)) == {"kind": "tpe", "multivariate": False}


def test_bad_algo_settings_are_named():
    with pytest.raises(TypeError, match="n_startup"):
        fmin(parabola, X_SPACE, algo=functools.partial(tpe.suggest, n_startup=3), max_evals=2, **quiet())
    with pytest.raises(ValueError, match="gamma"):
        fmin(parabola, X_SPACE, algo=functools.partial(tpe.suggest, gamma=2.0), max_evals=2, **quiet())
    with pytest.raises(TypeError, match="not a sampler"):
        fmin(parabola, X_SPACE, algo=lambda *a: [], max_evals=2, **quiet())


def test_hyperopts_own_suggest_functions_are_understood():
    hyperopt = pytest.importorskip("hyperopt")
    assert sampler_config(hyperopt.tpe.suggest) == {"kind": "tpe"}
    assert sampler_config(functools.partial(hyperopt.tpe.suggest, n_startup_jobs=3)) == {"kind": "tpe", "n_startup_trials": 3}
    assert sampler_config(hyperopt.rand.suggest) == {"kind": "random"}
    with pytest.raises(ValueError, match="anneal"):
        sampler_config(hyperopt.anneal.suggest)
    with pytest.raises(TypeError, match="sparktune.hyperopt.hp"):
        fmin(parabola, {"x": hyperopt.hp.uniform("x", 0, 1)}, algo=tpe.suggest, max_evals=2, **quiet())


@pytest.mark.parametrize("algo", [tpe.suggest, rand.suggest, qmc.suggest])
def test_the_same_rstate_gives_the_same_trials(algo):
    def run(seed):
        trials = Trials()
        fmin(parabola, {"x": hp.uniform("x", -1, 1), "c": hp.choice("c", [0, 1, 2])}, algo=algo, max_evals=15,
             trials=trials, rstate=np.random.default_rng(seed), **quiet())
        return trials.vals

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_max_evals_counts_the_trials_already_there():
    trials = Trials()
    fmin(parabola, X_SPACE, algo=tpe.suggest, max_evals=8, trials=trials, rstate=np.random.default_rng(0), **quiet())
    first = list(trials.vals["x"])
    fmin(parabola, X_SPACE, algo=tpe.suggest, max_evals=20, trials=trials, rstate=np.random.default_rng(1), **quiet())
    assert len(trials) == 20 and trials.tids == list(range(20))
    assert trials.vals["x"][:8] == first
    fmin(parabola, X_SPACE, algo=tpe.suggest, max_evals=20, trials=trials, **quiet())
    assert len(trials) == 20


def test_points_to_evaluate_run_first_and_count_in_max_evals():
    space = {"x": hp.uniform("x", -1, 1), "c": hp.choice("c", ["a", {"y": hp.randint("y", 5)}])}
    points = [{"x": 0.3, "c": 0}, {"x": -0.5, "c": 1, "y": 4}]
    trials = Trials()
    seen = []
    fmin(lambda p: seen.append(p) or parabola(p), space, algo=tpe.suggest, max_evals=6, trials=None,
         points_to_evaluate=points, **quiet())
    assert seen[0] == {"x": 0.3, "c": "a"} and seen[1] == {"x": -0.5, "c": {"y": 4}}
    assert len(seen) == 6
    best = fmin(parabola, space, algo=tpe.suggest, max_evals=3, trials=trials, points_to_evaluate=points, **quiet())
    assert trials.trials[0]["misc"]["vals"] == {"x": [0.3], "c": [0], "y": []}
    assert best["x"] == 0.3 and best.space_values == {"x": 0.3, "c": "a"}


def test_a_bad_point_fails_before_any_trial_naming_the_label():
    called = []
    with pytest.raises(SearchSpaceError, match="'y'"):
        fmin(lambda p: called.append(p) or 0.0, {"x": hp.uniform("x", 0, 1), "c": hp.choice("c", [0, {"y": hp.uniform("y", 0, 1)}])},
             algo=tpe.suggest, max_evals=5, points_to_evaluate=[{"x": 0.5, "c": 0}, {"x": 0.5, "c": 1}], **quiet())
    assert called == []


def test_generate_trials_to_calculate_seeds_the_search():
    from sparktune.hyperopt.fmin import generate_trials_to_calculate

    trials = generate_trials_to_calculate([{"x": 0.25}, {"x": -0.75}])
    fmin(parabola, X_SPACE, algo=rand.suggest, max_evals=5, trials=trials, **quiet())
    assert len(trials) == 5 and trials.vals["x"][:2] == [0.25, -0.75]
    assert trials.statuses() == ["ok"] * 5


# -- stopping ----------------------------------------------------------------------------------------

def test_no_progress_loss_stops_as_hyperopts():
    hyperopt = pytest.importorskip("hyperopt")
    import hyperopt.early_stop  # noqa: F401
    counts = []
    for mod in (hyperopt, sh):
        trials = mod.Trials()
        mod.fmin(lambda p: 1.0, {"x": mod.hp.uniform("x", 0, 1)}, algo=mod.rand.suggest, max_evals=50, trials=trials,
                 early_stop_fn=mod.early_stop.no_progress_loss(5), show_progressbar=False)
        counts.append(len(trials))
    assert counts[0] == counts[1] == 5


def test_no_progress_loss_lets_an_improving_search_run():
    trials = Trials()
    losses = iter(range(30, 0, -1))
    fmin(lambda p: next(losses), X_SPACE, algo=rand.suggest, max_evals=20, trials=trials,
         early_stop_fn=early_stop.no_progress_loss(3), **quiet())
    assert len(trials) == 20


def test_a_custom_early_stop_fn_gets_its_state_back():
    seen = []

    def stop_after_four(trials, count=0):
        seen.append(count)
        return count + 1 >= 4, [count + 1]

    trials = Trials()
    fmin(parabola, X_SPACE, algo=rand.suggest, max_evals=30, trials=trials, early_stop_fn=stop_after_four, **quiet())
    assert seen == [0, 1, 2, 3] and len(trials) == 4


def test_loss_threshold_stops_once_a_loss_is_below():
    trials = Trials()
    losses = iter([5.0, 4.0, 0.5, 3.0, 2.0, 1.0])
    fmin(lambda p: next(losses), X_SPACE, algo=rand.suggest, max_evals=6, loss_threshold=1.0, trials=trials, **quiet())
    assert trials.losses() == [5.0, 4.0, 0.5]


def test_timeout_stops_launching_trials():
    trials = Trials()
    start = time.monotonic()
    fmin(lambda p: time.sleep(0.1) or parabola(p), X_SPACE, algo=rand.suggest, max_evals=1000, timeout=0.5,
         trials=trials, **quiet())
    elapsed = time.monotonic() - start
    assert 3 <= len(trials) <= 7 and elapsed < 2.0
    with pytest.raises(ValueError, match="timeout"):
        fmin(parabola, X_SPACE, max_evals=1, timeout=-1, **quiet())


def test_progress_shows_only_when_asked(capsys):
    fmin(parabola, X_SPACE, algo=rand.suggest, max_evals=5, show_progressbar=False)
    fmin(parabola, X_SPACE, algo=rand.suggest, max_evals=5, verbose=False)
    quiet_out = capsys.readouterr()
    assert quiet_out.err == "" and quiet_out.out == ""
    from sparktune.hyperopt import progress

    fmin(parabola, X_SPACE, algo=rand.suggest, max_evals=5, show_progressbar=progress.plain_progress_callback)
    shown = capsys.readouterr().err
    assert "5/5 trials" in shown and "best loss" in shown


# -- the journal ---------------------------------------------------------------------------------------

CRASHING_NOTEBOOK = r"""
import os, sys
from sparktune.hyperopt import fmin, tpe, hp, Trials, STATUS_OK
path, crash_at, max_evals = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
calls = [0]
def objective(p):
    calls[0] += 1
    if calls[0] == crash_at:
        os._exit(17)  # the process dies mid-trial: no cleanup, as a killed kernel
    return {"loss": (p["x"] - 0.3) ** 2 + (0 if p["c"] == (1, 2) else 0.1), "status": STATUS_OK,
            "call": calls[0], "tags": ["a", "b"], "nan_metric": float("nan")}
trials = Trials()
best = fmin(objective, {"x": hp.uniform("x", -1, 1), "c": hp.choice("c", ["a", (1, 2)])}, algo=tpe.suggest,
            max_evals=max_evals, trials=trials, trials_save_file=path, show_progressbar=False)
print(len(trials), calls[0])
"""


def run_notebook(path, crash_at, max_evals):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, "-c", CRASHING_NOTEBOOK, path, str(crash_at), str(max_evals)],
                          env=env, capture_output=True, text=True, timeout=120)


def test_trials_save_file_resumes_after_a_crash(tmp_path):
    path = str(tmp_path / "search.journal")
    crashed = run_notebook(path, crash_at=9, max_evals=30)
    assert crashed.returncode == 17, crashed.stderr

    space = {"x": hp.uniform("x", -1, 1), "c": hp.choice("c", ["a", (1, 2)])}
    before = [t for t in core_trials(path, space) if t["state"] == "ok"]
    assert len(before) == 8
    best_before = min(t["value"] for t in before)

    # The same cell, run again in this process: it resumes the journal.
    trials = Trials()
    seen = []
    best = fmin(lambda p: seen.append(p) or (p["x"] - 0.3) ** 2 + (0 if p["c"] == (1, 2) else 0.1), space,
                algo=tpe.suggest, max_evals=14, trials=trials, trials_save_file=path, **quiet())
    assert len(seen) == 6 and len(trials) == 14
    assert trials.tids == [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14]  # 8 was cut short by the crash
    # The finished trials came back with their results, rebuilt from the journal.
    first = trials.trials[0]["result"]
    assert first["call"] == 1 and first["tags"] == ["a", "b"] and math.isnan(first["nan_metric"])
    assert [d["result"]["loss"] for d in trials.trials[:8]] == [t["value"] for t in before]
    assert min(trials.losses()) <= best_before
    assert best.space_values["c"] in ("a", (1, 2))
    # A third run has nothing left to do.
    again = run_notebook(path, crash_at=0, max_evals=14)
    assert again.returncode == 0 and again.stdout.split() == ["14", "0"], again.stderr


def test_trials_save_file_refuses_another_space(tmp_path):
    path = str(tmp_path / "s.journal")
    fmin(parabola, X_SPACE, algo=tpe.suggest, max_evals=2, trials_save_file=path, **quiet())
    with pytest.raises(ValueError, match="s.journal"):
        fmin(parabola, {"x": hp.uniform("x", -2, 2)}, algo=tpe.suggest, max_evals=4, trials_save_file=path, **quiet())


def test_a_reused_trials_with_a_journal_continues(tmp_path):
    path = str(tmp_path / "r.journal")
    trials = Trials()
    fmin(parabola, X_SPACE, algo=tpe.suggest, max_evals=5, trials=trials, trials_save_file=path, **quiet())
    fmin(parabola, X_SPACE, algo=tpe.suggest, max_evals=9, trials=trials, trials_save_file=path, **quiet())
    assert trials.tids == list(range(9))
    assert [t["id"] for t in core_trials(path, X_SPACE)] == list(range(9))


# -- spaces -----------------------------------------------------------------------------------------

def test_an_invalid_space_is_refused_before_any_trial_naming_the_label():
    called = []
    with pytest.raises(SearchSpaceError, match="'lr'") as info:
        fmin(lambda p: called.append(p) or 0.0, {"lr": hp.uniform("lr", 1.0, 0.0)}, algo=tpe.suggest, max_evals=3, **quiet())
    assert isinstance(info.value, ValueError)
    with pytest.raises(SearchSpaceError, match="'depth'"):
        fmin(lambda p: 0.0, {"a": hp.randint("depth", 3), "b": hp.quniform("depth", 0, 1, 0.1)}, max_evals=3, **quiet())
    with pytest.raises(SearchSpaceError, match="'c'"):
        fmin(lambda p: 0.0, {"c": hp.choice("c", [])}, max_evals=3, **quiet())
    assert called == []


def test_space_eval_through_the_core():
    space = {"m": hp.choice("m", [{"kind": "a"}, {"kind": "b", "d": hp.randint("d", 1, 9)}]), "lr": hp.loguniform("lr", -3, 0)}
    assert space_eval(space, {"m": 1, "d": 4, "lr": 0.1}) == {"m": {"kind": "b", "d": 4}, "lr": 0.1}
    # An inactive label is ignored, as hyperopt does; an unknown one is named.
    assert space_eval(space, {"m": 0, "d": 4, "lr": np.float64(0.1)}) == {"m": {"kind": "a"}, "lr": 0.1}
    with pytest.raises(SearchSpaceError, match="'zz'"):
        space_eval(space, {"m": 0, "lr": 0.1, "zz": 1})


def test_scope_int_and_float_cast_the_value_not_the_point():
    from sparktune.hyperopt.pyll import scope

    space = {"d": scope.int(hp.quniform("d", 2, 12, 1)), "f": scope.int(hp.uniform("f", -5, 5)),
             "n": scope.float(hp.randint("n", 4)), "k": scope.int(3.9)}
    assert space_eval(space, {"d": 3.0, "f": -3.7, "n": 2}) == {"d": 3, "f": -3, "n": 2.0, "k": 3}
    seen = []
    trials = Trials()
    fmin(lambda p: seen.append(p) or 0.0, space, algo=rand.suggest, max_evals=5, trials=trials, **quiet())
    assert all(type(p["d"]) is int and type(p["f"]) is int and type(p["n"]) is float for p in seen)
    assert all(type(v) is float for v in trials.vals["d"])  # the raw point keeps the draw, as hyperopt's
    with pytest.raises(AttributeError, match="scope.switch"):
        scope.switch


def test_the_objective_gets_the_spaces_own_objects():
    class Model:
        pass

    options = [Model, (64, 32), np.array([1.0, 2.0]), "plain"]
    seen = []
    space = {"m": hp.choice("m", options), "t": (hp.uniform("a", 0, 1), "fixed")}
    best = fmin(lambda p: seen.append(p) or 0.0, space, algo=rand.suggest, max_evals=12, rstate=np.random.default_rng(0), **quiet())
    assert any(p["m"] is Model for p in seen)
    # The class, tuple and array are the space's own objects; the string travelled as JSON.
    assert all(any(p["m"] is o for o in options[:3]) or p["m"] == "plain" for p in seen)
    assert all(isinstance(p["t"], tuple) and p["t"][1] == "fixed" for p in seen)
    assert best.space_values["m"] is options[best["m"]]


# -- argmin as values ----------------------------------------------------------------------------------

def test_argmin_comes_with_its_values():
    space = {"opt": hp.choice("opt", ["sgd", "adam"]), "lr": hp.loguniform("lr", -5, 0)}
    trials = Trials()

    def objective(p):
        return (0 if p["opt"] == "adam" else 1) + p["lr"]

    best = fmin(objective, space, algo=tpe.suggest, max_evals=30, trials=trials, rstate=np.random.default_rng(3), **quiet())
    assert isinstance(best, Argmin) and isinstance(best, dict)
    assert best == trials.argmin and json.loads(json.dumps(best)) == dict(best)
    assert best["opt"] == 1 and best.space_values["opt"] == "adam"
    assert best.space_values == space_eval(space, best) == trials.argmin_values
    assert trials.argmin_values["lr"] == best["lr"]
    values = fmin(objective, space, algo=tpe.suggest, max_evals=30, trials=trials, return_argmin=False, **quiet())
    assert values == trials.argmin_values and values["opt"] == "adam"
    import pickle

    assert pickle.loads(pickle.dumps(best)).space_values == best.space_values
    assert pickle.loads(pickle.dumps(trials)).argmin_values == trials.argmin_values


def test_a_hyperopt_trials_object_is_refused_clearly():
    hyperopt = pytest.importorskip("hyperopt")
    with pytest.raises(TypeError, match="sparktune.hyperopt.Trials"):
        fmin(parabola, X_SPACE, max_evals=2, trials=hyperopt.Trials(), **quiet())


def test_annotated_space():
    def objective(x: hp.uniform("x", -1, 1), c: hp.choice("c", [1, 2])):  # noqa: F821 (string labels)
        return (x - 0.3) ** 2 + c

    best = fmin(objective, "annotated", algo=rand.suggest, max_evals=10, **quiet())
    assert set(best) == {"x", "c"}


def test_a_hyperopt_pickle_as_trials_save_file_is_named(tmp_path):
    import pickle

    path = tmp_path / "trials.pkl"
    path.write_bytes(pickle.dumps({"hyperopt": "Trials"}))
    with pytest.raises(OSError, match="trials.pkl.*pickle"):
        fmin(parabola, X_SPACE, max_evals=2, trials_save_file=str(path), **quiet())


def test_max_queue_len_proposes_batches():
    trials = Trials()
    fmin(parabola, X_SPACE, algo=tpe.suggest, max_evals=13, max_queue_len=4, trials=trials,
         rstate=np.random.default_rng(0), **quiet())
    assert len(trials) == 13 and trials.tids == list(range(13))
    with pytest.raises(ValueError, match="max_queue_len"):
        fmin(parabola, X_SPACE, max_evals=2, max_queue_len=0, **quiet())


def test_an_interrupted_trial_is_dropped_and_the_search_can_go_on():
    calls = [0]

    def objective(p):
        calls[0] += 1
        if calls[0] == 4:
            raise KeyboardInterrupt
        return parabola(p)

    trials = Trials()
    with pytest.raises(KeyboardInterrupt):
        fmin(objective, X_SPACE, algo=tpe.suggest, max_evals=10, trials=trials, **quiet())
    assert len(trials) == 3 and trials._dynamic_trials[3]["state"] == sh.JOB_STATE_CANCEL
    fmin(objective, X_SPACE, algo=tpe.suggest, max_evals=10, trials=trials, **quiet())
    assert len(trials) == 10 and trials.statuses() == ["ok"] * 10


def test_trials_fmin_is_fmin_on_those_trials():
    trials = Trials()
    best = trials.fmin(parabola, X_SPACE, algo=rand.suggest, max_evals=4, rstate=np.random.default_rng(0))
    assert len(trials) == 4 and best == trials.argmin


def test_failures_of_every_kind_do_not_poison_tpe():
    """NaN losses, STATUS_FAIL and an objective that raises (caught) are recorded as hyperopt
    records them, and TPE goes on to find the minimum away from the region where they happen."""

    def objective(p):
        x = p["x"]
        if x < -0.6:
            return float("nan")
        if x < -0.3:
            return {"status": STATUS_FAIL, "error": "diverged"}
        if x < 0.0:
            raise ArithmeticError("blew up")
        return (x - 0.3) ** 2

    trials = Trials()
    best = fmin(objective, X_SPACE, algo=tpe.suggest, max_evals=60, trials=trials,
                rstate=np.random.default_rng(5), catch_eval_exceptions=True, **quiet())
    statuses = trials.statuses()
    losses = trials.losses()
    assert "fail" in statuses and any(isinstance(v, float) and math.isnan(v) for v in losses)
    assert trials.errors and all(d["misc"]["error"][0] == str(ArithmeticError) for d in trials.errors)
    # As hyperopt: errored trials are out of `trials` but count in max_evals.
    assert len(trials) + len(trials.errors) == 60
    assert abs(best["x"] - 0.3) < 0.05 and trials.best_trial["result"]["loss"] < 0.0025
    # Once the model knows, proposals avoid the failing region.
    late = [d["misc"]["vals"]["x"][0] for d in trials.trials[-20:]]
    assert sum(x < 0 for x in late) <= 5


def test_a_journal_resumes_with_its_own_seed_whatever_the_rstate(tmp_path):
    path = str(tmp_path / "seeded.journal")
    fmin(parabola, X_SPACE, algo=tpe.suggest, max_evals=5, rstate=np.random.default_rng(1), trials_save_file=path,
         **quiet())
    config = {"space": CompiledSpace(X_SPACE).document, "sampler": sampler_config(tpe.suggest),
              "seed": 12345, "seed_from_store": True, "store": path}
    with _native.NativeStudy(config) as study:
        stored = study.seed
    assert stored is not None and stored != 12345
    # Another rstate: the journal's seed wins, and the search goes on from its 5 trials.
    trials = Trials()
    fmin(parabola, X_SPACE, algo=tpe.suggest, max_evals=8, trials=trials, rstate=np.random.default_rng(99),
         trials_save_file=path, **quiet())
    assert len(trials) == 8
    with _native.NativeStudy(dict(config, seed=7)) as study:
        assert study.seed == stored and study.n_trials == 8
    # Without seed_from_store a different seed is refused, naming the file.
    with pytest.raises(sparktune_errors.InvalidInputError, match="seeded.journal.*seed"):
        _native.NativeStudy({k: v for k, v in config.items() if k != "seed_from_store"})


def test_errors_share_a_base_and_invalid_input_is_a_value_error():
    from sparktune import InvalidInputError, SparktuneError

    for cls in (SearchSpaceError, InvalidInputError):
        assert issubclass(cls, ValueError) and issubclass(cls, SparktuneError)
    with pytest.raises(SearchSpaceError, match="'lr'") as err:
        fmin(parabola, {"lr": hp.loguniform("lr", 0.0, -1.0)}, max_evals=1, **quiet())
    assert isinstance(err.value, ValueError) and isinstance(err.value, SparktuneError)
