//! Early termination of unpromising trials (HyperDrive's three policies), decided from intermediate
//! values: a trial reports its value at step `k` (in cross validation, its mean over folds `0..k`)
//! and is compared with the values other trials reported at the same step, so that like is
//! compared with like (the same folds). The caller keeps the reports; a pruner is a pure rule.
//!
//! - [`MedianStopping`]: stop when worse than the median of the others at that step.
//! - [`TruncationSelection`]: stop when among the worst `truncation_percentage` % at that step.
//! - [`BanditPolicy`]: stop when not within a slack of the best at that step.
//!
//! ```
//! use sparktune_core::pruner::{PrunerConfig, Report};
//! use sparktune_core::Direction;
//! let pruner = PrunerConfig::from_json(r#"{"kind": "median", "min_trials": 2}"#)?;
//! let report = Report { direction: Direction::Maximize, step: 1, value: 0.70, others: &[0.90, 0.92, 0.88] };
//! assert!(pruner.decide(&report).prune);
//! # Ok::<(), sparktune_core::Error>(())
//! ```

mod bandit;
mod median;
mod truncation;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::study::Direction;

pub use bandit::BanditPolicy;
pub use median::MedianStopping;
pub use truncation::TruncationSelection;

/// One intermediate value of a trial, and what the other trials reported at the same step.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    /// Whether lower or higher values are better.
    pub direction: Direction,
    /// The step (1 = after the first fold).
    pub step: usize,
    /// The trial's value at this step.
    pub value: f64,
    /// The other trials' values at this step (finite numbers; others are ignored).
    pub others: &'a [f64],
}

/// A pruner's answer: whether to stop the trial, and why in words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// Stop the trial.
    pub prune: bool,
    /// Why it is stopped (None when it goes on).
    pub reason: Option<String>,
}

impl Decision {
    fn go_on() -> Decision {
        Decision { prune: false, reason: None }
    }

    fn stop(reason: String) -> Decision {
        Decision { prune: true, reason: Some(reason) }
    }
}

/// A rule that stops unpromising trials.
pub trait Pruner {
    /// The decision for one report.
    fn decide(&self, report: &Report<'_>) -> Decision;
}

/// When a policy starts deciding, shared by the three: not before step `min_step` (HyperDrive's
/// delay_evaluation), nor before `min_trials` other trials reached that step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Warmup {
    /// The first step at which trials may be stopped (>= 1).
    pub min_step: usize,
    /// How many other trials must have reported the step first (>= 1).
    pub min_trials: usize,
}

pub(super) fn one() -> usize {
    1
}

pub(super) fn three() -> usize {
    3
}

impl Default for Warmup {
    fn default() -> Self {
        Warmup { min_step: 1, min_trials: 3 }
    }
}

impl Warmup {
    /// The finite values of the others, when the report is past the warm-up.
    fn others(&self, report: &Report<'_>) -> Option<Vec<f64>> {
        if report.step < self.min_step || !report.value.is_finite() {
            return None;
        }
        let others: Vec<f64> = report.others.iter().copied().filter(|v| v.is_finite()).collect();
        (others.len() >= self.min_trials).then_some(others)
    }

    fn check(&self, kind: &str) -> Result<()> {
        if self.min_step == 0 || self.min_trials == 0 {
            return Err(Error::InvalidArgument(format!(
                "pruner {kind}: min_step and min_trials must be >= 1, got {} and {}",
                self.min_step, self.min_trials
            )));
        }
        Ok(())
    }
}

/// Which pruner, as callers write it: `{"kind": "median" | "truncation" | "bandit", ...settings}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
#[non_exhaustive]
pub enum PrunerConfig {
    /// [`MedianStopping`].
    Median(MedianStopping),
    /// [`TruncationSelection`].
    Truncation(TruncationSelection),
    /// [`BanditPolicy`].
    Bandit(BanditPolicy),
}

impl PrunerConfig {
    /// Reads and checks a config; a bad setting is an error naming it.
    pub fn from_json(s: &str) -> Result<PrunerConfig> {
        let config: PrunerConfig = serde_json::from_str(s).map_err(|e| Error::json("pruner config", &e))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        match self {
            PrunerConfig::Median(p) => p.check(),
            PrunerConfig::Truncation(p) => p.check(),
            PrunerConfig::Bandit(p) => p.check(),
        }
    }

    /// The decision on a report given as JSON:
    /// `{"direction": "maximize", "step": 1, "value": 0.8, "others": [0.9, ...]}`.
    pub fn decide_json(&self, report_json: &str) -> Result<Decision> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            direction: Direction,
            step: usize,
            value: f64,
            others: Vec<f64>,
        }
        let w: Wire = serde_json::from_str(report_json).map_err(|e| Error::json("pruner report", &e))?;
        Ok(self.decide(&Report { direction: w.direction, step: w.step, value: w.value, others: &w.others }))
    }

    /// The pruner's decision.
    pub fn decide(&self, report: &Report<'_>) -> Decision {
        match self {
            PrunerConfig::Median(p) => p.decide(report),
            PrunerConfig::Truncation(p) => p.decide(report),
            PrunerConfig::Bandit(p) => p.decide(report),
        }
    }
}

/// Formats a metric for reasons: six significant digits.
fn fmt(v: f64) -> String {
    format!("{}", (v * 1e6).round() / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_are_read_and_checked_by_name() -> Result<()> {
        assert!(matches!(PrunerConfig::from_json(r#"{"kind": "median"}"#)?, PrunerConfig::Median(_)));
        let bad = PrunerConfig::from_json(r#"{"kind": "median", "min_step": 0}"#);
        assert!(bad.err().is_some_and(|e| e.to_string().contains("min_step")));
        let unknown = PrunerConfig::from_json(r#"{"kind": "hyperband"}"#);
        assert!(unknown.err().is_some_and(|e| e.to_string().contains("hyperband")));
        let typo = PrunerConfig::from_json(r#"{"kind": "median", "min_trails": 2}"#);
        assert!(typo.err().is_some_and(|e| e.to_string().contains("min_trails")));
        Ok(())
    }

    #[test]
    fn warmup_waits_for_the_step_and_the_trials() {
        let w = Warmup { min_step: 2, min_trials: 2 };
        let r = |step, others: &'static [f64]| Report { direction: Direction::Minimize, step, value: 1.0, others };
        assert!(w.others(&r(1, &[0.0, 0.0, 0.0])).is_none());
        assert!(w.others(&r(2, &[0.0, f64::NAN])).is_none());
        assert_eq!(w.others(&r(2, &[0.0, 0.5])), Some(vec![0.0, 0.5]));
    }
}
