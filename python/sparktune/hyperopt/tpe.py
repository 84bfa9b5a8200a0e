"""Tree-structured Parzen Estimator: ``fmin(..., algo=tpe.suggest)``.

The core's TPE (optuna's structure: multivariate groups for conditional spaces, constant liar,
quasi-random startup) proposes the trials. Settings go through ``functools.partial`` under
hyperopt's names, mapped onto the core's::

    algo = functools.partial(tpe.suggest, n_startup_jobs=20, n_EI_candidates=48, gamma=0.25, prior_weight=1.0)

n_startup_jobs -> n_startup_trials, n_EI_candidates -> n_ei_candidates, gamma, prior_weight; the
core's own names (n_startup_trials, n_ei_candidates, max_below, multivariate, constant_liar,
local_fraction, branch_exploration) are accepted too. A setting left out takes the core's default
(8 startup trials, 48 candidates, half of them drawn around the best trial (local_fraction 0.5),
gamma 0.15, max_below 25, multivariate and constant liar on, prior weight 1, and a choice with
parameters under it takes a random option in 30% of proposals (branch_exploration 0.3)), not
hyperopt's.
Note on gamma: the core's "below" group is the best ceil(gamma * n) trials (optuna's rule), where
hyperopt's is ceil(gamma * sqrt(n)).
"""

from sparktune.hyperopt._algo import not_called, sampler


@sampler("tpe")
def suggest(new_ids=None, domain=None, trials=None, seed=None, prior_weight=None, n_startup_jobs=None,
            n_EI_candidates=None, gamma=None, verbose=True):
    """Names the core's TPE sampler for fmin (see the module docs); never called."""
    raise not_called("tpe")
