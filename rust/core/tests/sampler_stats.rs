//! The random sampler draws each kind from hyperopt's prior: Kolmogorov-Smirnov against the CDF for
//! the continuous kinds, chi-square for the discrete and quantised ones (significance 0.001, fixed seeds).
#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_fits, ks_critical, ks_statistic, normal_cdf, space};
use sparktune_core::sampler::trial_rng;
use sparktune_core::space::{quantize, sample_prior};
use sparktune_core::{ParamValue, Point, Space};

const N: usize = 20_000;

/// N points of `space`, each from the RNG of its trial id, as the random sampler draws them.
fn draws(space: &Space, seed: u64) -> Vec<Point> {
    (0..N as u64).map(|id| sample_prior(space, &mut trial_rng(seed, id))).collect()
}

fn floats(root: &str, seed: u64) -> Vec<f64> {
    draws(&space(root), seed).iter().map(|p| p.get("x").unwrap().as_f64()).collect()
}

fn ints(root: &str, seed: u64) -> Vec<i64> {
    draws(&space(root), seed)
        .iter()
        .map(|p| match p.get("x").unwrap() {
            ParamValue::Int(i) => i,
            other => panic!("{root}: expected an integer, got {other:?}"),
        })
        .collect()
}

fn assert_ks(what: &str, xs: &[f64], cdf: impl Fn(f64) -> f64) {
    let d = ks_statistic(xs, cdf);
    assert!(d < ks_critical(xs.len()), "{what}: KS statistic {d:.4} >= {:.4}", ks_critical(xs.len()));
}

/// Counts of each k in `ks` for k in lo..=hi (values outside fail the test).
fn histogram(what: &str, ks: impl Iterator<Item = i64>, lo: i64, hi: i64) -> Vec<u64> {
    let mut counts = vec![0u64; (hi - lo + 1) as usize];
    for k in ks {
        assert!((lo..=hi).contains(&k), "{what}: value index {k} outside [{lo}, {hi}]");
        counts[(k - lo) as usize] += 1;
    }
    counts
}

/// The grid indices of quantised floats, asserting each is a multiple of q (up to rounding).
fn grid_indices(what: &str, xs: &[f64], q: f64) -> Vec<i64> {
    xs.iter()
        .map(|&x| {
            let k = (x / q).round();
            assert!((x / q - k).abs() < 1e-9, "{what}: {x} is not on the grid of q = {q}");
            assert_eq!(x, quantize(x, q), "{what}: {x} is not what np.round(x / q) * q gives");
            k as i64
        })
        .collect()
}

#[test]
fn uniform_matches_its_cdf() {
    let xs = floats(r#"{"hp": "uniform", "label": "x", "low": -2, "high": 3}"#, 1);
    assert!(xs.iter().all(|&x| (-2.0..3.0).contains(&x)));
    assert_ks("uniform(-2, 3)", &xs, |x| ((x + 2.0) / 5.0).clamp(0.0, 1.0));
    // The statistic can fail: a shifted distribution does.
    assert!(ks_statistic(&xs, |x| ((x + 1.9) / 5.0).clamp(0.0, 1.0)) > ks_critical(N));
}

#[test]
fn loguniform_matches_its_cdf() {
    let xs = floats(r#"{"hp": "loguniform", "label": "x", "low": -3, "high": 2}"#, 2);
    assert!(xs.iter().all(|&x| x >= (-3.0f64).exp() && x <= 2.0f64.exp()));
    assert_ks("loguniform(-3, 2)", &xs, |x| ((x.ln() + 3.0) / 5.0).clamp(0.0, 1.0));
    // Not uniform on [e^-3, e^2].
    let (a, b) = ((-3.0f64).exp(), 2.0f64.exp());
    assert!(ks_statistic(&xs, |x| ((x - a) / (b - a)).clamp(0.0, 1.0)) > ks_critical(N));
}

#[test]
fn normal_matches_its_cdf() {
    let xs = floats(r#"{"hp": "normal", "label": "x", "mu": 1, "sigma": 2}"#, 3);
    assert_ks("normal(1, 2)", &xs, |x| normal_cdf((x - 1.0) / 2.0));
    assert!(ks_statistic(&xs, |x| normal_cdf((x - 1.0) / 2.2)) > ks_critical(N));
}

#[test]
fn lognormal_matches_its_cdf() {
    let xs = floats(r#"{"hp": "lognormal", "label": "x", "mu": 0.5, "sigma": 0.75}"#, 4);
    assert!(xs.iter().all(|&x| x > 0.0));
    assert_ks("lognormal(0.5, 0.75)", &xs, |x| normal_cdf((x.ln() - 0.5) / 0.75));
}

#[test]
fn randint_is_uniform_on_its_half_open_range() {
    let xs = ints(r#"{"hp": "randint", "label": "x", "low": -3, "high": 7}"#, 5);
    assert_eq!(*xs.iter().min().unwrap(), -3);
    assert_eq!(*xs.iter().max().unwrap(), 6);
    let counts = histogram("randint", xs.into_iter(), -3, 6);
    assert_fits("randint(-3, 7)", &counts, &[0.1; 10]);
}

#[test]
fn choice_is_uniform_over_its_options() {
    let root = r#"{"hp": "choice", "label": "x", "options": [{"const": 0}, {"const": 1}, {"const": 2}, {"const": 3}, {"const": 4}]}"#;
    let counts = histogram("choice", ints(root, 6).into_iter(), 0, 4);
    assert_fits("choice of 5", &counts, &[0.2; 5]);
}

#[test]
fn pchoice_follows_its_probabilities() {
    let root = r#"{"hp": "pchoice", "label": "x", "options": [
        {"p": 0.1, "value": {"const": "a"}}, {"p": 0.2, "value": {"const": "b"}},
        {"p": 0.0, "value": {"const": "never"}}, {"p": 0.7, "value": {"const": "c"}}]}"#;
    let counts = histogram("pchoice", ints(root, 7).into_iter(), 0, 3);
    assert_eq!(counts[2], 0, "an option with p = 0 was drawn");
    assert_fits("pchoice", &counts, &[0.1, 0.2, 0.0, 0.7]);
}

/// P(round(X / q) = k) for X uniform on [low, high).
fn quniform_probs(low: f64, high: f64, q: f64, kmin: i64, kmax: i64) -> Vec<f64> {
    (kmin..=kmax)
        .map(|k| {
            let (a, b) = (((k as f64 - 0.5) * q).max(low), ((k as f64 + 0.5) * q).min(high));
            ((b - a) / (high - low)).max(0.0)
        })
        .collect()
}

#[test]
fn quniform_is_on_the_grid_with_half_weight_at_the_ends() {
    let xs = floats(r#"{"hp": "quniform", "label": "x", "low": 0, "high": 10, "q": 1}"#, 8);
    let ks = grid_indices("quniform(0, 10, 1)", &xs, 1.0);
    let counts = histogram("quniform", ks.into_iter(), 0, 10);
    let probs = quniform_probs(0.0, 10.0, 1.0, 0, 10);
    assert!((probs[0] - 0.05).abs() < 1e-12 && (probs[5] - 0.1).abs() < 1e-12);
    assert_fits("quniform(0, 10, 1)", &counts, &probs);

    let xs = floats(r#"{"hp": "quniform", "label": "x", "low": -1.3, "high": 2.1, "q": 0.25}"#, 9);
    let ks = grid_indices("quniform(-1.3, 2.1, 0.25)", &xs, 0.25);
    let counts = histogram("quniform", ks.into_iter(), -5, 8);
    assert_fits("quniform(-1.3, 2.1, 0.25)", &counts, &quniform_probs(-1.3, 2.1, 0.25, -5, 8));
}

#[test]
fn qloguniform_is_on_the_grid_and_log_distributed() {
    let (low, high, q) = (0.0f64, 3.0f64, 2.0f64);
    let xs = floats(r#"{"hp": "qloguniform", "label": "x", "low": 0, "high": 3, "q": 2}"#, 10);
    let ks = grid_indices("qloguniform", &xs, q);
    // exp(U(0, 3)) is in [1, 20.09): k from 0 (x < 1 never, but [1, 1) rounds to k = 0 or 1) to 10.
    let counts = histogram("qloguniform", ks.into_iter(), 0, 10);
    let probs: Vec<f64> = (0..=10)
        .map(|k| {
            let a = ((k as f64 - 0.5) * q).max(low.exp());
            let b = ((k as f64 + 0.5) * q).min(high.exp());
            if b <= a {
                0.0
            } else {
                (b.ln() - a.ln()) / (high - low)
            }
        })
        .collect();
    assert_fits("qloguniform(0, 3, 2)", &counts, &probs);
}

#[test]
fn qnormal_is_on_the_grid_and_normally_distributed() {
    let (mu, sigma, q) = (0.5, 3.0, 2.0);
    let xs = floats(r#"{"hp": "qnormal", "label": "x", "mu": 0.5, "sigma": 3, "q": 2}"#, 11);
    let ks = grid_indices("qnormal", &xs, q);
    let (lo, hi) = (-8, 8);
    let counts = histogram("qnormal", ks.into_iter(), lo, hi);
    let cdf = |x: f64| normal_cdf((x - mu) / sigma);
    let mut probs: Vec<f64> = (lo..=hi).map(|k| cdf((k as f64 + 0.5) * q) - cdf((k as f64 - 0.5) * q)).collect();
    // The tails beyond the histogram's ends belong to its end bins (none are drawn at 5 sigma anyway).
    probs[0] += cdf((lo as f64 - 0.5) * q);
    let last = probs.len() - 1;
    probs[last] += 1.0 - cdf((hi as f64 + 0.5) * q);
    assert_fits("qnormal(0.5, 3, 2)", &counts, &probs);
}

#[test]
fn qlognormal_is_on_the_grid_and_lognormally_distributed() {
    let q = 0.5;
    let xs = floats(r#"{"hp": "qlognormal", "label": "x", "mu": 0, "sigma": 1, "q": 0.5}"#, 12);
    let ks = grid_indices("qlognormal", &xs, q);
    let hi = *ks.iter().max().unwrap();
    let counts = histogram("qlognormal", ks.into_iter(), 0, hi);
    let cdf = |x: f64| if x <= 0.0 { 0.0 } else { normal_cdf(x.ln()) };
    let mut probs: Vec<f64> = (0..=hi).map(|k| cdf((k as f64 + 0.5) * q) - cdf((k as f64 - 0.5) * q)).collect();
    let last = probs.len() - 1;
    probs[last] += 1.0 - cdf((hi as f64 + 0.5) * q);
    assert_fits("qlognormal(0, 1, 0.5)", &counts, &probs);
}

#[test]
fn uniformint_gives_integers_with_hyperopts_rounding() {
    let xs = ints(r#"{"hp": "uniformint", "label": "x", "low": 0, "high": 5}"#, 13);
    let counts = histogram("uniformint(0, 5)", xs.into_iter(), 0, 5);
    assert_fits("uniformint(0, 5)", &counts, &[0.1, 0.2, 0.2, 0.2, 0.2, 0.1]);

    let xs = ints(r#"{"hp": "uniformint", "label": "x", "low": 0, "high": 10, "q": 2}"#, 14);
    assert!(xs.iter().all(|x| x % 2 == 0), "uniformint q = 2 gave an odd value");
    let counts = histogram("uniformint(0, 10, 2)", xs.into_iter().map(|x| x / 2), 0, 5);
    assert_fits("uniformint(0, 10, 2)", &counts, &quniform_probs(0.0, 10.0, 2.0, 0, 5));
}

#[test]
fn rounding_is_numpys_half_to_even() {
    assert_eq!(quantize(0.5, 1.0), 0.0);
    assert_eq!(quantize(1.5, 1.0), 2.0);
    assert_eq!(quantize(2.5, 1.0), 2.0);
    assert_eq!(quantize(-2.5, 1.0), -2.0);
    assert_eq!(quantize(0.25, 0.5), 0.0);
    assert_eq!(quantize(0.75, 0.5), 1.0);
    assert_eq!(quantize(7.0, 2.0), 8.0);
    assert_eq!(quantize(5.0, 2.0), 4.0);
}

#[test]
fn nested_choices_have_the_product_of_their_probabilities() {
    let sp = space(
        r#"{"hp": "pchoice", "label": "a", "options": [
            {"p": 0.3, "value": {"hp": "choice", "label": "b", "options": [
                {"const": "b0"},
                {"hp": "pchoice", "label": "c", "options": [{"p": 0.2, "value": {"const": "c0"}}, {"p": 0.8, "value": {"const": "c1"}}]}]}},
            {"p": 0.7, "value": {"dict": {"u": {"hp": "uniform", "label": "u", "low": 0, "high": 1}}}}]}"#,
    );
    let mut counts = [0u64; 4];
    for p in draws(&sp, 15) {
        let (a, b, c, u) = (p.get("a"), p.get("b"), p.get("c"), p.get("u"));
        // Only the active labels are in the point.
        let leaf = match (a, b, c, u) {
            (Some(ParamValue::Int(0)), Some(ParamValue::Int(0)), None, None) => 0,
            (Some(ParamValue::Int(0)), Some(ParamValue::Int(1)), Some(ParamValue::Int(0)), None) => 1,
            (Some(ParamValue::Int(0)), Some(ParamValue::Int(1)), Some(ParamValue::Int(1)), None) => 2,
            (Some(ParamValue::Int(1)), None, None, Some(ParamValue::Float(_))) => 3,
            other => panic!("unexpected point {other:?}"),
        };
        counts[leaf] += 1;
    }
    assert_fits("nested choices", &counts, &[0.3 * 0.5, 0.3 * 0.5 * 0.2, 0.3 * 0.5 * 0.8, 0.7]);
}

#[test]
fn the_chi_square_check_can_fail() {
    // Guards the helper itself: a fair choice does not fit skewed probabilities.
    let root = r#"{"hp": "choice", "label": "x", "options": [{"const": 0}, {"const": 1}]}"#;
    let counts = histogram("choice", ints(root, 16).into_iter(), 0, 1);
    let (stat, df) = common::chi_square(&counts, &[0.45, 0.55]);
    assert!(stat > common::chi_square_critical(df), "chi-square {stat} did not reject");
}
