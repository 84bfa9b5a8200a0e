//! Samplers: what proposes the next point (random, grid, quasi-random and TPE). The study owns the trials; a sampler sees them through
//! a [`Context`] (the space, the history in columns, the trials, the seed, the new trial's id)
//! and returns a point, or `None` when it has nothing left to propose (an exhausted grid).
//!
//! A sampler must be a function of its context for resuming to work: the study replays a store
//! by recording its trials, not by asking the sampler again, so a sampler that keeps state must
//! be able to rebuild it from the context (as [`RandomSampler`] draws from a per-trial RNG and
//! [`GridSampler`] maps the trial id to a grid index).
//!
//! ```
//! use sparktune_core::sampler::{Context, Sampler};
//! use sparktune_core::{Point, ParamValue, Result};
//!
//! /// Proposes x = trial id, for a space with one label "x".
//! #[derive(Debug)]
//! struct Counting;
//! impl Sampler for Counting {
//!     fn name(&self) -> &'static str { "counting" }
//!     fn sample(&mut self, ctx: &Context<'_>) -> Result<Option<Point>> {
//!         Ok(Some(Point::from_iter([("x".to_owned(), ParamValue::Float(ctx.trial_id as f64))])))
//!     }
//! }
//! ```

mod gauss;
mod grid;
mod qmc;
mod random;
mod tpe;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::history::History;
use crate::space::{Point, Space};
use crate::study::Direction;
use crate::trial::Trial;

pub use grid::GridSampler;
pub use qmc::QmcSampler;
pub use random::RandomSampler;
pub use tpe::{TpeConfig, TpeSampler};

/// What a sampler sees when asked for a point.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The search space.
    pub space: &'a Space,
    /// The trials so far in columns (running ones included, and those asked earlier in the same batch).
    pub history: &'a History,
    /// The trials so far, in id order.
    pub trials: &'a [Trial],
    /// Whether lower or higher values are better.
    pub direction: Direction,
    /// The study's seed.
    pub seed: u64,
    /// The id the proposed trial will get (= the number of trials so far).
    pub trial_id: u64,
}

/// Proposes points. See the module docs for the contract on state.
pub trait Sampler: Send + std::fmt::Debug {
    /// A short name for messages ("random", "grid", ...).
    fn name(&self) -> &'static str;

    /// The point of trial `ctx.trial_id`, or `None` when there is nothing left to propose.
    /// The point must hold exactly the active labels of the space.
    fn sample(&mut self, ctx: &Context<'_>) -> Result<Option<Point>>;

    /// Called after a trial was told (or replayed from a store), for samplers that keep caches.
    fn after_tell(&mut self, _ctx: &Context<'_>, _trial: &Trial) {}
}

/// Which sampler a study uses, as in the study config (`{"kind": "random"}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", from = "WireSamplerConfig")]
#[non_exhaustive]
pub enum SamplerConfig {
    /// [`RandomSampler`]: independent draws from the prior.
    #[default]
    Random,
    /// [`GridSampler`]: the cartesian product of the discrete parameters.
    Grid,
    /// [`QmcSampler`]: a scrambled Sobol sequence through the priors.
    Qmc,
    /// [`TpeSampler`]: the tree-structured Parzen estimator, with its settings.
    Tpe(TpeConfig),
}

/// The config as read: serde ignores unknown keys next to the tag of a unit variant, and
/// `{"kind": "random", "n_trials": 5}` must be refused, so the wire form has struct variants.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum WireSamplerConfig {
    Random {},
    Grid {},
    Qmc {},
    Tpe(TpeConfig),
}

impl From<WireSamplerConfig> for SamplerConfig {
    fn from(wire: WireSamplerConfig) -> Self {
        match wire {
            WireSamplerConfig::Random {} => SamplerConfig::Random,
            WireSamplerConfig::Grid {} => SamplerConfig::Grid,
            WireSamplerConfig::Qmc {} => SamplerConfig::Qmc,
            WireSamplerConfig::Tpe(config) => SamplerConfig::Tpe(config),
        }
    }
}

impl SamplerConfig {
    /// Builds the sampler for `space` (a grid checks here that every parameter is discrete).
    pub fn build(&self, space: &Space) -> Result<Box<dyn Sampler>> {
        Ok(match self {
            SamplerConfig::Random => Box::new(RandomSampler::new()),
            SamplerConfig::Grid => Box::new(GridSampler::new(space)?),
            SamplerConfig::Qmc => Box::new(QmcSampler::new()),
            SamplerConfig::Tpe(config) => Box::new(TpeSampler::new(space, config.clone())?),
        })
    }
}

/// The RNG of trial `trial_id` in a study seeded with `seed`: ChaCha8 keyed by the seed
/// (little-endian in the key's first 8 bytes), on stream `trial_id`. Each trial's draws depend on
/// nothing but (seed, id), so a resumed study proposes what the uninterrupted one would have.
pub fn trial_rng(seed: u64, trial_id: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(trial_id);
    rng
}
