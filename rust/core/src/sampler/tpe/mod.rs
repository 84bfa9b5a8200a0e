//! The Tree-structured Parzen Estimator (Bergstra et al., 2011), as optuna and hyperopt run it.
//!
//! The finished trials are split by value into the best `gamma` fraction ("below") and the rest
//! ("above"); a Parzen estimator is fitted to each, `n_ei_candidates` points are drawn from the below
//! one, and the candidate with the highest ratio l(x) / g(x) of the two densities is proposed.
//!
//! - **Groups.** Parameters that are active together (the same enclosing choice option) form a group,
//!   modelled jointly when `multivariate` is on (a product kernel per trial), one by one otherwise.
//!   Groups are sampled from the root down, so a conditional group is modelled only on the trials
//!   where its option was chosen: optuna's group decomposition, known from the space's tree.
//! - **Candidates.** Half of them are drawn around the best trial (from its kernel, narrowed)
//!   rather than from the whole below model, whose kernels are wide while it holds few trials: the
//!   best point is refined sooner, and l/g still decides between all candidates.
//! - **Pending trials.** With `constant_liar`, running trials join the above group, so that parallel
//!   asks spread out instead of proposing the same point. Failed trials are there too, as hyperopt
//!   counts them (an infinite loss): regions that fail are avoided, and nothing poisons the model.
//! - **Branches.** A choice that other parameters live under is judged by its options' past trials,
//!   which were proposed before an option's own model knew anything; so now and then
//!   (`branch_exploration`) the option is drawn from the prior instead, and the rest proposed as usual.
//! - **Startup.** The first `n_startup_trials` are quasi-random (scrambled Sobol), which covers the
//!   space more evenly than independent draws.
//! - **Determinism.** Every draw comes from the trial's own RNG ([`trial_rng`]) and the history, so
//!   the same seed gives the same trials, also after resuming from a store.

mod parzen;
mod transform;

use serde::{Deserialize, Serialize};

use self::parzen::{Dim, ParzenEstimator, ParzenParams};
use super::qmc::qmc_point;
use super::{trial_rng, Context, Sampler};
use crate::error::{Error, Result};
use crate::history::History;
use crate::space::{uniform01, Condition, ParamValue, Point, Space};
use crate::study::Direction;
use crate::trial::TrialState;

/// TPE's settings; every field has a default, so `{"kind": "tpe"}` is a complete config.
///
/// The defaults were chosen with `benches/tpe_quality.rs` (the shared suite's branin, hartmann6
/// and conditional "mixed" functions; median best over 50 seeds (`... -- 30 50`) at budgets 30
/// and 100; optuna's published medians over 10 seeds are 0.12, 0.59, 0.15 at 30 and 0.019, 0.12,
/// 0.019 at 100):
///
/// | settings                                        | budget 30            | budget 100             |
/// |-------------------------------------------------|----------------------|------------------------|
/// | gamma 0.2, 24 candidates, 10 startup            | 0.25, 1.00, 0.26     | 0.0051, 0.145, 0.0153  |
/// | the same, clip floor by group size              | 0.096, 0.87, 0.30    | 0.0005, 0.155, 0.068   |
/// | gamma 0.15, 24 candidates, 8 startup, floor     | 0.084, 0.79, 0.25    | 0.0011, 0.142, 0.0058  |
/// | gamma 0.15, 48 candidates, 8 startup, floor     | 0.064, 0.45, 0.21    | 0.0010, 0.064, 0.0054  |
/// | the same, half the candidates around the best   | 0.031, 0.59, 0.24    | 0.0012, 0.038, 0.0068  |
///
/// A smaller gamma exploits harder, and more candidates find the peak of l/g better, which the
/// 6-d function needs (24 or 32 candidates lost up to 2x on it); fewer startup trials leave the
/// model more of a small budget; the floor is `parzen::SHARP_DIMS`. Medians over 10 or even 50
/// seeds vary by 2x between seed sets, so the last row was also checked on 200 seeds (`... 200`)
/// and on 200 others drawn at random; before and after it:
///
/// | 200 seeds, local_fraction  | budget 30          | budget 100            |
/// |-----------------------------|--------------------|-----------------------|
/// | seeds 0..200, 0 (before)    | 0.063, 0.57, 0.23  | 0.0011, 0.124, 0.0060 |
/// | seeds 0..200, 0.5           | 0.048, 0.56, 0.26  | 0.0010, 0.039, 0.0077 |
/// | 200 others, 0 (before)      | 0.066, 0.59, 0.26  | 0.0012, 0.104, 0.0066 |
/// | 200 others, 0.5             | 0.045, 0.56, 0.26  | 0.0011, 0.038, 0.0065 |
///
/// The draws around the best trial halve the 6-d function's median at 100 and help the 2-d one
/// at 30; the conditional function is unchanged within noise. On the shared suite's own seeds
/// (`... -- 30 shared`: fmin's `rstate=np.random.default_rng(s)`, s in 0..10) the figures are
/// 0.015, 0.45, 0.29 at 30 and 0.0006, 0.072, 0.21 at 100 (before: 0.047, 0.70, 0.27 and 0.0009,
/// 0.140, 0.117). "mixed" hinges on whether a run leaves the "tree" branch (whose floor is 0.2)
/// for the "linear" one: about a third of the runs do not, within 100 trials, and five of those
/// ten seeds are among them. optuna does no better away from its ten seeds: over seeds 10..60 its
/// medians at 30 are 0.51, 1.04, 0.26, and over seeds 10..40 at 100, 0.034, 0.099, 0.039.
///
/// Hence `branch_exploration`: in 30% of proposals a branching choice takes its option from the
/// prior, the group's other parameters still ranked by l/g (a good `lr` goes with either branch),
/// and the option's own parameters from their model. SMAC interleaves random configurations for the
/// same reason; this leaves spaces without choices bit-identical. "mixed" over 1,000 seeds
/// (`... -- 100 1000`), runs that end in the worse branch (best >= 0.195) and the median:
///
/// | branch_exploration | budget 30    | budget 100    | shared seeds, 30 and 100 |
/// |--------------------|--------------|---------------|--------------------------|
/// | 0 (before)         | 643, 0.243   | 280, 0.0074   | 0.29, 0.21               |
/// | 0.2                | 593, 0.232   | 203, 0.0050   | 0.22, 0.013              |
/// | 0.3                | 573, 0.224   | 170, 0.0059   | 0.22, 0.013              |
///
/// A conditional group splits its own trials into below and above. Splitting them by the
/// ranking of all trials instead (optuna's and hyperopt's way; a group with none below then
/// draws from its prior) was worse on "mixed": 0.255 against 0.213 at 30, 0.034 against 0.0074
/// at 100 (300 seeds). So was exploring the least-tried option rather than one from the prior:
/// 0.219 against 0.224 at 30, but 0.0081 against 0.0059 at 100 (1,000 seeds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TpeConfig {
    /// Trials proposed quasi-randomly before the model takes over.
    pub n_startup_trials: usize,
    /// Candidates drawn from the below model at each proposal; more exploits harder.
    pub n_ei_candidates: usize,
    /// The fraction of finished trials that makes the below group...
    pub gamma: f64,
    /// ...capped at this many trials.
    pub max_below: usize,
    /// Model the parameters of a group jointly rather than one by one.
    pub multivariate: bool,
    /// Count running trials in the above group (see the module docs).
    pub constant_liar: bool,
    /// Weight of the prior kernel against an observation's 1.
    pub prior_weight: f64,
    /// The share of the candidates drawn around the best trial (from its kernel in the below model,
    /// narrowed by [`LOCAL_NARROW`]) rather than from the whole below model; all are ranked by l/g.
    pub local_fraction: f64,
    /// The chance that a proposal takes a branching choice's option from its prior rather than by
    /// l/g (see the module docs): a branch is judged by its past trials, tuned before its own model
    /// had learned anything, so without it a search can stay in a branch whose floor is worse.
    pub branch_exploration: f64,
}

/// How much narrower than its kernel in the below model the draws around the best trial are.
const LOCAL_NARROW: f64 = 0.6;

impl Default for TpeConfig {
    fn default() -> Self {
        TpeConfig {
            n_startup_trials: 8,
            n_ei_candidates: 48,
            gamma: 0.15,
            max_below: 25,
            multivariate: true,
            constant_liar: true,
            prior_weight: 1.0,
            local_fraction: 0.5,
            branch_exploration: 0.3,
        }
    }
}

impl TpeConfig {
    /// Checks the settings, naming the one that is wrong.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::InvalidArgument(format!("tpe sampler: {what}")));
        if self.n_ei_candidates == 0 {
            return bad("n_ei_candidates must be at least 1");
        }
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return bad(&format!("gamma must be in (0, 1], got {}", self.gamma));
        }
        if self.max_below == 0 {
            return bad("max_below must be at least 1");
        }
        if !(self.prior_weight.is_finite() && self.prior_weight >= 0.0) {
            return bad(&format!("prior_weight must be finite and >= 0, got {}", self.prior_weight));
        }
        if !(0.0..=1.0).contains(&self.local_fraction) {
            return bad(&format!("local_fraction must be in [0, 1], got {}", self.local_fraction));
        }
        if !(0.0..=1.0).contains(&self.branch_exploration) {
            return bad(&format!("branch_exploration must be in [0, 1], got {}", self.branch_exploration));
        }
        Ok(())
    }
}

/// Parameters sampled together: their indices in [`Space::params`] and how TPE models each.
#[derive(Clone, Debug)]
struct Group {
    condition: Option<Condition>,
    params: Vec<usize>,
    dims: Vec<Dim>,
    /// Positions in `dims` of the choices that other parameters live under.
    branches: Vec<usize>,
}

/// The TPE sampler. See the module docs.
#[derive(Clone, Debug)]
pub struct TpeSampler {
    config: TpeConfig,
    groups: Vec<Group>,
    columns: Columns,
}

/// The history as TPE models it, kept across proposals: per parameter, every trial's value in
/// internal coordinates (NaN where inactive) and the active trials sorted by that value, so that a
/// proposal finds each observation's neighbours by a walk rather than a sort. Extended as trials
/// arrive; rebuilt if the history was rolled back (a failed ask).
#[derive(Clone, Debug, Default)]
struct Columns {
    epoch: u64,
    len: usize,
    internal: Vec<Vec<f64>>,
    sorted: Vec<Vec<u32>>,
    /// Per parameter and trial, its kernel's last (sigma, ln normaliser): see `ParzenEstimator::new`.
    norms: Vec<Vec<(f64, f64)>>,
}

impl Columns {
    fn update(&mut self, space: &Space, history: &History) {
        let n_params = space.params().len();
        if history.epoch() != self.epoch || history.len() < self.len || self.internal.len() != n_params {
            *self = Columns {
                epoch: history.epoch(),
                len: 0,
                internal: vec![Vec::new(); n_params],
                sorted: vec![Vec::new(); n_params],
                norms: vec![Vec::new(); n_params],
            };
        }
        for (p, param) in space.params().iter().enumerate() {
            let raw = history.column(p);
            let (internal, sorted) = (&mut self.internal[p], &mut self.sorted[p]);
            for (i, &r) in raw.iter().enumerate().take(history.len()).skip(self.len) {
                let x = if r.is_nan() { f64::NAN } else { transform::to_internal(&param.domain, r) };
                internal.push(x);
                if !x.is_nan() {
                    // Ties keep id order: the new trial has the largest id.
                    let at = sorted.partition_point(|&j| internal[j as usize] <= x);
                    sorted.insert(at, i as u32);
                }
            }
        }
        for norms in &mut self.norms {
            norms.resize(history.len(), (f64::NAN, 0.0));
        }
        self.len = history.len();
    }

    /// One column per parameter of `params`, the values of trials `ids`, and for each column the
    /// positions in `ids` sorted by value. `slot` is scratch of the history's length.
    fn observe(&self, params: &[usize], ids: &[usize], slot: &mut [u32]) -> (Vec<Vec<f64>>, Vec<Vec<u32>>) {
        for (k, &i) in ids.iter().enumerate() {
            slot[i] = k as u32;
        }
        let mut values = Vec::with_capacity(params.len());
        let mut orders = Vec::with_capacity(params.len());
        for &p in params {
            let internal = &self.internal[p];
            values.push(ids.iter().map(|&i| internal[i]).collect::<Vec<f64>>());
            // Sized up front: a filtered collect would grow it step by step.
            let mut order = Vec::with_capacity(ids.len());
            order.extend(self.sorted[p].iter().map(|&i| slot[i as usize]).filter(|&k| k != u32::MAX));
            orders.push(order);
        }
        for &i in ids {
            slot[i] = u32::MAX;
        }
        (values, orders)
    }
}

impl TpeSampler {
    /// A TPE sampler for `space`.
    pub fn new(space: &Space, config: TpeConfig) -> Result<TpeSampler> {
        config.validate()?;
        let mut groups: Vec<Group> = Vec::new();
        let parents: Vec<usize> = space.params().iter().filter_map(|p| p.condition.map(|c| c.parent)).collect();
        for (index, param) in space.params().iter().enumerate() {
            let dim = transform::dim_of(&param.domain);
            let joint = config.multivariate;
            let group = match groups.iter_mut().position(|g| joint && g.condition == param.condition) {
                Some(at) => &mut groups[at],
                None => {
                    groups.push(Group { condition: param.condition, params: vec![], dims: vec![], branches: vec![] });
                    groups.last_mut().expect("just pushed")
                }
            };
            if parents.contains(&index) && matches!(dim, Dim::Categorical { .. }) {
                group.branches.push(group.dims.len());
            }
            group.params.push(index);
            group.dims.push(dim);
        }
        Ok(TpeSampler { config, groups, columns: Columns::default() })
    }

    /// The settings.
    pub fn config(&self) -> &TpeConfig {
        &self.config
    }

    /// Draws one group's internal coordinates from the model of the trials where it was active.
    fn sample_group(
        &mut self,
        group: &Group,
        ctx: &Context<'_>,
        rng: &mut impl rand_chacha::rand_core::RngCore,
    ) -> Vec<f64> {
        let history = ctx.history;
        let active = &self.columns.internal[group.params[0]];
        let sign = if ctx.direction == Direction::Maximize { -1.0 } else { 1.0 };
        // Sized up front, as are the groups below: grown step by step they cost reallocations.
        let mut finished: Vec<(f64, usize)> = Vec::with_capacity(history.len());
        let mut pending: Vec<usize> = Vec::new();
        for (i, (&state, &value)) in history.states().iter().zip(history.values()).enumerate() {
            if active.get(i).is_none_or(|x| x.is_nan()) {
                continue;
            }
            match state {
                TrialState::Ok => finished.push((sign * value, i)),
                // A pruned trial was worse than the median at its last step: a bad one.
                TrialState::Fail | TrialState::Pruned => pending.push(i),
                TrialState::Running if self.config.constant_liar => pending.push(i),
                _ => {}
            }
        }

        let params = ParzenParams {
            prior_weight: self.config.prior_weight,
            group_dims: group.dims.len(),
            ..ParzenParams::default()
        };
        let n_below = ((self.config.gamma * finished.len() as f64).ceil() as usize).min(self.config.max_below);
        if n_below > 0 && n_below < finished.len() {
            // Only the best n_below need ordering; ties go to the older trial.
            finished.select_nth_unstable_by(n_below - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        // Both groups in id order (the forgetting weights go oldest first), by a mark per trial.
        const BELOW: u8 = 1;
        const ABOVE: u8 = 2;
        let mut mark = vec![0u8; history.len()];
        finished[..n_below].iter().for_each(|&(_, i)| mark[i] = BELOW);
        let n_above = finished.len() - n_below + pending.len();
        finished[n_below..].iter().map(|&(_, i)| i).chain(pending).for_each(|i| mark[i] = ABOVE);
        let mut below: Vec<usize> = Vec::with_capacity(n_below);
        below.extend((0..mark.len()).filter(|&i| mark[i] == BELOW));
        let mut above: Vec<usize> = Vec::with_capacity(n_above);
        above.extend((0..mark.len()).filter(|&i| mark[i] == ABOVE));

        let mut slot = vec![u32::MAX; history.len()];
        let mut norms: Vec<Vec<(f64, f64)>> =
            group.params.iter().map(|&p| std::mem::take(&mut self.columns.norms[p])).collect();
        let (values, orders) = self.columns.observe(&group.params, &below, &mut slot);
        let below_model = ParzenEstimator::new(
            &group.dims,
            &values,
            Some(&orders),
            &vec![1.0; below.len()],
            params,
            Some((&below, &mut norms)),
        );
        // Part of the candidates refine the best trial: the below model alone spreads them over all
        // its kernels, which at small budgets are wide, and in many dimensions rarely lands close.
        let n_local = if below.is_empty() {
            0
        } else {
            (self.config.local_fraction * self.config.n_ei_candidates as f64).round() as usize
        };
        let mut candidates = below_model.sample(rng, self.config.n_ei_candidates - n_local);
        if n_local > 0 {
            let best = finished[..n_below].iter().min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let k = best.and_then(|&(_, i)| below.iter().position(|&j| j == i)).unwrap_or(0);
            candidates.extend(below_model.sample_around(rng, k, n_local, LOCAL_NARROW));
        }
        let above_model = (!below.is_empty()).then(|| {
            let (values, orders) = self.columns.observe(&group.params, &above, &mut slot);
            let weights = forgetting_weights(above.len());
            ParzenEstimator::new(&group.dims, &values, Some(&orders), &weights, params, Some((&above, &mut norms)))
        });
        for (&p, n) in group.params.iter().zip(norms) {
            self.columns.norms[p] = n;
        }
        let Some(above_model) = above_model else {
            // Nothing good known yet in this group: a draw from the prior kernel alone.
            return candidates.into_iter().next().unwrap_or_default();
        };
        // Now and then a branch is taken at random, the rest of the group still ranked by l/g.
        if !group.branches.is_empty() && self.config.branch_exploration > 0.0 {
            for &d in &group.branches {
                if uniform01(rng) < self.config.branch_exploration {
                    let Dim::Categorical { prior } = &group.dims[d] else { continue };
                    let option = draw_option(prior, uniform01(rng));
                    candidates.iter_mut().for_each(|c| c[d] = option);
                }
            }
        }
        let l = below_model.log_pdf(&candidates);
        let g = above_model.log_pdf(&candidates);
        let best =
            (0..candidates.len()).max_by(|&a, &b| (l[a] - g[a]).total_cmp(&(l[b] - g[b])).then(b.cmp(&a))).unwrap_or(0);
        candidates.into_iter().nth(best).unwrap_or_default()
    }
}

impl Sampler for TpeSampler {
    fn name(&self) -> &'static str {
        "tpe"
    }

    fn sample(&mut self, ctx: &Context<'_>) -> Result<Option<Point>> {
        let states = ctx.history.states();
        let started = states.iter().filter(|s| **s != TrialState::Cancelled).count();
        let any_ok = states.contains(&TrialState::Ok);
        if started < self.config.n_startup_trials || !any_ok {
            return Ok(Some(qmc_point(ctx.space, ctx.seed, ctx.trial_id)));
        }
        self.columns.update(ctx.space, ctx.history);
        let mut rng = trial_rng(ctx.seed, ctx.trial_id);
        let space_params = ctx.space.params();
        let mut chosen: Vec<Option<ParamValue>> = vec![None; space_params.len()];
        // Taken out for the loop (sample_group updates the columns' memo); put back after it.
        let groups = std::mem::take(&mut self.groups);
        for group in &groups {
            // Parents come before their options' parameters, so the condition is already decided.
            let active =
                group.condition.is_none_or(|c| chosen[c.parent].and_then(ParamValue::as_i64) == Some(c.option as i64));
            if !active {
                continue;
            }
            let xs = self.sample_group(group, ctx, &mut rng);
            for (&p, &x) in group.params.iter().zip(&xs) {
                chosen[p] = Some(transform::from_internal(&space_params[p].domain, x));
            }
        }
        self.groups = groups;
        let mut point = Point::new();
        for (param, value) in space_params.iter().zip(chosen) {
            if let Some(v) = value {
                point.insert(param.label.clone(), v);
            }
        }
        Ok(Some(point))
    }
}

/// The option of `prior` at cumulative probability `u`.
fn draw_option(prior: &[f64], u: f64) -> f64 {
    let mut acc = 0.0;
    for (i, p) in prior.iter().enumerate() {
        acc += p;
        if u < acc {
            return i as f64;
        }
    }
    (prior.len() - 1) as f64
}

/// optuna's weights for the above group, oldest first: the newest 25 weigh 1, older ones ramp
/// linearly down to 1/n, so that the model follows where the search has moved.
fn forgetting_weights(n: usize) -> Vec<f64> {
    const FLAT: usize = 25;
    if n < FLAT {
        return vec![1.0; n];
    }
    let ramp = n - FLAT;
    let mut w: Vec<f64> = (0..ramp)
        .map(|i| {
            let t = if ramp > 1 { i as f64 / (ramp - 1) as f64 } else { 0.0 };
            1.0 / n as f64 + t * (1.0 - 1.0 / n as f64)
        })
        .collect();
    w.extend(std::iter::repeat_n(1.0, FLAT));
    w
}
