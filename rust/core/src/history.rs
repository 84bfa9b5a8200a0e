//! The study's trials in columns of plain numbers, for samplers that model the history (TPE):
//! no JSON and no label lookups on their hot path.

use crate::error::{Error, Result};
use crate::space::{Point, Space};
use crate::trial::TrialState;

/// One column per parameter (in [`Space::params`] order) and one row per trial (in id order).
#[derive(Clone, Debug, Default)]
pub struct History {
    /// `columns[param][trial]`: the raw value as f64 (option index, integer or float); NaN when inactive.
    columns: Vec<Vec<f64>>,
    states: Vec<TrialState>,
    /// The objective's value; NaN when the trial has none.
    values: Vec<f64>,
    /// How many times trials were dropped: a sampler's cache of earlier rows is stale once it changes.
    epoch: u64,
}

impl History {
    /// An empty history for `space`.
    pub fn new(space: &Space) -> History {
        History { columns: vec![Vec::new(); space.params().len()], states: Vec::new(), values: Vec::new(), epoch: 0 }
    }

    /// How many trials.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether there is no trial.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The values of parameter `param` (an index into [`Space::params`]), one per trial; NaN where
    /// the parameter was inactive.
    pub fn column(&self, param: usize) -> &[f64] {
        self.columns.get(param).map_or(&[], Vec::as_slice)
    }

    /// Changes whenever trials are dropped (a rolled-back ask): rows a sampler cached from an
    /// earlier epoch may since have been replaced.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The trials' states, one per trial.
    pub fn states(&self) -> &[TrialState] {
        &self.states
    }

    /// The trials' objective values, one per trial; NaN where there is none (running, fail...).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Appends a running trial at `point`.
    pub(crate) fn push(&mut self, space: &Space, point: &Point) -> Result<()> {
        for column in &mut self.columns {
            column.push(f64::NAN);
        }
        for (label, value) in point.iter() {
            let index = space.index_of(label).ok_or_else(|| {
                Error::Internal(format!("a proposed point has label '{label}', unknown to the space"))
            })?;
            if let Some(cell) = self.columns[index].last_mut() {
                *cell = value.as_f64();
            }
        }
        self.states.push(TrialState::Running);
        self.values.push(f64::NAN);
        Ok(())
    }

    /// Records the outcome of trial `id`.
    pub(crate) fn finish(&mut self, id: usize, state: TrialState, value: Option<f64>) {
        if let (Some(s), Some(v)) = (self.states.get_mut(id), self.values.get_mut(id)) {
            *s = state;
            *v = value.unwrap_or(f64::NAN);
        }
    }

    /// Drops the trials from `len` on (a failed ask is rolled back).
    pub(crate) fn truncate(&mut self, len: usize) {
        if len < self.len() {
            self.epoch += 1;
        }
        for column in &mut self.columns {
            column.truncate(len);
        }
        self.states.truncate(len);
        self.values.truncate(len);
    }
}
