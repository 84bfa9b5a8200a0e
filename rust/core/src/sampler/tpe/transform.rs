//! The internal coordinates TPE models each kind in, and the way back to a point's value.
//!
//! Log kinds are modelled in log space, quantised uniform kinds on their grid (a kernel's mass is
//! its density over the bucket), normal kinds on the real line with their prior as the prior kernel.
//! `randint` is categorical, as in hyperopt (its docs: nearby integers are no more alike than distant
//! ones), unless it has so many values that a table per kernel would not pay; then it is ordinal.

use super::parzen::Dim;
use crate::space::{quantize, Domain, ParamValue};

/// Above this many values a `randint` is modelled as ordinal integers rather than as categories.
const MAX_CATEGORIES: i64 = 1024;

/// The dimension TPE models `domain` in.
pub(crate) fn dim_of(domain: &Domain) -> Dim {
    match *domain {
        Domain::Uniform { low, high } | Domain::LogUniform { low, high } | Domain::QLogUniform { low, high, .. } => {
            Dim::Continuous { low, high }
        }
        Domain::QUniform { low, high, q } | Domain::UniformInt { low, high, q } => {
            Dim::Stepped { low: quantize(low, q), high: quantize(high, q), step: q }
        }
        Domain::Normal { mu, sigma }
        | Domain::LogNormal { mu, sigma }
        | Domain::QNormal { mu, sigma, .. }
        | Domain::QLogNormal { mu, sigma, .. } => Dim::Unbounded { prior_mu: mu, prior_sigma: sigma },
        Domain::RandInt { low, high } if high - low > MAX_CATEGORIES => {
            Dim::Stepped { low: low as f64, high: (high - 1) as f64, step: 1.0 }
        }
        Domain::RandInt { low, high } => {
            let n = (high - low) as usize;
            Dim::Categorical { prior: vec![1.0 / n as f64; n] }
        }
        Domain::Choice { n } => Dim::Categorical { prior: vec![1.0 / n as f64; n] },
        Domain::PChoice { ref p } => Dim::Categorical { prior: p.clone() },
    }
}

/// A point's raw value (as the history holds it) in internal coordinates.
pub(crate) fn to_internal(domain: &Domain, raw: f64) -> f64 {
    match *domain {
        Domain::LogUniform { low, high } => raw.ln().clamp(low, high),
        // A quantised log value may have rounded down to 0: model it at the bottom of the range.
        Domain::QLogUniform { low, high, .. } => {
            if raw > 0.0 {
                raw.ln().clamp(low, high)
            } else {
                low
            }
        }
        Domain::LogNormal { .. } => raw.ln(),
        Domain::QLogNormal { mu, sigma, q } => {
            if raw > 0.0 {
                raw.ln()
            } else {
                (q / 2.0).ln().min(mu - 3.0 * sigma)
            }
        }
        Domain::RandInt { low, high } if high - low <= MAX_CATEGORIES => raw - low as f64,
        _ => raw,
    }
}

/// The value a point holds for internal coordinate `x`.
pub(crate) fn from_internal(domain: &Domain, x: f64) -> ParamValue {
    match *domain {
        Domain::Uniform { .. } | Domain::Normal { .. } | Domain::QUniform { .. } => ParamValue::Float(x),
        Domain::LogUniform { .. } | Domain::LogNormal { .. } => ParamValue::Float(x.exp()),
        Domain::QLogUniform { q, .. } | Domain::QLogNormal { q, .. } => ParamValue::Float(quantize(x.exp(), q)),
        Domain::QNormal { q, .. } => ParamValue::Float(quantize(x, q)),
        // Python's int() truncates toward zero, as the prior's uniformint does.
        Domain::UniformInt { .. } => ParamValue::Int(x as i64),
        Domain::RandInt { low, high } if high - low > MAX_CATEGORIES => ParamValue::Int(x as i64),
        Domain::RandInt { low, .. } => ParamValue::Int(low + x as i64),
        Domain::Choice { .. } | Domain::PChoice { .. } => ParamValue::Int(x as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_internal_coordinates() {
        let cases = [
            (Domain::Uniform { low: -1.0, high: 1.0 }, 0.25),
            (Domain::LogUniform { low: -5.0, high: 0.0 }, 0.01),
            (Domain::QUniform { low: 0.0, high: 10.0, q: 0.5 }, 3.5),
            (Domain::QLogUniform { low: 1.0, high: 5.0, q: 1.0 }, 12.0),
            (Domain::Normal { mu: 0.0, sigma: 1.0 }, -0.3),
            (Domain::LogNormal { mu: 0.0, sigma: 1.0 }, 2.5),
            (Domain::QNormal { mu: 0.0, sigma: 3.0, q: 1.0 }, -4.0),
            (Domain::QLogNormal { mu: 2.0, sigma: 1.0, q: 1.0 }, 7.0),
            (Domain::RandInt { low: 3, high: 9 }, 5.0),
            (Domain::RandInt { low: 0, high: 100_000 }, 4242.0),
            (Domain::UniformInt { low: 2.0, high: 16.0, q: 1.0 }, 11.0),
            (Domain::Choice { n: 4 }, 2.0),
            (Domain::PChoice { p: vec![0.5, 0.5] }, 1.0),
        ];
        for (domain, raw) in cases {
            let back = from_internal(&domain, to_internal(&domain, raw)).as_f64();
            assert!((back - raw).abs() < 1e-9 * raw.abs().max(1.0), "{domain:?}: {raw} -> {back}");
        }
    }

    #[test]
    fn a_zero_from_a_quantised_log_kind_stays_finite() {
        let d = Domain::QLogUniform { low: -3.0, high: 2.0, q: 1.0 };
        assert_eq!(to_internal(&d, 0.0), -3.0);
        let d = Domain::QLogNormal { mu: 0.0, sigma: 1.0, q: 1.0 };
        assert!(to_internal(&d, 0.0).is_finite());
    }
}
