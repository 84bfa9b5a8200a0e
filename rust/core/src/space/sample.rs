//! Draws from the prior of each kind (the semantics are in the module docs of [`crate::space`]).
//!
//! The transforms from random bits are written here rather than taken from `rand_distr`, so that
//! a seed gives the same trials whatever version of the distribution crates is in the lock file:
//! a uniform is the top 53 bits of one `u64`, a normal is Box-Muller over two uniforms, an integer
//! below n is Lemire's multiply-and-reject.

use rand_chacha::rand_core::RngCore;

use super::{Domain, Node, ParamValue, Point, Space};

/// A uniform draw in `[0, 1)` from the top 53 bits of one `u64`.
pub fn uniform01<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal draw (Box-Muller: two uniforms, the cosine branch).
pub fn standard_normal<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    // 1 - u is in (0, 1], so the log is finite.
    let u1 = 1.0 - uniform01(rng);
    let u2 = uniform01(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// An integer uniform in `[0, n)` without modulo bias (Lemire's method); 0 when `n` is 0.
pub fn uniform_below<R: RngCore + ?Sized>(rng: &mut R, n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    // Reject the low products that would make some results more likely than others.
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

/// numpy's `np.round(x / q) * q`: halves round to even.
pub fn quantize(x: f64, q: f64) -> f64 {
    (x / q).round_ties_even() * q
}

impl Domain {
    /// One draw from this domain's prior. For a pchoice whose probabilities sum to a hair under 1,
    /// the leftover goes to the last option with non-zero probability.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> ParamValue {
        let uniform = |rng: &mut R, low: f64, high: f64| low + (high - low) * uniform01(rng);
        let normal = |rng: &mut R, mu: f64, sigma: f64| mu + sigma * standard_normal(rng);
        match *self {
            Domain::Uniform { low, high } => ParamValue::Float(uniform(rng, low, high)),
            Domain::LogUniform { low, high } => ParamValue::Float(uniform(rng, low, high).exp()),
            Domain::QUniform { low, high, q } => ParamValue::Float(quantize(uniform(rng, low, high), q)),
            Domain::QLogUniform { low, high, q } => ParamValue::Float(quantize(uniform(rng, low, high).exp(), q)),
            Domain::Normal { mu, sigma } => ParamValue::Float(normal(rng, mu, sigma)),
            Domain::LogNormal { mu, sigma } => ParamValue::Float(normal(rng, mu, sigma).exp()),
            Domain::QNormal { mu, sigma, q } => ParamValue::Float(quantize(normal(rng, mu, sigma), q)),
            Domain::QLogNormal { mu, sigma, q } => ParamValue::Float(quantize(normal(rng, mu, sigma).exp(), q)),
            Domain::RandInt { low, high } => {
                // Validation guarantees high - low fits in i64.
                let span = high.wrapping_sub(low) as u64;
                ParamValue::Int(low.wrapping_add(uniform_below(rng, span) as i64))
            }
            // Python's int() truncates toward zero, and so does `as`.
            Domain::UniformInt { low, high, q } => ParamValue::Int(quantize(uniform(rng, low, high), q) as i64),
            Domain::Choice { n } => ParamValue::Int(uniform_below(rng, n as u64) as i64),
            Domain::PChoice { ref p } => ParamValue::Int(pick(p, uniform01(rng)) as i64),
        }
    }
}

/// The option whose cumulative probability interval holds `u`.
fn pick(p: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    let mut last_possible = 0;
    for (i, &pi) in p.iter().enumerate() {
        if pi > 0.0 {
            last_possible = i;
        }
        acc += pi;
        if u < acc {
            return i;
        }
    }
    last_possible
}

/// One point drawn from the space's prior: each active parameter in first-appearance order,
/// descending only into the options chosen.
pub fn sample_prior<R: RngCore + ?Sized>(space: &Space, rng: &mut R) -> Point {
    let mut point = Point::new();
    draw(space.root(), rng, &mut point);
    point
}

fn draw<R: RngCore + ?Sized>(node: &Node, rng: &mut R, point: &mut Point) {
    match node {
        Node::Const(_) => {}
        Node::Dict(entries) => entries.iter().for_each(|(_, child)| draw(child, rng, point)),
        Node::List(items) => items.iter().for_each(|child| draw(child, rng, point)),
        Node::Hp(hp) => {
            let value = hp.domain.sample(rng);
            point.insert(hp.label.clone(), value);
            if let (ParamValue::Int(i), true) = (value, hp.domain.kind().is_choice()) {
                if let Some(option) = hp.options.get(i as usize) {
                    draw(option, rng, point);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::trial_rng;

    #[test]
    fn integers_below_n_cover_the_range_and_never_reach_n() {
        let mut rng = trial_rng(1, 0);
        let mut seen = [false; 7];
        for _ in 0..10_000 {
            let k = uniform_below(&mut rng, 7);
            assert!(k < 7);
            seen[k as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(uniform_below(&mut rng, 0), 0);
        assert!(uniform_below(&mut rng, u64::MAX) < u64::MAX);
    }

    #[test]
    fn uniforms_are_in_the_half_open_unit_interval() {
        let mut rng = trial_rng(2, 0);
        assert!((0..10_000).map(|_| uniform01(&mut rng)).all(|u| (0.0..1.0).contains(&u)));
    }

    #[test]
    fn pchoice_leftover_goes_to_the_last_possible_option() {
        // p sums to 1 - 1e-7 (within tolerance): a uniform above the sum still picks a real option.
        assert_eq!(pick(&[0.4, 0.6 - 1e-7, 0.0], 0.999_999_99), 1);
        assert_eq!(pick(&[0.0, 1.0], 0.0), 1);
        assert_eq!(pick(&[0.5, 0.5], 0.25), 0);
    }
}
