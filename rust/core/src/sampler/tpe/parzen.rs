//! The Parzen estimator of TPE: a weighted mixture of product kernels, one kernel per observation plus
//! one for the prior, over the sampler's internal coordinates (log kinds already in log space).
//!
//! One observation's kernel is a product over the dimensions it models, so the same type serves the
//! univariate case (one dimension) and the multivariate one (a group of labels modelled jointly).

use rand_chacha::rand_core::RngCore;
use rayon::prelude::*;

use crate::sampler::gauss::{log_gauss_mass, truncnorm_ppf, LN_SQRT_2PI};
use crate::space::{standard_normal, uniform01};

/// One dimension, in the sampler's internal coordinates.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Dim {
    /// Continuous on `[low, high]`.
    Continuous { low: f64, high: f64 },
    /// The multiples of `step` from `low` to `high`: a kernel's mass at x is its mass over x ± step/2.
    Stepped { low: f64, high: f64, step: f64 },
    /// The whole real line, with a normal prior (hyperopt's normal kinds).
    Unbounded { prior_mu: f64, prior_sigma: f64 },
    /// One of `prior.len()` options, drawn with the prior's probabilities before anything is known.
    Categorical { prior: Vec<f64> },
}

/// How the kernels are shaped; optuna's and hyperopt's defaults agree on all three.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ParzenParams {
    /// Weight of the prior kernel, relative to an observation's weight of 1 (before forgetting).
    pub prior_weight: f64,
    /// Floors each bandwidth at range / min(100, 1 + kernels), so that a cluster cannot collapse.
    pub magic_clip: bool,
    /// Whether the domain's ends count as neighbours of the outermost observations.
    pub consider_endpoints: bool,
}

impl Default for ParzenParams {
    fn default() -> Self {
        Self { prior_weight: 1.0, magic_clip: true, consider_endpoints: false }
    }
}

/// The kernels of one dimension, one entry per kernel (observations first, the prior last).
#[derive(Clone, Debug)]
enum Kernels {
    /// Continuous or unbounded: a (truncated) normal per kernel.
    Continuous {
        mus: Vec<f64>,
        sigmas: Vec<f64>,
        inv_sigmas: Vec<f64>,
        /// The support: infinite for `Unbounded`.
        low: f64,
        high: f64,
        /// Per kernel, ln(sigma sqrt(2 pi)) + ln(mass over the support): the density's normaliser.
        log_norm: Vec<f64>,
    },
    /// On a grid of `step`: a kernel's mass at x is its mass over x ± step/2, over its mass on the
    /// support. Kernels share few distinct (mu, sigma) pairs once the grid fills up, so the masses are
    /// computed per pair (as optuna does) and looked up per kernel.
    Stepped {
        mus: Vec<f64>,
        sigmas: Vec<f64>,
        /// The support, half a step beyond the grid's ends.
        low: f64,
        high: f64,
        step: f64,
        /// The distinct (mu, sigma) pairs, their ln mass over the support, and each kernel's pair.
        pairs: Vec<(f64, f64)>,
        pair_log_mass: Vec<f64>,
        pair_of: Vec<u32>,
    },
    /// Every observation's kernel puts the same mass on its own option and spreads the prior's on the
    /// others, so there are only n_options + 1 distinct rows (one per observed option, and the prior).
    Categorical {
        n_options: usize,
        /// Row-major (n_options + 1) x n_options: row o for an observation of option o, the last row the prior.
        rows: Vec<f64>,
        /// ln of `rows`, transposed (option-major), so that the density pass reads one short slice.
        log_rows_by_option: Vec<f64>,
        /// Each kernel's row.
        row_of: Vec<u32>,
    },
}

impl Kernels {
    fn fit(dim: &Dim, obs: &[f64], params: ParzenParams) -> Self {
        match dim {
            Dim::Categorical { prior } => {
                let n_options = prior.len();
                let n_kernels = obs.len() + 1;
                let mut rows = Vec::with_capacity((n_options + 1) * n_options);
                // Row o: option o plus the prior's weight, spread as the prior is (optuna's kernel).
                let spread = params.prior_weight / n_kernels as f64;
                for o in 0..n_options {
                    let start = rows.len();
                    rows.extend(prior.iter().map(|p| spread * p * n_options as f64));
                    rows[start + o] += 1.0;
                    let total: f64 = rows[start..].iter().sum();
                    rows[start..].iter_mut().for_each(|p| *p /= total);
                }
                rows.extend_from_slice(prior);
                let n_rows = n_options + 1;
                let log_rows_by_option =
                    (0..n_options).flat_map(|i| (0..n_rows).map(move |r| (i, r))).map(|(i, r)| rows[r * n_options + i].ln()).collect();
                let row_of = obs.iter().map(|&o| (o as usize).min(n_options - 1) as u32).chain(std::iter::once(n_options as u32)).collect();
                Kernels::Categorical { n_options, rows, log_rows_by_option, row_of }
            }
            Dim::Continuous { low, high } => {
                let (mus, sigmas) = bounded_kernels(obs, *low, *high, params);
                Self::continuous(mus, sigmas, *low, *high)
            }
            Dim::Stepped { low, high, step } => {
                let (low, high) = (low - step / 2.0, high + step / 2.0);
                let (mus, sigmas) = bounded_kernels(obs, low, high, params);
                let mut pairs: Vec<(f64, f64)> = mus.iter().copied().zip(sigmas.iter().copied()).collect();
                pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
                pairs.dedup();
                let pair_of = mus
                    .iter()
                    .zip(&sigmas)
                    .map(|(m, s)| {
                        let key = (*m, *s);
                        pairs.partition_point(|p| p.0.total_cmp(&key.0).then(p.1.total_cmp(&key.1)).is_lt()) as u32
                    })
                    .collect();
                let pair_log_mass = pairs.iter().map(|(m, s)| log_gauss_mass((low - m) / s, (high - m) / s)).collect();
                Kernels::Stepped { mus, sigmas, low, high, step: *step, pairs, pair_log_mass, pair_of }
            }
            Dim::Unbounded { prior_mu, prior_sigma } => {
                let mut sigmas = neighbour_gaps(obs, None);
                let n_kernels = obs.len() + 1;
                let min_sigma = prior_sigma / (1.0 + n_kernels as f64).min(100.0);
                sigmas.iter_mut().for_each(|s| *s = s.clamp(min_sigma, *prior_sigma));
                let mut mus = obs.to_vec();
                mus.push(*prior_mu);
                sigmas.push(*prior_sigma);
                Self::continuous(mus, sigmas, f64::NEG_INFINITY, f64::INFINITY)
            }
        }
    }

    fn continuous(mus: Vec<f64>, sigmas: Vec<f64>, low: f64, high: f64) -> Self {
        let log_norm = mus
            .iter()
            .zip(&sigmas)
            .map(|(mu, s)| {
                let mass = if low.is_finite() { log_gauss_mass((low - mu) / s, (high - mu) / s) } else { 0.0 };
                s.ln() + LN_SQRT_2PI + mass
            })
            .collect();
        let inv_sigmas = sigmas.iter().map(|s| 1.0 / s).collect();
        Kernels::Continuous { mus, sigmas, inv_sigmas, low, high, log_norm }
    }

    fn sample<R: RngCore + ?Sized>(&self, rng: &mut R, k: usize) -> f64 {
        match self {
            Kernels::Categorical { n_options, rows, row_of, .. } => {
                let r = row_of[k] as usize;
                let row = &rows[r * n_options..(r + 1) * n_options];
                let mut u = uniform01(rng);
                for (i, p) in row.iter().enumerate() {
                    if u < *p {
                        return i as f64;
                    }
                    u -= p;
                }
                (n_options - 1) as f64
            }
            Kernels::Continuous { mus, sigmas, low, high, .. } => {
                if low.is_infinite() {
                    return mus[k] + sigmas[k] * standard_normal(rng);
                }
                truncnorm_ppf(uniform01(rng), mus[k], sigmas[k], *low, *high)
            }
            Kernels::Stepped { mus, sigmas, low, high, step, .. } => {
                let x = truncnorm_ppf(uniform01(rng), mus[k], sigmas[k], *low, *high);
                // Snap to the grid, whose ends lie half a step inside the support.
                let (first, last) = (low + step / 2.0, high - step / 2.0);
                (first + ((x - first) / step).round() * step).clamp(first, last)
            }
        }
    }

    /// Adds this dimension's ln density at `x`, kernel by kernel, into `acc`; `scratch` is reused.
    fn add_log_pdf(&self, x: f64, acc: &mut [f64], scratch: &mut Vec<f64>) {
        match self {
            Kernels::Categorical { n_options, log_rows_by_option, row_of, .. } => {
                let n_rows = n_options + 1;
                let i = (x as usize).min(n_options - 1);
                let column = &log_rows_by_option[i * n_rows..(i + 1) * n_rows];
                acc.iter_mut().zip(row_of).for_each(|(a, &r)| *a += column[r as usize]);
            }
            Kernels::Continuous { mus, inv_sigmas, log_norm, .. } => {
                // A plain loop over slices of equal length: the compiler vectorises it.
                for (((a, mu), inv), ln) in acc.iter_mut().zip(mus).zip(inv_sigmas).zip(log_norm) {
                    let z = (x - mu) * inv;
                    *a += -0.5 * z * z - ln;
                }
            }
            Kernels::Stepped { step, pairs, pair_log_mass, pair_of, .. } => {
                scratch.clear();
                scratch.extend(pairs.iter().zip(pair_log_mass).map(|((m, s), lm)| {
                    log_gauss_mass((x - step / 2.0 - m) / s, (x + step / 2.0 - m) / s) - lm
                }));
                acc.iter_mut().zip(pair_of).for_each(|(a, &p)| *a += scratch[p as usize]);
            }
        }
    }
}

/// Below this many kernel evaluations, threads cost more than they save.
const PARALLEL_WORK: usize = 200_000;

/// A weighted mixture of product kernels.
#[derive(Clone, Debug)]
pub(crate) struct ParzenEstimator {
    weights: Vec<f64>,
    log_weights: Vec<f64>,
    dims: Vec<Kernels>,
}

impl ParzenEstimator {
    /// Fits kernels to the observations, given as one column per dimension of `dims` (all of the
    /// same length), weighted by `weights` (one per observation), plus the prior kernel.
    pub(crate) fn new(dims: &[Dim], columns: &[Vec<f64>], weights: &[f64], params: ParzenParams) -> Self {
        debug_assert!(columns.iter().all(|c| c.len() == weights.len()));
        let mut w: Vec<f64> = if weights.is_empty() {
            vec![1.0]
        } else {
            weights.iter().copied().chain(std::iter::once(params.prior_weight)).collect()
        };
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|x| *x /= total);
        let fit = |(dim, column): (&Dim, &Vec<f64>)| Kernels::fit(dim, column, params);
        let dims = if weights.len() * dims.len() >= PARALLEL_WORK {
            dims.par_iter().zip(columns).map(fit).collect()
        } else {
            dims.iter().zip(columns).map(fit).collect()
        };
        let log_weights = w.iter().map(|x| x.ln()).collect();
        Self { weights: w, log_weights, dims }
    }

    /// Draws `n` points: a kernel by weight, then each dimension from that kernel.
    pub(crate) fn sample<R: RngCore + ?Sized>(&self, rng: &mut R, n: usize) -> Vec<Vec<f64>> {
        let cumulative: Vec<f64> = self
            .weights
            .iter()
            .scan(0.0, |acc, w| {
                *acc += w;
                Some(*acc)
            })
            .collect();
        (0..n)
            .map(|_| {
                let u = uniform01(rng) * cumulative.last().copied().unwrap_or(1.0);
                let k = cumulative.partition_point(|c| *c <= u).min(self.weights.len() - 1);
                self.dims.iter().map(|kernels| kernels.sample(rng, k)).collect()
            })
            .collect()
    }

    /// ln of the mixture's density (or mass, for discrete dimensions) at each point.
    pub(crate) fn log_pdf(&self, points: &[Vec<f64>]) -> Vec<f64> {
        let work = points.len() * self.weights.len() * self.dims.len();
        if work >= PARALLEL_WORK {
            points
                .par_iter()
                .map_init(|| (Vec::new(), Vec::new()), |(acc, scratch), x| self.log_pdf_one(x, acc, scratch))
                .collect()
        } else {
            let (mut acc, mut scratch) = (Vec::new(), Vec::new());
            points.iter().map(|x| self.log_pdf_one(x, &mut acc, &mut scratch)).collect()
        }
    }

    fn log_pdf_one(&self, x: &[f64], acc: &mut Vec<f64>, scratch: &mut Vec<f64>) -> f64 {
        acc.clear();
        acc.extend_from_slice(&self.log_weights);
        for (kernels, &xd) in self.dims.iter().zip(x) {
            kernels.add_log_pdf(xd, acc, scratch);
        }
        log_sum_exp(acc)
    }
}

/// Kernels on the support [low, high], bandwidths from the gaps to the neighbouring observations,
/// plus the prior kernel (mid-range, as wide as the range).
fn bounded_kernels(obs: &[f64], low: f64, high: f64, params: ParzenParams) -> (Vec<f64>, Vec<f64>) {
    let range = high - low;
    let endpoints = if params.consider_endpoints || obs.len() < 2 { Some((low, high)) } else { None };
    let mut sigmas = neighbour_gaps(obs, endpoints);
    let n_kernels = obs.len() + 1;
    let min_sigma = if params.magic_clip { range / (1.0 + n_kernels as f64).min(100.0) } else { 1e-12 };
    sigmas.iter_mut().for_each(|s| *s = s.clamp(min_sigma, range));
    let mut mus = obs.to_vec();
    mus.push(0.5 * (low + high));
    sigmas.push(range);
    (mus, sigmas)
}

/// For each observation, the larger gap to its sorted neighbours (hyperopt's and optuna's bandwidth).
/// With `endpoints`, the domain's ends count as neighbours; without, an outermost observation takes the
/// gap on its inner side.
fn neighbour_gaps(obs: &[f64], endpoints: Option<(f64, f64)>) -> Vec<f64> {
    let n = obs.len();
    if n == 0 {
        return Vec::new();
    }
    let mut order: Vec<(f64, u32)> = obs.iter().enumerate().map(|(i, &x)| (x, i as u32)).collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let sorted: Vec<f64> = order.iter().map(|&(x, _)| x).collect();
    let mut gaps = vec![0.0; n];
    for (rank, &(_, i)) in order.iter().enumerate() {
        let i = i as usize;
        let left = if rank > 0 {
            Some(sorted[rank] - sorted[rank - 1])
        } else {
            endpoints.map(|(low, _)| sorted[0] - low)
        };
        let right = if rank + 1 < n {
            Some(sorted[rank + 1] - sorted[rank])
        } else {
            endpoints.map(|(_, high)| high - sorted[n - 1])
        };
        gaps[i] = match (left, right) {
            (Some(l), Some(r)) => l.max(r),
            (Some(g), None) | (None, Some(g)) => g,
            (None, None) => f64::INFINITY, // a lone observation: the clip gives it the whole range
        };
    }
    gaps
}

fn log_sum_exp(xs: &[f64]) -> f64 {
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    // Terms under e^-40 of the largest change the sum by less than a rounding error: most kernels of
    // a large history are that far from a given point, and skipping their exp is most of the speed.
    let cut = max - 40.0;
    let sum: f64 = xs.iter().filter(|&&x| x > cut).map(|x| (x - max).exp()).sum();
    max + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The columns of observation rows.
    fn cols(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let d = rows.first().map_or(0, Vec::len);
        (0..d).map(|i| rows.iter().map(|r| r[i]).collect()).collect()
    }

    fn integrate(pe: &ParzenEstimator, low: f64, high: f64, n: usize) -> f64 {
        let h = (high - low) / n as f64;
        let xs: Vec<Vec<f64>> = (0..n).map(|i| vec![low + (i as f64 + 0.5) * h]).collect();
        pe.log_pdf(&xs).iter().map(|l| l.exp() * h).sum()
    }

    #[test]
    fn continuous_density_integrates_to_one() {
        let dims = [Dim::Continuous { low: -2.0, high: 3.0 }];
        let obs = vec![vec![0.1], vec![0.3], vec![2.9], vec![-1.5]];
        let pe = ParzenEstimator::new(&dims, &cols(&obs), &[1.0; 4], ParzenParams::default());
        assert!((integrate(&pe, -2.0, 3.0, 20_000) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn stepped_and_categorical_masses_sum_to_one() {
        let dims = [Dim::Stepped { low: 2.0, high: 10.0, step: 2.0 }];
        let pe = ParzenEstimator::new(&dims, &[vec![4.0, 4.0, 10.0]], &[1.0; 3], ParzenParams::default());
        let grid: Vec<Vec<f64>> = [2.0, 4.0, 6.0, 8.0, 10.0].iter().map(|x| vec![*x]).collect();
        let total: f64 = pe.log_pdf(&grid).iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");

        let dims = [Dim::Categorical { prior: vec![0.2, 0.3, 0.5] }];
        let pe = ParzenEstimator::new(&dims, &[vec![1.0, 1.0]], &[1.0, 0.5], ParzenParams::default());
        let opts: Vec<Vec<f64>> = (0..3).map(|i| vec![f64::from(i)]).collect();
        let p: Vec<f64> = pe.log_pdf(&opts).iter().map(|l| l.exp()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[1] > p[2] && p[2] > p[0], "observed option gains mass: {p:?}");
    }

    #[test]
    fn samples_follow_the_observations_and_stay_on_the_grid() {
        let dims = [Dim::Continuous { low: 0.0, high: 1.0 }, Dim::Stepped { low: 0.0, high: 8.0, step: 1.0 }];
        let obs: Vec<Vec<f64>> = (0..30).map(|_| vec![0.9, 7.0]).collect();
        let pe = ParzenEstimator::new(&dims, &cols(&obs), &[1.0; 30], ParzenParams::default());
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let xs = pe.sample(&mut rng, 2000);
        let near = xs.iter().filter(|x| (x[0] - 0.9).abs() < 0.1).count();
        assert!(near > 1500, "most draws near the observations: {near}");
        assert!(xs.iter().all(|x| (0.0..=1.0).contains(&x[0])));
        assert!(xs.iter().all(|x| x[1].fract() == 0.0 && (0.0..=8.0).contains(&x[1])));
    }

    #[test]
    fn unbounded_kernels_use_the_prior_scale() {
        let dims = [Dim::Unbounded { prior_mu: 0.0, prior_sigma: 1.0 }];
        let pe = ParzenEstimator::new(&dims, &[vec![5.0]], &[1.0], ParzenParams::default());
        assert!((integrate(&pe, -15.0, 20.0, 40_000) - 1.0).abs() < 1e-4);
    }
}
