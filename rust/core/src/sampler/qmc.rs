//! Quasi-random search: an Owen-scrambled Sobol sequence (the `sobol_burley` crate) mapped through
//! each parameter's prior. Its points cover the space more evenly than independent draws, which is
//! what a small budget, or TPE's startup trials, needs.

use super::gauss::ndtri;
use super::{trial_rng, Context, Sampler};
use crate::error::Result;
use crate::space::{quantize, Domain, ParamValue, Point, Space};

/// `sobol_burley` offers 256 dimensions and 2^16 points per seed; past those, independent draws.
const MAX_DIMENSIONS: usize = 256;
const MAX_INDEX: u64 = 1 << 16;

/// Trial `i` is point `i` of a Sobol sequence scrambled by the study's seed, one dimension per
/// parameter (conditional ones included, used only when active).
#[derive(Clone, Copy, Debug, Default)]
pub struct QmcSampler;

impl QmcSampler {
    /// The quasi-random sampler.
    pub fn new() -> QmcSampler {
        QmcSampler
    }
}

impl Sampler for QmcSampler {
    fn name(&self) -> &'static str {
        "qmc"
    }

    fn sample(&mut self, ctx: &Context<'_>) -> Result<Option<Point>> {
        Ok(Some(qmc_point(ctx.space, ctx.seed, ctx.trial_id)))
    }
}

/// Point `index` of the scrambled sequence of `seed`, each active parameter through its prior.
pub(crate) fn qmc_point(space: &Space, seed: u64, index: u64) -> Point {
    let scramble = (seed ^ (seed >> 32)) as u32;
    let mut fallback = trial_rng(seed, index);
    let mut chosen: Vec<Option<f64>> = vec![None; space.params().len()];
    let mut point = Point::new();
    for (d, param) in space.params().iter().enumerate() {
        let active = param.condition.is_none_or(|c| chosen[c.parent] == Some(c.option as f64));
        if !active {
            continue;
        }
        let u = if d < MAX_DIMENSIONS && index < MAX_INDEX {
            f64::from(sobol_burley::sample(index as u32, d as u32, scramble))
        } else {
            crate::space::uniform01(&mut fallback)
        };
        let value = from_unit(&param.domain, u);
        chosen[d] = Some(value.as_f64());
        point.insert(param.label.clone(), value);
    }
    point
}

/// The value at quantile `u` in [0, 1) of `domain`'s prior.
pub(crate) fn from_unit(domain: &Domain, u: f64) -> ParamValue {
    let lerp = |low: f64, high: f64| low + (high - low) * u;
    // Keep the normal quantile finite at u = 0.
    let z = || ndtri(u.max(f64::MIN_POSITIVE));
    match *domain {
        Domain::Uniform { low, high } => ParamValue::Float(lerp(low, high)),
        Domain::LogUniform { low, high } => ParamValue::Float(lerp(low, high).exp()),
        Domain::QUniform { low, high, q } => ParamValue::Float(quantize(lerp(low, high), q)),
        Domain::QLogUniform { low, high, q } => ParamValue::Float(quantize(lerp(low, high).exp(), q)),
        Domain::Normal { mu, sigma } => ParamValue::Float(mu + sigma * z()),
        Domain::LogNormal { mu, sigma } => ParamValue::Float((mu + sigma * z()).exp()),
        Domain::QNormal { mu, sigma, q } => ParamValue::Float(quantize(mu + sigma * z(), q)),
        Domain::QLogNormal { mu, sigma, q } => ParamValue::Float(quantize((mu + sigma * z()).exp(), q)),
        Domain::RandInt { low, high } => {
            let span = (high - low) as f64;
            ParamValue::Int(low + ((u * span) as i64).min(high - low - 1))
        }
        Domain::UniformInt { low, high, q } => ParamValue::Int(quantize(lerp(low, high), q) as i64),
        Domain::Choice { n } => ParamValue::Int(((u * n as f64) as usize).min(n - 1) as i64),
        Domain::PChoice { ref p } => {
            let mut acc = 0.0;
            let last = p.iter().rposition(|x| *x > 0.0).unwrap_or(0);
            let i = p
                .iter()
                .position(|x| {
                    acc += x;
                    *x > 0.0 && u < acc
                })
                .unwrap_or(last);
            ParamValue::Int(i as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(json: &str) -> Space {
        Space::from_json(json).expect("valid space")
    }

    #[test]
    fn points_cover_the_unit_square_evenly() {
        let s = space(
            r#"{"sparktune_space": 1, "root": {"dict": {
                "x": {"hp": "uniform", "label": "x", "low": 0, "high": 1},
                "y": {"hp": "uniform", "label": "y", "low": 0, "high": 1}}}}"#,
        );
        // 64 Sobol points put exactly one point in each cell of an 8 x 8 grid.
        let mut cells = [[0u32; 8]; 8];
        for i in 0..64 {
            let p = qmc_point(&s, 7, i);
            let (x, y) = (p.get("x").map_or(-1.0, |v| v.as_f64()), p.get("y").map_or(-1.0, |v| v.as_f64()));
            cells[(x * 8.0) as usize][(y * 8.0) as usize] += 1;
        }
        assert!(cells.iter().flatten().all(|&c| c == 1), "{cells:?}");
    }

    #[test]
    fn conditional_parameters_appear_only_under_their_option() {
        let s = space(
            r#"{"sparktune_space": 1, "root": {"hp": "choice", "label": "m", "options": [
                {"dict": {"a": {"hp": "uniform", "label": "a", "low": 0, "high": 1}}},
                {"dict": {"b": {"hp": "randint", "label": "b", "low": 0, "high": 5}}}]}}"#,
        );
        for i in 0..50 {
            let p = qmc_point(&s, 1, i);
            let m = p.get("m").and_then(|v| v.as_i64());
            assert_eq!(p.get("a").is_some(), m == Some(0));
            assert_eq!(p.get("b").is_some(), m == Some(1));
        }
    }

    #[test]
    fn quantiles_map_through_each_prior() {
        assert_eq!(from_unit(&Domain::Choice { n: 3 }, 0.999).as_i64(), Some(2));
        assert_eq!(from_unit(&Domain::PChoice { p: vec![0.2, 0.0, 0.8] }, 0.1).as_i64(), Some(0));
        assert_eq!(from_unit(&Domain::PChoice { p: vec![0.2, 0.0, 0.8] }, 0.5).as_i64(), Some(2));
        assert_eq!(from_unit(&Domain::RandInt { low: -2, high: 2 }, 0.0).as_i64(), Some(-2));
        let median = from_unit(&Domain::Normal { mu: 3.0, sigma: 2.0 }, 0.5).as_f64();
        assert!((median - 3.0).abs() < 1e-12);
        assert!(from_unit(&Domain::Normal { mu: 0.0, sigma: 1.0 }, 0.0).as_f64().is_finite());
    }
}
