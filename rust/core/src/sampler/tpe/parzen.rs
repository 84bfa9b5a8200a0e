//! The Parzen estimator of TPE: a weighted mixture of product kernels, one kernel per observation plus
//! one for the prior, over the sampler's internal coordinates (log kinds already in log space).
//!
//! One observation's kernel is a product over the dimensions it models, so the same type serves the
//! univariate case (one dimension) and the multivariate one (a group of labels modelled jointly).

use rand_chacha::rand_core::RngCore;
use rayon::prelude::*;

use std::f64::consts::FRAC_1_SQRT_2;

use crate::sampler::gauss::{log_gauss_mass, TruncNorm, LN_SQRT_2PI};
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
    /// How many dimensions the estimator models together. In fewer than [`SHARP_DIMS`] the magic
    /// clip's floor is SHARP_DIMS / group_dims times narrower: a kernel in few dimensions covers
    /// much of the space at small budgets, and sharper ones found better points on the 2-d suites
    /// (benches/tpe_quality.rs) without costing the 6-d one.
    pub group_dims: usize,
}

/// See [`ParzenParams::group_dims`].
pub(crate) const SHARP_DIMS: f64 = 8.0;

impl Default for ParzenParams {
    fn default() -> Self {
        Self { prior_weight: 1.0, magic_clip: true, consider_endpoints: false, group_dims: 1 }
    }
}

/// The kernels of one dimension, one entry per kernel (observations first, the prior last).
///
/// What does not depend on the point a density is asked at is computed once, when fitting: the
/// truncation normalisers of the continuous kinds go into the estimator's per-kernel constant, and
/// a continuous kernel keeps `scale` = sqrt(1/2)/sigma and `shift` = mu * scale, so that its
/// log-density at x costs one multiply-subtract and a square: -(x * scale - shift)^2.
#[derive(Clone, Debug)]
enum Kernels {
    /// Continuous or unbounded: a (truncated) normal per kernel.
    Continuous {
        mus: Vec<f64>,
        sigmas: Vec<f64>,
        scale: Vec<f64>,
        shift: Vec<f64>,
        /// The support: infinite for `Unbounded`.
        low: f64,
        high: f64,
        /// Per kernel, ln(sigma sqrt(2 pi)) + ln(mass over the support): folded into the
        /// estimator's per-kernel constant.
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
    /// Fits one dimension to the observations `obs`; `order` lists their positions sorted by value
    /// (the neighbours the bandwidths come from).
    fn fit(dim: &Dim, obs: &[f64], order: &[u32], params: ParzenParams, memo: Option<NormMemo<'_>>) -> Self {
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
                let log_rows_by_option = (0..n_options)
                    .flat_map(|i| (0..n_rows).map(move |r| (i, r)))
                    .map(|(i, r)| rows[r * n_options + i].ln())
                    .collect();
                let row_of = obs
                    .iter()
                    .map(|&o| (o as usize).min(n_options - 1) as u32)
                    .chain(std::iter::once(n_options as u32))
                    .collect();
                Kernels::Categorical { n_options, rows, log_rows_by_option, row_of }
            }
            Dim::Continuous { low, high } => {
                let (mus, sigmas) = bounded_kernels(obs, order, *low, *high, params);
                Self::continuous(mus, sigmas, *low, *high, memo)
            }
            Dim::Stepped { low, high, step } => {
                let (low, high) = (low - step / 2.0, high + step / 2.0);
                let (mus, sigmas) = bounded_kernels(obs, order, low, high, params);
                let (pairs, pair_of) = distinct_pairs(&mus, &sigmas, order);
                let pair_log_mass = pairs.iter().map(|(m, s)| log_gauss_mass((low - m) / s, (high - m) / s)).collect();
                Kernels::Stepped { mus, sigmas, low, high, step: *step, pairs, pair_log_mass, pair_of }
            }
            Dim::Unbounded { prior_mu, prior_sigma } => {
                let mut sigmas = neighbour_gaps(obs, order, None);
                let n_kernels = obs.len() + 1;
                let min_sigma = prior_sigma / (1.0 + n_kernels as f64).min(100.0);
                sigmas.iter_mut().for_each(|s| *s = s.clamp(min_sigma, *prior_sigma));
                let mut mus = obs.to_vec();
                mus.push(*prior_mu);
                sigmas.push(*prior_sigma);
                Self::continuous(mus, sigmas, f64::NEG_INFINITY, f64::INFINITY, None)
            }
        }
    }

    fn continuous(mus: Vec<f64>, sigmas: Vec<f64>, low: f64, high: f64, mut memo: Option<NormMemo<'_>>) -> Self {
        // Most bandwidths are the clip's floor, so ln sigma is mostly the previous kernel's.
        let mut last = (f64::NAN, 0.0);
        let mut log_norm = |mu: f64, s: f64| {
            let mass = if low.is_finite() { log_gauss_mass((low - mu) / s, (high - mu) / s) } else { 0.0 };
            if s != last.0 {
                last = (s, s.ln());
            }
            last.1 + LN_SQRT_2PI + mass
        };
        let n_obs = mus.len() - 1;
        let mut log_norms = Vec::with_capacity(mus.len());
        let kernels = mus.iter().zip(&sigmas);
        match memo.as_mut() {
            // The observations' kernels through their slots (one per id), the prior's computed.
            Some(NormMemo { ids, slots }) if ids.len() >= n_obs => {
                for ((&mu, &s), &id) in kernels.clone().zip(&ids[..n_obs]) {
                    let slot = &mut slots[id];
                    if slot.0.to_bits() != s.to_bits() {
                        *slot = (s, log_norm(mu, s));
                    }
                    log_norms.push(slot.1);
                }
                log_norms.extend(kernels.skip(n_obs).map(|(&mu, &s)| log_norm(mu, s)));
            }
            _ => log_norms.extend(kernels.map(|(&mu, &s)| log_norm(mu, s))),
        }
        let log_norm = log_norms;
        let scale: Vec<f64> = sigmas.iter().map(|s| FRAC_1_SQRT_2 / s).collect();
        let shift = mus.iter().zip(&scale).map(|(m, s)| m * s).collect();
        Kernels::Continuous { mus, sigmas, scale, shift, low, high, log_norm }
    }

    /// Kernel `k`'s distribution, its bandwidth times `narrow` (a categorical kernel as it is),
    /// ready for draws: a truncated normal's CDF at its bounds is computed once for all of them.
    fn kernel(&self, k: usize, narrow: f64) -> KernelDraw<'_> {
        match self {
            Kernels::Categorical { n_options, rows, row_of, .. } => {
                let r = row_of[k] as usize;
                KernelDraw::Categorical(&rows[r * n_options..(r + 1) * n_options])
            }
            Kernels::Continuous { mus, sigmas, low, high, .. } => {
                if low.is_infinite() {
                    return KernelDraw::Normal { mu: mus[k], sigma: narrow * sigmas[k] };
                }
                KernelDraw::Truncated(TruncNorm::new(mus[k], narrow * sigmas[k], *low, *high))
            }
            Kernels::Stepped { mus, sigmas, low, high, step, .. } => KernelDraw::Stepped {
                dist: TruncNorm::new(mus[k], narrow * sigmas[k], *low, *high),
                // The grid's ends lie half a step inside the support.
                first: low + step / 2.0,
                last: high - step / 2.0,
                step: *step,
            },
        }
    }

    /// This dimension's part of the ln density at `x` (less the part folded into the per-kernel
    /// constant), kernel by kernel. The discrete kinds look their terms up per kernel; since the
    /// candidates of one proposal fall on few options or grid points, `memo` keeps those terms as a
    /// vector per x, which later candidates at the same x add as they are.
    #[inline(always)]
    fn op<'a>(&'a self, x: f64, memo: &'a mut Vec<(u64, Vec<f64>)>) -> Op<'a> {
        match self {
            Kernels::Continuous { scale, shift, .. } => Op::Square { x, scale, shift },
            _ => Op::Add(self.memo_terms(x, memo)),
        }
    }

    /// A discrete dimension's terms at `x` from `memo`, computed on the first ask.
    #[inline(always)]
    fn memo_terms<'m>(&self, x: f64, memo: &'m mut Vec<(u64, Vec<f64>)>) -> &'m [f64] {
        let key = x.to_bits();
        let at = match memo.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                memo.push((key, self.discrete_terms(x)));
                memo.len() - 1
            }
        };
        &memo[at].1
    }

    /// A discrete dimension's ln mass at `x`, one term per kernel.
    #[inline(never)]
    fn discrete_terms(&self, x: f64) -> Vec<f64> {
        match self {
            Kernels::Categorical { n_options, log_rows_by_option, row_of, .. } => {
                let n_rows = n_options + 1;
                let i = (x as usize).min(n_options - 1);
                let column = &log_rows_by_option[i * n_rows..(i + 1) * n_rows];
                row_of.iter().map(|&r| column[r as usize]).collect()
            }
            Kernels::Stepped { step, pairs, pair_log_mass, pair_of, .. } => {
                let masses: Vec<f64> = pairs
                    .iter()
                    .zip(pair_log_mass)
                    .map(|((m, s), lm)| log_gauss_mass((x - step / 2.0 - m) / s, (x + step / 2.0 - m) / s) - lm)
                    .collect();
                pair_of.iter().map(|&p| masses[p as usize]).collect()
            }
            Kernels::Continuous { .. } => Vec::new(),
        }
    }

    /// The part of each kernel's ln density that does not depend on the point (continuous kinds).
    fn log_norm(&self) -> Option<&[f64]> {
        match self {
            Kernels::Continuous { log_norm, .. } => Some(log_norm),
            _ => None,
        }
    }
}

/// One dimension's part of the ln density at a point, per kernel (see `Kernels::op`).
#[derive(Clone, Copy)]
enum Op<'a> {
    /// A continuous kernel's -(x * scale - shift)^2.
    Square { x: f64, scale: &'a [f64], shift: &'a [f64] },
    /// A discrete kernel's ln mass, looked up.
    Add(&'a [f64]),
}

impl Op<'_> {
    /// `from` with this part added, into the empty `acc`.
    #[inline(always)]
    fn start(self, from: &[f64], acc: &mut Vec<f64>) {
        match self {
            Op::Square { x, scale, shift } => acc.extend(from.iter().zip(scale).zip(shift).map(|((b, s), t)| {
                let z = x * s - t;
                b - z * z
            })),
            Op::Add(terms) => acc.extend(from.iter().zip(terms).map(|(b, t)| b + t)),
        }
    }

    /// Adds this part to `acc`.
    #[inline(always)]
    fn add(self, acc: &mut [f64]) {
        match self {
            // Slices of equal length, no branch: the compiler vectorises it.
            Op::Square { x, scale, shift } => {
                for ((a, s), t) in acc.iter_mut().zip(scale).zip(shift) {
                    let z = x * s - t;
                    *a -= z * z;
                }
            }
            Op::Add(terms) => acc.iter_mut().zip(terms).for_each(|(a, t)| *a += t),
        }
    }

    /// Adds this part, then `next`'s, to `acc` in one pass (the same bits as two).
    #[inline(always)]
    fn add_with(self, next: Op<'_>, acc: &mut [f64]) {
        match (self, next) {
            (Op::Square { x, scale, shift }, Op::Square { x: x2, scale: scale2, shift: shift2 }) => {
                for ((((a, s), t), s2), t2) in acc.iter_mut().zip(scale).zip(shift).zip(scale2).zip(shift2) {
                    let z = x * s - t;
                    let z2 = x2 * s2 - t2;
                    *a = (*a - z * z) - z2 * z2;
                }
            }
            (Op::Square { x, scale, shift }, Op::Add(terms)) => {
                for (((a, s), t), u) in acc.iter_mut().zip(scale).zip(shift).zip(terms) {
                    let z = x * s - t;
                    *a = (*a - z * z) + u;
                }
            }
            (Op::Add(terms), Op::Square { x, scale, shift }) => {
                for (((a, u), s), t) in acc.iter_mut().zip(terms).zip(scale).zip(shift) {
                    let z = x * s - t;
                    *a = (*a + u) - z * z;
                }
            }
            (Op::Add(terms), Op::Add(terms2)) => {
                acc.iter_mut().zip(terms).zip(terms2).for_each(|((a, u), u2)| *a = (*a + u) + u2)
            }
        }
    }
}

/// One kernel of one dimension, ready for draws (see `Kernels::kernel`).
#[derive(Clone, Copy, Debug)]
enum KernelDraw<'a> {
    /// The option probabilities.
    Categorical(&'a [f64]),
    Normal {
        mu: f64,
        sigma: f64,
    },
    Truncated(TruncNorm),
    /// Drawn truncated, then snapped to the grid from `first` to `last`.
    Stepped {
        dist: TruncNorm,
        first: f64,
        last: f64,
        step: f64,
    },
}

impl KernelDraw<'_> {
    fn draw<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            KernelDraw::Categorical(row) => {
                let mut u = uniform01(rng);
                for (i, p) in row.iter().enumerate() {
                    if u < *p {
                        return i as f64;
                    }
                    u -= p;
                }
                (row.len() - 1) as f64
            }
            KernelDraw::Normal { mu, sigma } => mu + sigma * standard_normal(rng),
            KernelDraw::Truncated(dist) => dist.ppf(uniform01(rng)),
            KernelDraw::Stepped { dist, first, last, step } => {
                let x = dist.ppf(uniform01(rng));
                (first + ((x - first) / step).round() * step).clamp(first, last)
            }
        }
    }
}

/// Kernels' normalisers kept across proposals: the observations' ids, and a (sigma, ln normaliser)
/// slot per id.
struct NormMemo<'a> {
    ids: &'a [usize],
    slots: &'a mut Vec<(f64, f64)>,
}

/// What `ParzenEstimator::new` keeps normalisers in: the observations' ids, and per dimension a
/// (sigma, ln normaliser) slot per id.
pub(crate) type NormMemos<'a> = (&'a [usize], &'a mut [Vec<(f64, f64)>]);

/// Below this many kernel evaluations, threads cost more than they save.
const PARALLEL_WORK: usize = 400_000;

/// A weighted mixture of product kernels.
#[derive(Clone, Debug)]
pub(crate) struct ParzenEstimator {
    weights: Vec<f64>,
    /// Per kernel, what its ln density holds whatever the point: ln weight less the continuous
    /// dimensions' normalisers.
    base: Vec<f64>,
    dims: Vec<Kernels>,
}

impl ParzenEstimator {
    /// Fits kernels to the observations, given as one column per dimension of `dims` (all of the
    /// same length), weighted by `weights` (one per observation), plus the prior kernel.
    /// `orders[d]`, when given, lists the positions of column d's observations sorted by value (the
    /// caller may keep them sorted across proposals); else they are sorted here. `memos`, when
    /// given, holds the observations' ids and, per dimension, a slot per id that keeps a kernel's
    /// truncation normaliser (by bandwidth) from one proposal to the next: an observation's kernel
    /// mostly keeps its bandwidth, and the normaliser near a bound costs an erfc.
    pub(crate) fn new(
        dims: &[Dim],
        columns: &[Vec<f64>],
        orders: Option<&[Vec<u32>]>,
        weights: &[f64],
        params: ParzenParams,
        memos: Option<NormMemos<'_>>,
    ) -> Self {
        debug_assert!(columns.iter().all(|c| c.len() == weights.len()));
        let mut w: Vec<f64> = if weights.is_empty() {
            vec![1.0]
        } else {
            weights.iter().copied().chain(std::iter::once(params.prior_weight)).collect()
        };
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|x| *x /= total);
        let mut memos = memos;
        let mut fitted = Vec::with_capacity(dims.len());
        for d in 0..dims.len() {
            let memo = memos.as_mut().map(|(ids, slots)| NormMemo { ids, slots: &mut slots[d] });
            let order = orders.and_then(|o| o.get(d)).filter(|o| o.len() == columns[d].len());
            fitted.push(match order {
                Some(order) => Kernels::fit(&dims[d], &columns[d], order, params, memo),
                None => Kernels::fit(&dims[d], &columns[d], &sort_order(&columns[d]), params, memo),
            });
        }
        let dims = fitted;
        // Weights repeat (the forgetting weights' flat part), and so does their ln.
        let mut last = (f64::NAN, 0.0);
        let mut base: Vec<f64> = w
            .iter()
            .map(|&x| {
                if x != last.0 {
                    last = (x, x.ln());
                }
                last.1
            })
            .collect();
        for log_norm in dims.iter().filter_map(Kernels::log_norm) {
            base.iter_mut().zip(log_norm).for_each(|(b, n)| *b -= n);
        }
        Self { weights: w, base, dims }
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
                self.dims.iter().map(|d| d.kernel(k, 1.0).draw(rng)).collect()
            })
            .collect()
    }

    /// Draws `n` points from kernel `k` alone (an observation's), its bandwidths times `narrow`.
    pub(crate) fn sample_around<R: RngCore + ?Sized>(
        &self,
        rng: &mut R,
        k: usize,
        n: usize,
        narrow: f64,
    ) -> Vec<Vec<f64>> {
        let kernel: Vec<KernelDraw<'_>> = self.dims.iter().map(|d| d.kernel(k, narrow)).collect();
        (0..n).map(|_| kernel.iter().map(|d| d.draw(rng)).collect()).collect()
    }

    /// ln of the mixture's density (or mass, for discrete dimensions) at each point.
    pub(crate) fn log_pdf(&self, points: &[Vec<f64>]) -> Vec<f64> {
        let work = points.len() * self.weights.len() * self.dims.len();
        let scratch = || (Vec::with_capacity(self.base.len()), vec![Vec::new(); self.dims.len()]);
        if work >= PARALLEL_WORK {
            points.par_iter().map_init(scratch, |(acc, memo), x| self.log_pdf_one(x, acc, memo)).collect()
        } else {
            let (mut acc, mut memo) = scratch();
            points.iter().map(|x| self.log_pdf_one(x, &mut acc, &mut memo)).collect()
        }
    }

    fn log_pdf_one(&self, x: &[f64], acc: &mut Vec<f64>, memo: &mut [Vec<(u64, Vec<f64>)>]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { self.log_pdf_one_avx2(x, acc, memo) };
        }
        self.log_pdf_one_portable(x, acc, memo)
    }

    /// The same code compiled for AVX2 (4 doubles a vector instead of 2). No FMA: a fused
    /// multiply-add rounds differently, and a seed must give the same trials on every x86 CPU.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn log_pdf_one_avx2(&self, x: &[f64], acc: &mut Vec<f64>, memo: &mut [Vec<(u64, Vec<f64>)>]) -> f64 {
        self.log_pdf_one_portable(x, acc, memo)
    }

    #[inline(always)]
    fn log_pdf_one_portable(&self, x: &[f64], acc: &mut Vec<f64>, memo: &mut [Vec<(u64, Vec<f64>)>]) -> f64 {
        acc.clear();
        let mut ops = self.dims.iter().zip(x).zip(memo.iter_mut()).map(|((kernels, &xd), memo)| kernels.op(xd, memo));
        // The first dimension's pass starts from the constants, and the others go two by two:
        // fewer passes over memory, each kernel's sum added up in the same order.
        match ops.next() {
            Some(op) => op.start(&self.base, acc),
            None => acc.extend_from_slice(&self.base),
        }
        while let Some(op) = ops.next() {
            match ops.next() {
                Some(next) => op.add_with(next, acc),
                None => op.add(acc),
            }
        }
        log_sum_exp(acc)
    }
}

/// The positions of `obs` sorted by value.
fn sort_order(obs: &[f64]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..obs.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| obs[a as usize].total_cmp(&obs[b as usize]).then(a.cmp(&b)));
    order
}

/// The distinct (mu, sigma) pairs of the kernels and each kernel's pair, the prior (last) included.
/// `order` lists the observations by mu, so equal mus come in runs and a pair is looked for only
/// among its run's (a grid's few bandwidths): no sort, no hashing.
fn distinct_pairs(mus: &[f64], sigmas: &[f64], order: &[u32]) -> (Vec<(f64, f64)>, Vec<u32>) {
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    let mut pair_of = vec![0u32; mus.len()];
    let mut run_start = 0;
    let ranks = order.iter().map(|&k| k as usize).chain(std::iter::once(mus.len() - 1));
    for (rank, k) in ranks.enumerate() {
        let pair = (mus[k], sigmas[k]);
        // The prior, last, starts a run of its own.
        if rank == 0 || rank == order.len() || pairs[run_start].0 != pair.0 {
            run_start = pairs.len();
        }
        let found = pairs[run_start..].iter().position(|p| p.1 == pair.1);
        pair_of[k] = match found {
            Some(i) => (run_start + i) as u32,
            None => {
                pairs.push(pair);
                (pairs.len() - 1) as u32
            }
        };
    }
    (pairs, pair_of)
}

/// Kernels on the support [low, high], bandwidths from the gaps to the neighbouring observations,
/// plus the prior kernel (mid-range, as wide as the range).
fn bounded_kernels(obs: &[f64], order: &[u32], low: f64, high: f64, params: ParzenParams) -> (Vec<f64>, Vec<f64>) {
    let range = high - low;
    let endpoints = if params.consider_endpoints || obs.len() < 2 { Some((low, high)) } else { None };
    let mut sigmas = neighbour_gaps(obs, order, endpoints);
    let n_kernels = obs.len() + 1;
    // The clip's floor, range / (1 + kernels), is narrower in groups of few dimensions (see
    // `group_dims`), never under range / 100.
    let per_kernel = (SHARP_DIMS / params.group_dims.max(1) as f64).max(1.0);
    let min_sigma = if params.magic_clip { range / (per_kernel * (1.0 + n_kernels as f64)).min(100.0) } else { 1e-12 };
    sigmas.iter_mut().for_each(|s| *s = s.clamp(min_sigma, range));
    let mut mus = Vec::with_capacity(n_kernels);
    mus.extend_from_slice(obs);
    mus.push(0.5 * (low + high));
    sigmas.push(range);
    (mus, sigmas)
}

/// For each observation, the larger gap to its sorted neighbours (hyperopt's and optuna's bandwidth),
/// `order` being the observations' positions sorted by value. With `endpoints`, the domain's ends
/// count as neighbours; without, an outermost observation takes the gap on its inner side.
fn neighbour_gaps(obs: &[f64], order: &[u32], endpoints: Option<(f64, f64)>) -> Vec<f64> {
    let n = obs.len();
    debug_assert_eq!(order.len(), n);
    let mut gaps = vec![0.0; n];
    if n == 0 {
        return gaps;
    }
    let at = |rank: usize| obs[order[rank] as usize];
    for rank in 0..n {
        let x = at(rank);
        let left = if rank > 0 { Some(x - at(rank - 1)) } else { endpoints.map(|(low, _)| x - low) };
        let right = if rank + 1 < n { Some(at(rank + 1) - x) } else { endpoints.map(|(_, high)| high - x) };
        gaps[order[rank] as usize] = match (left, right) {
            (Some(l), Some(r)) => l.max(r),
            (Some(g), None) | (None, Some(g)) => g,
            (None, None) => f64::INFINITY, // a lone observation: the clip gives it the whole range
        };
    }
    gaps
}

/// ln Σ exp(xs), with the terms summed in a fixed order (the same inputs give the same bits).
#[inline(always)]
fn log_sum_exp(xs: &[f64]) -> f64 {
    const LANES: usize = 4;
    // Several accumulators: the compiler keeps them in vector registers.
    let mut maxes = [f64::NEG_INFINITY; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (m, &x) in maxes.iter_mut().zip(chunk) {
            *m = if x > *m { x } else { *m };
        }
    }
    let max = maxes.iter().chain(rest).copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    // Terms under e^-40 of the largest change the sum by less than a rounding error, and most
    // kernels of a large history are that far from a given point: a block of such terms is skipped.
    let cut = max - 40.0;
    let mut sums = [0.0; LANES];
    let n_chunks = xs.len() / LANES;
    // The blocks to sum are listed first, branch-free, then summed in order: whether a block is
    // skipped is too irregular for the branch predictor.
    const BATCH: usize = 64;
    let mut live = [0usize; BATCH];
    for first in (0..n_chunks).step_by(BATCH) {
        let mut n_live = 0;
        for c in first..(first + BATCH).min(n_chunks) {
            let chunk = &xs[c * LANES..(c + 1) * LANES];
            live[n_live] = c;
            n_live += usize::from(!chunk.iter().fold(true, |all, &x| all & (x < cut)));
        }
        for &c in &live[..n_live] {
            for (s, &x) in sums.iter_mut().zip(&xs[c * LANES..(c + 1) * LANES]) {
                *s += exp_nonpositive(x - max);
            }
        }
    }
    let rest = &xs[n_chunks * LANES..];
    let sum = sums.iter().sum::<f64>() + rest.iter().map(|&x| exp_nonpositive(x - max)).sum::<f64>();
    max + sum.ln()
}

/// e^x for x <= 0, branch-free so that a loop of it vectorises (libm's exp is a call per element).
/// Relative error below 1e-13; under e^-700 it gives a number that small, not 0 (harmless in a sum
/// whose largest term is 1).
#[inline(always)]
#[rustfmt::skip] // rustfmt takes minutes over the nested Horner form below
fn exp_nonpositive(x: f64) -> f64 {
    // Round-to-nearest by the 1.5 * 2^52 trick: the integer ends up in the low mantissa bits.
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let x = if x > -700.0 { x } else { -700.0 };
    let t = x * std::f64::consts::LOG2_E + SHIFTER;
    let k = t - SHIFTER;
    let r = x - k * LN2_HI - k * LN2_LO; // |r| <= ln2 / 2
    // Taylor to r^11: the remainder is below 1e-14 relative on |r| <= 0.35.
    let p = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0
                            + r * (1.0 / 720.0
                                + r * (1.0 / 5040.0
                                    + r * (1.0 / 40320.0
                                        + r * (1.0 / 362_880.0 + r * (1.0 / 3_628_800.0 + r * (1.0 / 39_916_800.0)))))))))));
    // 2^k from the integer in t's low bits: k in [-1010, 0], so k + 1023 is a valid exponent.
    let bits = (t.to_bits().wrapping_sub(SHIFTER.to_bits()).wrapping_add(1023)) << 52;
    p * f64::from_bits(bits)
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
        let pe = ParzenEstimator::new(&dims, &cols(&obs), None, &[1.0; 4], ParzenParams::default(), None);
        assert!((integrate(&pe, -2.0, 3.0, 20_000) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn stepped_and_categorical_masses_sum_to_one() {
        let dims = [Dim::Stepped { low: 2.0, high: 10.0, step: 2.0 }];
        let pe = ParzenEstimator::new(&dims, &[vec![4.0, 4.0, 10.0]], None, &[1.0; 3], ParzenParams::default(), None);
        let grid: Vec<Vec<f64>> = [2.0, 4.0, 6.0, 8.0, 10.0].iter().map(|x| vec![*x]).collect();
        let total: f64 = pe.log_pdf(&grid).iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");

        let dims = [Dim::Categorical { prior: vec![0.2, 0.3, 0.5] }];
        let pe = ParzenEstimator::new(&dims, &[vec![1.0, 1.0]], None, &[1.0, 0.5], ParzenParams::default(), None);
        let opts: Vec<Vec<f64>> = (0..3).map(|i| vec![f64::from(i)]).collect();
        let p: Vec<f64> = pe.log_pdf(&opts).iter().map(|l| l.exp()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[1] > p[2] && p[2] > p[0], "observed option gains mass: {p:?}");
    }

    #[test]
    fn samples_follow_the_observations_and_stay_on_the_grid() {
        let dims = [Dim::Continuous { low: 0.0, high: 1.0 }, Dim::Stepped { low: 0.0, high: 8.0, step: 1.0 }];
        let obs: Vec<Vec<f64>> = (0..30).map(|_| vec![0.9, 7.0]).collect();
        let pe = ParzenEstimator::new(&dims, &cols(&obs), None, &[1.0; 30], ParzenParams::default(), None);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let xs = pe.sample(&mut rng, 2000);
        let near = xs.iter().filter(|x| (x[0] - 0.9).abs() < 0.1).count();
        assert!(near > 1500, "most draws near the observations: {near}");
        assert!(xs.iter().all(|x| (0.0..=1.0).contains(&x[0])));
        assert!(xs.iter().all(|x| x[1].fract() == 0.0 && (0.0..=8.0).contains(&x[1])));
    }

    #[test]
    fn draws_around_a_kernel_stay_near_it_and_on_the_support() {
        let dims = [Dim::Continuous { low: 0.0, high: 1.0 }, Dim::Stepped { low: 0.0, high: 20.0, step: 1.0 }];
        let obs = vec![vec![0.3, 3.0], vec![0.5, 10.0], vec![0.6, 18.0]];
        let pe = ParzenEstimator::new(&dims, &cols(&obs), None, &[1.0; 3], ParzenParams::default(), None);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let spread = |xs: &[Vec<f64>]| xs.iter().map(|x| (x[0] - 0.5).abs()).sum::<f64>() / xs.len() as f64;
        let wide = pe.sample_around(&mut rng, 1, 2000, 1.0);
        let narrow = pe.sample_around(&mut rng, 1, 2000, 0.5);
        assert!(spread(&narrow) < 0.65 * spread(&wide), "{} vs {}", spread(&narrow), spread(&wide));
        for x in wide.iter().chain(&narrow) {
            assert!((0.0..=1.0).contains(&x[0]) && x[1].fract() == 0.0 && (0.0..=20.0).contains(&x[1]), "{x:?}");
        }
    }

    #[test]
    fn unbounded_kernels_use_the_prior_scale() {
        let dims = [Dim::Unbounded { prior_mu: 0.0, prior_sigma: 1.0 }];
        let pe = ParzenEstimator::new(&dims, &[vec![5.0]], None, &[1.0], ParzenParams::default(), None);
        assert!((integrate(&pe, -15.0, 20.0, 40_000) - 1.0).abs() < 1e-4);
    }
}
