//! Truncation selection (HyperDrive's TruncationSelectionPolicy): at each step, the trials among the
//! worst `truncation_percentage` % of all values reported at that step (this one included) are stopped.

use serde::{Deserialize, Serialize};

use super::{fmt, Decision, Pruner, Report, Warmup};
use crate::error::{Error, Result};

/// Stops a trial in the worst `truncation_percentage` % at its step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TruncationSelection {
    /// The share of trials stopped at each step, in percent (1 to 99).
    pub truncation_percentage: f64,
    /// The first step at which trials may be stopped (>= 1; HyperDrive's delay_evaluation).
    #[serde(default = "super::one")]
    pub min_step: usize,
    /// How many other trials must have reported the step first (>= 1).
    #[serde(default = "super::three")]
    pub min_trials: usize,
}

impl TruncationSelection {
    fn warmup(&self) -> Warmup {
        Warmup { min_step: self.min_step, min_trials: self.min_trials }
    }

    pub(super) fn check(&self) -> Result<()> {
        if !(self.truncation_percentage >= 1.0 && self.truncation_percentage <= 99.0) {
            return Err(Error::InvalidArgument(format!(
                "pruner truncation: truncation_percentage must be in [1, 99], got {}",
                self.truncation_percentage
            )));
        }
        self.warmup().check("truncation")
    }
}

impl Pruner for TruncationSelection {
    fn decide(&self, report: &Report<'_>) -> Decision {
        let Some(others) = self.warmup().others(report) else { return Decision::go_on() };
        let n = others.len() + 1;
        // How many of the n values are cut; this one is cut when fewer than that are worse than it.
        let cut = (n as f64 * self.truncation_percentage / 100.0).floor() as usize;
        let worse = others.iter().filter(|&&o| report.direction.is_better(report.value, o)).count();
        if worse < cut {
            Decision::stop(format!(
                "pruned at step {}: {} is among the worst {}% of {n} trials",
                report.step,
                fmt(report.value),
                self.truncation_percentage
            ))
        } else {
            Decision::go_on()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::Direction;

    fn policy(pct: f64) -> TruncationSelection {
        TruncationSelection { truncation_percentage: pct, min_step: 1, min_trials: 1 }
    }

    #[test]
    fn the_worst_share_is_stopped() {
        let others = [0.9, 0.8, 0.7];
        let d = |v| policy(50.0).decide(&Report { direction: Direction::Maximize, step: 1, value: v, others: &others });
        // Four values, two cut: the trial is cut when at most one other is worse.
        assert!(d(0.6).prune);
        assert!(d(0.75).prune);
        assert!(!d(0.85).prune);
        let low =
            |v| policy(25.0).decide(&Report { direction: Direction::Minimize, step: 1, value: v, others: &others });
        assert!(low(0.95).prune);
        assert!(!low(0.85).prune);
    }

    #[test]
    fn a_percentage_out_of_range_is_refused() {
        assert!(policy(0.0).check().is_err());
        assert!(policy(f64::NAN).check().is_err());
        assert!(policy(20.0).check().is_ok());
    }
}
