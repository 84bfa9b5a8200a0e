//! Median stopping (HyperDrive's MedianStoppingPolicy, optuna's MedianPruner): a trial whose value
//! at a step is worse than the median of the other trials' values at that step is stopped.

use serde::{Deserialize, Serialize};

use super::{fmt, Decision, Pruner, Report, Warmup};
use crate::error::Result;

/// Stops a trial worse than the median of the others at the same step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MedianStopping {
    /// The first step at which trials may be stopped (>= 1; HyperDrive's delay_evaluation).
    #[serde(default = "super::one")]
    pub min_step: usize,
    /// How many other trials must have reported the step first (>= 1).
    #[serde(default = "super::three")]
    pub min_trials: usize,
}

impl MedianStopping {
    fn warmup(&self) -> Warmup {
        Warmup { min_step: self.min_step, min_trials: self.min_trials }
    }

    pub(super) fn check(&self) -> Result<()> {
        self.warmup().check("median")
    }
}

impl Default for MedianStopping {
    fn default() -> Self {
        let w = Warmup::default();
        MedianStopping { min_step: w.min_step, min_trials: w.min_trials }
    }
}

/// The median of a non-empty slice (the mean of the middle two for an even length).
pub(super) fn median(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

impl Pruner for MedianStopping {
    fn decide(&self, report: &Report<'_>) -> Decision {
        let Some(mut others) = self.warmup().others(report) else { return Decision::go_on() };
        let n = others.len();
        let m = median(&mut others);
        if report.direction.is_better(m, report.value) {
            Decision::stop(format!(
                "pruned at step {}: {} is worse than the median {} of {n} other trials",
                report.step,
                fmt(report.value),
                fmt(m)
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

    fn decide(direction: Direction, value: f64, others: &[f64]) -> bool {
        let p = MedianStopping { min_step: 1, min_trials: 3 };
        p.decide(&Report { direction, step: 1, value, others }).prune
    }

    #[test]
    fn worse_than_the_median_is_stopped_in_either_direction() {
        assert!(decide(Direction::Maximize, 0.80, &[0.90, 0.85, 0.95]));
        assert!(!decide(Direction::Maximize, 0.90, &[0.90, 0.85, 0.95]), "equal to the median goes on");
        assert!(!decide(Direction::Maximize, 0.97, &[0.90, 0.85, 0.95]));
        assert!(decide(Direction::Minimize, 0.5, &[0.1, 0.2, 0.3, 0.4]));
        assert!(!decide(Direction::Minimize, 0.25, &[0.1, 0.2, 0.3, 0.4]), "0.25 is the even median");
    }

    #[test]
    fn too_few_others_or_a_non_finite_value_go_on() {
        assert!(!decide(Direction::Maximize, 0.1, &[0.9, 0.9]));
        assert!(!decide(Direction::Maximize, 0.1, &[0.9, 0.9, f64::NAN]));
        assert!(!decide(Direction::Maximize, f64::NAN, &[0.9, 0.9, 0.9]));
    }

    #[test]
    fn the_reason_names_the_step_and_the_median() {
        let p = MedianStopping::default();
        let d = p.decide(&Report { direction: Direction::Maximize, step: 2, value: 0.5, others: &[0.9, 0.8, 0.7] });
        assert_eq!(d.reason.as_deref(), Some("pruned at step 2: 0.5 is worse than the median 0.8 of 3 other trials"));
    }
}
