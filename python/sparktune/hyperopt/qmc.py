"""Quasi-random search (sparktune's own, not in hyperopt): ``fmin(..., algo=qmc.suggest)``.

A scrambled Sobol sequence mapped through the priors: it covers the space more evenly than
independent draws for the same budget, and needs no model."""

from sparktune.hyperopt._algo import not_called, sampler


@sampler("qmc")
def suggest(new_ids=None, domain=None, trials=None, seed=None):
    """Names the core's quasi-random sampler for fmin; never called."""
    raise not_called("qmc")
