"""Random search: ``fmin(..., algo=rand.suggest)``: independent draws from the priors, each trial
from an RNG seeded by (the study's seed, the trial's id), so the same seed gives the same trials."""

from sparktune.hyperopt._algo import not_called, sampler


@sampler("random")
def suggest(new_ids=None, domain=None, trials=None, seed=None):
    """Names the core's random sampler for fmin; never called."""
    raise not_called("rand")
