"""What `algo=` means to sparktune: the core's sampler config.

hyperopt's ``algo`` is a function that proposes trials in Python; sparktune's samplers run in the
core, so ``tpe.suggest``, ``rand.suggest`` and ``qmc.suggest`` are names that `fmin` recognises
(also wrapped in ``functools.partial`` with their settings), never called. hyperopt's own
``hyperopt.tpe.suggest`` and ``hyperopt.rand.suggest`` are recognised too, so a notebook that
switched only the ``fmin`` import still runs.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, Tuple

# hyperopt's TPE setting -> the core's. gamma keeps its name, but not quite its meaning: the core
# puts the best ceil(gamma * n) trials in the "below" group (optuna's rule, capped by max_below)
# where hyperopt takes ceil(gamma * sqrt(n)).
_TPE_NAMES = {
    "n_startup_jobs": "n_startup_trials",
    "n_EI_candidates": "n_ei_candidates",
    "gamma": "gamma",
    "prior_weight": "prior_weight",
    # The core's own names, for users who want them.
    "n_startup_trials": "n_startup_trials",
    "n_ei_candidates": "n_ei_candidates",
    "max_below": "max_below",
    "multivariate": "multivariate",
    "constant_liar": "constant_liar",
    "local_fraction": "local_fraction",
    "branch_exploration": "branch_exploration",
}
_IGNORED = {"verbose"}  # hyperopt's logging switch: nothing to switch here


class NotCalledHere(TypeError):
    """A sparktune suggest function was called: it only names a sampler for fmin."""


def not_called(name: str) -> NotCalledHere:
    return NotCalledHere(
        f"sparktune.hyperopt.{name}.suggest is not called: the core proposes the trials. "
        f"Pass it to fmin as algo={name}.suggest (or functools.partial({name}.suggest, ...))"
    )


def _unwrap(algo: Any) -> Tuple[Callable, Dict[str, Any]]:
    keywords: Dict[str, Any] = {}
    while isinstance(algo, functools.partial):
        if algo.args:
            raise TypeError(
                f"algo: functools.partial({getattr(algo.func, '__name__', algo.func)!r}, ...) with positional "
                "arguments is not understood; give the settings as keywords"
            )
        keywords = {**algo.keywords, **keywords}
        algo = algo.func
    return algo, keywords


def sampler_config(algo: Any) -> Dict[str, Any]:
    """The core's sampler config for fmin's `algo` (see the module docs); TypeError or ValueError
    naming what is not understood."""
    func, keywords = _unwrap(algo)
    module = getattr(func, "__module__", "") or ""
    name = getattr(func, "__name__", "")
    kind = getattr(func, "_sparktune_sampler", None)
    if kind is None and module.startswith("hyperopt.") and name == "suggest":
        kind = {"hyperopt.tpe": "tpe", "hyperopt.rand": "random"}.get(module)
        if kind is None:
            raise ValueError(
                f"algo={module}.suggest has no sparktune counterpart; use tpe.suggest, rand.suggest "
                "or qmc.suggest from sparktune.hyperopt"
            )
    if kind is None:
        raise TypeError(
            f"algo={algo!r} is not a sampler sparktune knows: pass tpe.suggest, rand.suggest or qmc.suggest "
            "from sparktune.hyperopt, possibly wrapped in functools.partial with their settings"
        )
    if kind != "tpe":
        unknown = sorted(set(keywords) - _IGNORED)
        if unknown:
            raise TypeError(f"algo: {kind} sampling takes no settings, got {', '.join(unknown)}")
        return {"kind": kind}
    config: Dict[str, Any] = {"kind": "tpe"}
    for key, value in keywords.items():
        if key in _IGNORED or value is None:  # None: the core's default
            continue
        core_key = _TPE_NAMES.get(key)
        if core_key is None:
            known = ", ".join(k for k in _TPE_NAMES)
            raise TypeError(f"algo: tpe.suggest got an unexpected setting {key!r} (known: {known}, verbose)")
        if core_key in config and config[core_key] != value:
            raise TypeError(f"algo: tpe setting {core_key!r} given twice, under two names")
        config[core_key] = _plain(value)
    return config


def _plain(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    return tolist() if tolist is not None and not isinstance(value, (list, tuple)) else value


def sampler(kind: str) -> Callable[[Callable], Callable]:
    """Marks a module's `suggest` as naming the core's sampler `kind`."""

    def mark(func: Callable) -> Callable:
        func._sparktune_sampler = kind
        return func

    return mark
