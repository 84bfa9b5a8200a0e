//! Random search: every trial an independent draw from the prior.

use super::{trial_rng, Context, Sampler};
use crate::error::Result;
use crate::space::{sample_prior, Point};

/// Draws each trial from the space's prior with the RNG of [`trial_rng`]`(seed, trial id)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomSampler;

impl RandomSampler {
    /// The random sampler.
    pub fn new() -> RandomSampler {
        RandomSampler
    }
}

impl Sampler for RandomSampler {
    fn name(&self) -> &'static str {
        "random"
    }

    fn sample(&mut self, ctx: &Context<'_>) -> Result<Option<Point>> {
        Ok(Some(sample_prior(ctx.space, &mut trial_rng(ctx.seed, ctx.trial_id))))
    }
}
