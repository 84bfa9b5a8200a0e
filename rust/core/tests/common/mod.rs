//! Helpers shared by the integration tests: spaces, temp files and the statistics of the sampler tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use sparktune_core::Space;

/// A space from the JSON of its root node.
pub fn space(root: &str) -> Space {
    Space::from_json(&format!(r#"{{"sparktune_space": 1, "root": {root}}}"#)).unwrap()
}

/// A file path in the temp dir, unique per test process and name, removed (with its
/// directory, once empty) when dropped.
pub struct TempFile(PathBuf);

impl std::ops::Deref for TempFile {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempFile {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A fresh [`TempFile`] (removed first if left over).
pub fn temp_path(name: &str) -> TempFile {
    let dir = std::env::temp_dir().join(format!("sparktune-core-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    TempFile(path)
}

/// Φ(x), via erfc (W. J. Cody's rational approximation as in Numerical Recipes' erfcc, |error| < 1.2e-7).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    // The polynomial's coefficients, lowest power first, evaluated by Horner's rule (a loop: the
    // nested form of ten terms makes rustfmt run for minutes).
    const C: [f64; 10] = [
        -1.265_512_23,
        1.000_023_68,
        0.374_091_96,
        0.096_784_18,
        -0.186_288_06,
        0.278_868_07,
        -1.135_203_98,
        1.488_515_87,
        -0.822_152_23,
        0.170_872_77,
    ];
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = C.iter().rev().fold(0.0, |acc, c| c + t * acc);
    let r = t * (-z * z + poly).exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The Kolmogorov-Smirnov statistic of `samples` against the continuous CDF `cdf`.
pub fn ks_statistic(samples: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut xs = samples.to_vec();
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    xs.iter().enumerate().fold(0.0f64, |d, (i, &x)| {
        let f = cdf(x);
        d.max(f - i as f64 / n).max((i + 1) as f64 / n - f)
    })
}

/// The KS critical value at significance 0.001 for n samples (c(alpha) = 1.949).
pub fn ks_critical(n: usize) -> f64 {
    1.949 / (n as f64).sqrt()
}

/// Pearson's chi-square statistic of observed counts against expected probabilities; bins with an
/// expected count under 5 are pooled into their neighbour so the approximation holds.
/// Returns (statistic, degrees of freedom).
pub fn chi_square(observed: &[u64], probs: &[f64]) -> (f64, usize) {
    assert_eq!(observed.len(), probs.len());
    let n: u64 = observed.iter().sum();
    let mut pooled: Vec<(f64, f64)> = Vec::new();
    let mut acc = (0.0, 0.0);
    for (&o, &p) in observed.iter().zip(probs) {
        acc.0 += o as f64;
        acc.1 += p * n as f64;
        if acc.1 >= 5.0 {
            pooled.push(acc);
            acc = (0.0, 0.0);
        }
    }
    if acc.1 > 0.0 || acc.0 > 0.0 {
        match pooled.last_mut() {
            Some(last) => {
                last.0 += acc.0;
                last.1 += acc.1;
            }
            None => pooled.push(acc),
        }
    }
    let stat = pooled.iter().map(|(o, e)| (o - e) * (o - e) / e).sum();
    (stat, pooled.len().saturating_sub(1).max(1))
}

/// The chi-square critical value at significance 0.001 (Wilson-Hilferty, z = 3.09).
pub fn chi_square_critical(df: usize) -> f64 {
    let k = df as f64;
    let a = 2.0 / (9.0 * k);
    k * (1.0 - a + 3.09 * a.sqrt()).powi(3)
}

/// Asserts that `observed` counts fit `probs` at significance 0.001.
pub fn assert_fits(what: &str, observed: &[u64], probs: &[f64]) {
    let (stat, df) = chi_square(observed, probs);
    let crit = chi_square_critical(df);
    assert!(stat < crit, "{what}: chi-square {stat:.2} >= {crit:.2} (df {df}); observed {observed:?}, probs {probs:?}");
}
