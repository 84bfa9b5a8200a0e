//! The standard normal's CDF, its logarithm and its inverse, and the truncated normal built on them.
//!
//! `erf`/`erfc` come from `libm` (a port of FreeBSD's msun, as optuna's `_erf.py` is); what no small
//! crate offers, `log_ndtr` with an asymptotic tail and `ndtri`, is written here.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// ln(sqrt(2 pi)): the normaliser of the standard normal density, in log form.
pub(crate) const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Φ(x), the standard normal CDF.
pub(crate) fn ndtr(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// ln Φ(x), accurate far into the lower tail where Φ(x) underflows.
pub(crate) fn log_ndtr(x: f64) -> f64 {
    if x > 6.0 {
        // Φ(x) = 1 - Q(x) with Q(x) tiny: ln(1 - Q) ≈ -Q.
        -ndtr(-x)
    } else if x > -20.0 {
        ndtr(x).ln()
    } else {
        // Asymptotic series: Φ(x) = φ(x)/(-x) · (1 - 1/x² + 3/x⁴ - 15/x⁶ ...).
        let x2 = x * x;
        let series = 1.0 - 1.0 / x2 + 3.0 / (x2 * x2) - 15.0 / (x2 * x2 * x2);
        -0.5 * x2 - LN_SQRT_2PI - (-x).ln() + series.ln()
    }
}

/// Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation, polished by one Halley step.
pub(crate) fn ndtri(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    const P_LOW: f64 = 0.024_25;
    let x = if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step brings the approximation (relative error 1e-9) to full precision.
    let e = ndtr(x) - p;
    let u = e * (2.0 * PI).sqrt() * (0.5 * x * x).exp();
    x - u / (1.0 + 0.5 * x * u)
}

/// Beyond this many sigmas, Φ is 0 or 1 to double precision (Φ(-8.3) < 2^-53 / 2).
const FLAT_TAIL: f64 = 8.3;

/// ln(Φ(b) - Φ(a)) for a < b, computed on the side of zero where it does not cancel.
pub(crate) fn log_gauss_mass(a: f64, b: f64) -> f64 {
    // Most kernels sit well inside their support: no erfc needed for a mass of 1.
    if a <= -FLAT_TAIL && b >= FLAT_TAIL {
        return 0.0;
    }
    // One bound in a flat tail and the other on the near side of zero: the tail's mass is under a
    // rounding error of the rest, so one CDF does (most kernels near one end of a range).
    if b >= FLAT_TAIL && a <= 0.0 {
        return log_ndtr(-a);
    }
    if a <= -FLAT_TAIL && b >= 0.0 {
        return log_ndtr(b);
    }
    if b <= 0.0 {
        let (la, lb) = (log_ndtr(a), log_ndtr(b));
        lb + (-(la - lb).exp()).ln_1p()
    } else if a >= 0.0 {
        log_gauss_mass(-b, -a)
    } else {
        // a < 0 < b: the central mass is at least ndtr(b) - 0.5, no cancellation worth fearing.
        (-ndtr(a) - ndtr(-b)).ln_1p()
    }
}

/// N(mu, sigma) truncated to [low, high], drawn by inverting the CDF, which is computed at the
/// bounds (two erfc) once for any number of draws.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TruncNorm {
    mu: f64,
    sigma: f64,
    low: f64,
    high: f64,
    /// Both bounds above the mean: drawn in the mirrored lower tail, where Φ keeps its precision.
    mirrored: bool,
    pa: f64,
    pb: f64,
}

impl TruncNorm {
    pub(crate) fn new(mu: f64, sigma: f64, low: f64, high: f64) -> Self {
        let (a, b) = ((low - mu) / sigma, (high - mu) / sigma);
        let mirrored = a >= 0.0;
        let (pa, pb) = if mirrored { (ndtr(-b), ndtr(-a)) } else { (ndtr(a), ndtr(b)) };
        TruncNorm { mu, sigma, low, high, mirrored, pa, pb }
    }

    /// The quantile at `u` in [0, 1).
    pub(crate) fn ppf(&self, u: f64) -> f64 {
        let p = ndtri(self.pa + u * (self.pb - self.pa));
        let z = if self.mirrored { -p } else { p };
        (self.mu + self.sigma * z).clamp(self.low, self.high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndtr_matches_known_values() {
        assert!((ndtr(0.0) - 0.5).abs() < 1e-15);
        assert!((ndtr(1.959_963_984_540_054) - 0.975).abs() < 1e-12);
        assert!((ndtr(-3.0) - 0.001_349_898_031_630_094_6).abs() < 1e-15);
    }

    #[test]
    fn ndtri_inverts_ndtr_across_the_range() {
        for &p in &[1e-300, 1e-20, 1e-8, 0.001, 0.02425, 0.1, 0.5, 0.9, 0.97575, 0.999, 1.0 - 1e-12] {
            let x = ndtri(p);
            let back = ndtr(x);
            assert!(((back - p) / p).abs() < 1e-9, "p={p} x={x} back={back}");
        }
    }

    #[test]
    fn log_ndtr_is_continuous_at_its_branches() {
        for &x in &[-20.0, 6.0] {
            let (lo, hi) = (log_ndtr(x - 1e-9), log_ndtr(x + 1e-9));
            assert!((lo - hi).abs() < 1e-6 * lo.abs().max(1e-12), "x={x}: {lo} vs {hi}");
        }
        assert!(log_ndtr(-40.0).is_finite());
        assert!((log_ndtr(-40.0) - (-804.608_442_013_754_8)).abs() < 1e-6);
    }

    #[test]
    fn gauss_mass_agrees_with_the_cdf_difference() {
        for &(a, b) in &[(-1.0, 1.0), (0.5, 2.0), (-3.0, -2.0), (2.0, 9.0), (-9.0, -8.0)] {
            let direct: f64 = ndtr(b) - ndtr(a);
            let logged = log_gauss_mass(a, b);
            assert!((logged - direct.ln()).abs() < 1e-9, "({a}, {b}): {logged} vs {}", direct.ln());
        }
        // Far tails stay finite where the plain difference underflows to zero.
        assert!(log_gauss_mass(40.0, 41.0).is_finite());
    }

    #[test]
    fn truncated_draws_stay_in_bounds_even_far_from_the_mean() {
        for i in 0..1000 {
            let u = f64::from(i) / 1000.0;
            for &(mu, sigma, low, high) in &[(0.0, 1.0, -1.0, 1.0), (50.0, 1.0, 0.0, 1.0), (-50.0, 0.5, 0.0, 1.0)] {
                let x = TruncNorm::new(mu, sigma, low, high).ppf(u);
                assert!((low..=high).contains(&x), "u={u} mu={mu} -> {x}");
            }
        }
        // The median of N(0, 1) truncated to [-1, 1] is 0.
        assert!(TruncNorm::new(0.0, 1.0, -1.0, 1.0).ppf(0.5).abs() < 1e-12);
    }
}
