"""hyperopt's API on sparktune's core: switch a notebook by changing its import.

    from sparktune.hyperopt import fmin, tpe, hp, Trials, STATUS_OK

    trials = Trials()
    best = fmin(objective, {"lr": hp.loguniform("lr", -9, 0), "depth": hp.quniform("depth", 2, 12, 1)},
                algo=tpe.suggest, max_evals=100, trials=trials, rstate=np.random.default_rng(0))
    best.space_values          # the best point as the objective received it (choices as options)

The space is validated, the trials proposed (TPE, random, QMC) and recorded by sparktune's Rust
core, loaded into this process (no JVM, no SparkSession); the objective runs here, as in hyperopt.
What sparktune adds: `Argmin.space_values` and `Trials.argmin_values` (the best point's values, not
only its choice indices), `Trials.errors`, `qmc.suggest`, and a `trials_save_file` that is a
durable journal: rerunning the same fmin call resumes the search.
"""

from sparktune.errors import SearchSpaceError
from sparktune.hyperopt import early_stop, exceptions, progress, pyll, qmc, rand, tpe
from sparktune.hyperopt.base import (
    JOB_STATE_CANCEL,
    JOB_STATE_DONE,
    JOB_STATE_ERROR,
    JOB_STATE_NEW,
    JOB_STATE_RUNNING,
    JOB_STATES,
    JOB_VALID_STATES,
    STATUS_FAIL,
    STATUS_NEW,
    STATUS_OK,
    STATUS_RUNNING,
    STATUS_STRINGS,
    STATUS_SUSPENDED,
    Trials,
    trials_from_docs,
)
from sparktune.hyperopt.fmin import (
    Argmin,
    fmin,
    fmin_pass_expr_memo_ctrl,
    generate_trials_to_calculate,
    partial,
    space_eval,
)
from sparktune.hyperopt.spark_trials import SparkTrials
from sparktune.space import hp

__all__ = [
    "Argmin",
    "JOB_STATE_CANCEL",
    "JOB_STATE_DONE",
    "JOB_STATE_ERROR",
    "JOB_STATE_NEW",
    "JOB_STATE_RUNNING",
    "JOB_STATES",
    "JOB_VALID_STATES",
    "STATUS_FAIL",
    "STATUS_NEW",
    "STATUS_OK",
    "STATUS_RUNNING",
    "STATUS_STRINGS",
    "STATUS_SUSPENDED",
    "SearchSpaceError",
    "SparkTrials",
    "Trials",
    "early_stop",
    "exceptions",
    "fmin",
    "fmin_pass_expr_memo_ctrl",
    "generate_trials_to_calculate",
    "hp",
    "partial",
    "progress",
    "pyll",
    "qmc",
    "rand",
    "space_eval",
    "tpe",
    "trials_from_docs",
]
