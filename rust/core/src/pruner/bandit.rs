//! The bandit policy (HyperDrive's BanditPolicy): a trial not within a slack of the best value
//! reported at its step is stopped. The slack is a factor (best / (1 + slack_factor) when
//! maximizing, best * (1 + slack_factor) when minimizing) or an amount (best -/+ slack_amount).

use serde::{Deserialize, Serialize};

use super::{fmt, Decision, Pruner, Report, Warmup};
use crate::error::{Error, Result};
use crate::study::Direction;

/// Stops a trial outside the slack of the best at its step. Exactly one slack is given.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanditPolicy {
    /// The slack as a ratio to the best (> 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_factor: Option<f64>,
    /// The slack as an absolute difference to the best (>= 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_amount: Option<f64>,
    /// The first step at which trials may be stopped (>= 1; HyperDrive's delay_evaluation).
    #[serde(default = "super::one")]
    pub min_step: usize,
    /// How many other trials must have reported the step first (>= 1).
    #[serde(default = "super::three")]
    pub min_trials: usize,
}

impl BanditPolicy {
    fn warmup(&self) -> Warmup {
        Warmup { min_step: self.min_step, min_trials: self.min_trials }
    }

    pub(super) fn check(&self) -> Result<()> {
        match (self.slack_factor, self.slack_amount) {
            (Some(f), None) if f > 0.0 && f.is_finite() => {}
            (None, Some(a)) if a >= 0.0 && a.is_finite() => {}
            (f, a) => {
                return Err(Error::InvalidArgument(format!(
                    "pruner bandit: give exactly one of slack_factor (> 0) and slack_amount (>= 0), got {f:?} and {a:?}"
                )))
            }
        }
        self.warmup().check("bandit")
    }

    /// The worst value still within the slack of `best`.
    fn threshold(&self, direction: Direction, best: f64) -> f64 {
        match (direction, self.slack_factor, self.slack_amount) {
            (Direction::Maximize, Some(f), _) => best / (1.0 + f),
            (Direction::Minimize, Some(f), _) => best * (1.0 + f),
            (Direction::Maximize, None, a) => best - a.unwrap_or(0.0),
            (Direction::Minimize, None, a) => best + a.unwrap_or(0.0),
        }
    }
}

impl Pruner for BanditPolicy {
    fn decide(&self, report: &Report<'_>) -> Decision {
        let Some(others) = self.warmup().others(report) else { return Decision::go_on() };
        let direction = report.direction;
        let best = others.iter().copied().fold(others[0], |b, o| if direction.is_better(o, b) { o } else { b });
        let threshold = self.threshold(direction, best);
        if direction.is_better(threshold, report.value) {
            Decision::stop(format!(
                "pruned at step {}: {} is outside the slack of the best {} (threshold {})",
                report.step,
                fmt(report.value),
                fmt(best),
                fmt(threshold)
            ))
        } else {
            Decision::go_on()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(factor: Option<f64>, amount: Option<f64>) -> BanditPolicy {
        BanditPolicy { slack_factor: factor, slack_amount: amount, min_step: 1, min_trials: 1 }
    }

    #[test]
    fn outside_the_slack_is_stopped() {
        let others = [0.8, 0.9];
        let by_factor = policy(Some(0.1), None);
        let r = |direction, value| Report { direction, step: 1, value, others: &others };
        // 0.9 / 1.1 = 0.818...
        assert!(by_factor.decide(&r(Direction::Maximize, 0.81)).prune);
        assert!(!by_factor.decide(&r(Direction::Maximize, 0.82)).prune);
        // Minimizing: best 0.8, threshold 0.88.
        assert!(by_factor.decide(&r(Direction::Minimize, 0.89)).prune);
        assert!(!by_factor.decide(&r(Direction::Minimize, 0.87)).prune);
        let by_amount = policy(None, Some(0.05));
        assert!(by_amount.decide(&r(Direction::Maximize, 0.84)).prune);
        assert!(!by_amount.decide(&r(Direction::Maximize, 0.86)).prune);
    }

    #[test]
    fn exactly_one_slack_is_required() {
        assert!(policy(None, None).check().is_err());
        assert!(policy(Some(0.1), Some(0.1)).check().is_err());
        assert!(policy(Some(0.0), None).check().is_err());
        assert!(policy(None, Some(0.0)).check().is_ok());
    }
}
