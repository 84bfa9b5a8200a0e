//! The study: the config, the sampler, the trials, and (optionally) the journal that keeps them.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::history::History;
use crate::sampler::{Context, Sampler, SamplerConfig};
use crate::space::{space_eval, ParamValue, Point, Space};
use crate::store::journal::{Journal, Record, Replay};
use crate::trial::{Outcome, Trial, TrialState};

/// The error of trials found running in a reopened store.
pub const ABANDONED: &str = "abandoned: the process running it stopped";

/// The most trials one `ask` proposes: more is a caller's mistake, better refused than run out of memory.
pub const MAX_ASK: usize = 1_000_000;

/// Whether lower or higher values are better.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Lower is better (a loss).
    #[default]
    Minimize,
    /// Higher is better (an accuracy).
    Maximize,
}

impl Direction {
    /// The name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Minimize => "minimize",
            Direction::Maximize => "maximize",
        }
    }

    /// Whether `a` is strictly better than `b`.
    pub fn is_better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Minimize => a < b,
            Direction::Maximize => a > b,
        }
    }
}

/// What a study is made of (the JSON every binding sends):
/// `{"space": {...}, "sampler": {"kind": "random"}, "seed": 42, "direction": "minimize", "store": "/path"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyConfig {
    /// The search space.
    pub space: Space,
    /// The sampler (random when absent).
    #[serde(default)]
    pub sampler: SamplerConfig,
    /// The seed (0 when absent).
    #[serde(default)]
    pub seed: u64,
    /// Minimize (default) or maximize.
    #[serde(default)]
    pub direction: Direction,
    /// The journal file; in memory when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<PathBuf>,
}

impl StudyConfig {
    /// A config with the random sampler, seed 0, minimize, in memory.
    pub fn new(space: Space) -> StudyConfig {
        StudyConfig { space, sampler: SamplerConfig::Random, seed: 0, direction: Direction::Minimize, store: None }
    }

    /// Reads a config from JSON; an invalid space gives its own typed error (label, path, rule).
    pub fn from_json(s: &str) -> Result<StudyConfig> {
        let value: Value = serde_json::from_str(s).map_err(|e| Error::json("study config", &e))?;
        if let Some(space) = value.get("space") {
            Space::from_value(space)?;
        }
        serde_json::from_value(value).map_err(|e| Error::json("study config", &e))
    }
}

/// A hyperparameter search: ask for trials, tell their outcomes, read the best.
///
/// ```
/// use sparktune_core::{Outcome, Study};
/// let mut study = Study::from_json(r#"{"space": {"sparktune_space": 1, "root":
///     {"hp": "uniform", "label": "x", "low": -1, "high": 1}}, "seed": 7}"#)?;
/// for trial in study.ask(4)? {
///     let x = trial.values.as_f64().unwrap_or(0.0);
///     study.tell(trial.id, Outcome::ok(x * x))?;
/// }
/// assert_eq!(study.trials().len(), 4);
/// assert!(study.best().is_some());
/// # Ok::<(), sparktune_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Study {
    config: StudyConfig,
    sampler: Box<dyn Sampler>,
    trials: Vec<Trial>,
    history: History,
    /// Index of the best ok trial, kept as trials are told.
    best: Option<usize>,
    warnings: Vec<String>,
    journal: Option<Journal>,
}

impl Study {
    /// Creates the study, or resumes it from `config.store` when the file holds one.
    pub fn new(config: StudyConfig) -> Result<Study> {
        let sampler = config.sampler.build(&config.space)?;
        Study::with_sampler(config, sampler)
    }

    /// Creates the study from its JSON config (see [`StudyConfig`]).
    pub fn from_json(config: &str) -> Result<Study> {
        Study::new(StudyConfig::from_json(config)?)
    }

    /// Creates the study with a sampler of the caller's (the config's `sampler` is still what a
    /// store records and checks).
    pub fn with_sampler(config: StudyConfig, sampler: Box<dyn Sampler>) -> Result<Study> {
        let history = History::new(&config.space);
        let mut study =
            Study { config, sampler, trials: Vec::new(), history, best: None, warnings: Vec::new(), journal: None };
        if let Some(path) = study.config.store.clone() {
            let Replay { journal, records, warnings } = Journal::open(&path, &study.config)?;
            study.warnings = warnings;
            for (line, record) in records {
                study.replay(record).map_err(|e| Error::store(&path, format!("line {line}: {e}")))?;
            }
            study.journal = Some(journal);
            study.cancel_abandoned()?;
        }
        Ok(study)
    }

    /// Proposes `n` new trials, running from now on; fewer when the sampler has no more (a grid).
    /// With a store, the asks are written (not synced: a lost ask is proposed again identically).
    pub fn ask(&mut self, n: usize) -> Result<Vec<Trial>> {
        if n > MAX_ASK {
            return Err(Error::InvalidArgument(format!("ask({n}): at most {MAX_ASK} trials at once")));
        }
        let start = self.trials.len();
        let result = self.ask_into_memory(n).and_then(|()| match &mut self.journal {
            Some(journal) => journal.append(self.trials[start..].iter().map(Record::ask)),
            None => Ok(()),
        });
        if let Err(e) = result {
            self.trials.truncate(start);
            self.history.truncate(start);
            return Err(e);
        }
        Ok(self.trials[start..].to_vec())
    }

    /// Starts a trial at a point of the caller's (hyperopt's `points_to_evaluate`, a configuration a
    /// user wants tried first). The point is checked against the space and reduced to its active
    /// labels; the trial is journaled like an asked one.
    pub fn enqueue(&mut self, point: &Point) -> Result<Trial> {
        space_eval(&self.config.space, point)?;
        let point = active_part(&self.config.space, point);
        let id = self.trials.len() as u64;
        self.push_running(id, point, now_ms())?;
        if let Some(journal) = &mut self.journal {
            let index = self.trials.len() - 1;
            if let Err(e) = journal.append(std::iter::once(Record::ask(&self.trials[index]))) {
                self.trials.truncate(index);
                self.history.truncate(index);
                return Err(e);
            }
        }
        Ok(self.trials[id as usize].clone())
    }

    fn ask_into_memory(&mut self, n: usize) -> Result<()> {
        let started_ms = now_ms();
        for _ in 0..n {
            let trial_id = self.trials.len() as u64;
            let ctx = Context {
                space: &self.config.space,
                history: &self.history,
                trials: &self.trials,
                direction: self.config.direction,
                seed: self.config.seed,
                trial_id,
            };
            let Some(point) = self.sampler.sample(&ctx)? else { break };
            self.push_running(trial_id, point, started_ms)?;
        }
        Ok(())
    }

    fn push_running(&mut self, id: u64, point: Point, started_ms: i64) -> Result<()> {
        let values = space_eval(&self.config.space, &point)?;
        self.history.push(&self.config.space, &point)?;
        self.trials.push(Trial {
            id,
            state: TrialState::Running,
            point,
            values,
            value: None,
            metrics: Default::default(),
            error: None,
            attrs: Value::Null,
            started_ms,
            finished_ms: None,
        });
        Ok(())
    }

    /// Records the outcome of running trial `id`; with a store, the record is on disk (fsync)
    /// before this returns.
    pub fn tell(&mut self, id: u64, outcome: Outcome) -> Result<&Trial> {
        let index = self.running_index(id)?;
        outcome.check(id)?;
        let finished_ms = now_ms();
        if let Some(journal) = &mut self.journal {
            journal.append_synced(std::iter::once(Record::tell(id, &outcome, finished_ms)))?;
        }
        self.finish(index, outcome, finished_ms);
        Ok(&self.trials[index])
    }

    fn running_index(&self, id: u64) -> Result<usize> {
        let index = usize::try_from(id)
            .ok()
            .filter(|&i| i < self.trials.len())
            .ok_or(Error::UnknownTrial { id, n_trials: self.trials.len() })?;
        match self.trials[index].state {
            TrialState::Running => Ok(index),
            state => Err(Error::TrialState { id, state }),
        }
    }

    fn finish(&mut self, index: usize, outcome: Outcome, finished_ms: i64) {
        let Outcome { state, value, metrics, error, attrs } = outcome;
        // A value is kept for fail and cancelled only when it is a number (NaN is what a failed objective gives).
        let value = value.filter(|v| v.is_finite());
        let trial = &mut self.trials[index];
        trial.state = state;
        trial.value = value;
        trial.metrics = metrics;
        trial.error = error;
        trial.attrs = attrs;
        trial.finished_ms = Some(finished_ms);
        self.history.finish(index, state, value);
        if let (TrialState::Ok, Some(v)) = (state, value) {
            let direction = self.config.direction;
            let better = match self.best.and_then(|b| self.trials[b].value) {
                None => true,
                // Ties keep the lower id, which was told first or asked first.
                Some(best) => direction.is_better(v, best) || (v == best && self.best > Some(index)),
            };
            if better {
                self.best = Some(index);
            }
        }
        let ctx = Context {
            space: &self.config.space,
            history: &self.history,
            trials: &self.trials,
            direction: self.config.direction,
            seed: self.config.seed,
            trial_id: self.trials.len() as u64,
        };
        self.sampler.after_tell(&ctx, &self.trials[index]);
    }

    /// Applies one journal record (after the study record).
    fn replay(&mut self, record: Record) -> Result<()> {
        match record {
            Record::Study { .. } => Err(Error::InvalidArgument("a second study record".to_owned())),
            Record::Ask { id, point, started_ms } => {
                if id != self.trials.len() as u64 {
                    return Err(Error::InvalidArgument(format!(
                        "ask of trial {id} where trial {} was expected",
                        self.trials.len()
                    )));
                }
                self.push_running(id, point, started_ms)
            }
            Record::Tell { id, state, value, metrics, error, attrs, finished_ms } => {
                let index = self.running_index(id)?;
                let outcome = Outcome { state, value, metrics, error, attrs };
                outcome.check(id)?;
                self.finish(index, outcome, finished_ms);
                Ok(())
            }
        }
    }

    /// Trials left running by a process that stopped: cancelled, and so recorded.
    fn cancel_abandoned(&mut self) -> Result<()> {
        let running: Vec<u64> = self.trials.iter().filter(|t| t.state == TrialState::Running).map(|t| t.id).collect();
        if running.is_empty() {
            return Ok(());
        }
        let finished_ms = now_ms();
        let outcome = Outcome { error: Some(ABANDONED.to_owned()), ..Outcome::cancelled() };
        if let Some(journal) = &mut self.journal {
            journal.append_synced(running.iter().map(|&id| Record::tell(id, &outcome, finished_ms)))?;
            self.warnings.push(format!(
                "store {}: {} trial(s) were running when the store was last used and are now cancelled ({ABANDONED}): ids {:?}",
                journal.path().display(),
                running.len(),
                running
            ));
        }
        for id in running {
            self.finish(id as usize, outcome.clone(), finished_ms);
        }
        Ok(())
    }

    /// Every trial, in id order.
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }

    /// The trial with id `id`.
    pub fn trial(&self, id: u64) -> Option<&Trial> {
        usize::try_from(id).ok().and_then(|i| self.trials.get(i))
    }

    /// The ok trial with the best value (ties: the lowest id), if any.
    pub fn best(&self) -> Option<&Trial> {
        self.best.map(|i| &self.trials[i])
    }

    /// Warnings gathered when opening the study (a torn record dropped, abandoned trials cancelled).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The search space.
    pub fn space(&self) -> &Space {
        &self.config.space
    }

    /// Whether lower or higher values are better.
    pub fn direction(&self) -> Direction {
        self.config.direction
    }

    /// The config the study was made with.
    pub fn config(&self) -> &StudyConfig {
        &self.config
    }

    /// The trials in columns, as the samplers see them.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The trials table as an Arrow IPC stream (see [`crate::store::trials_arrow_ipc`]).
    pub fn trials_arrow_ipc(&self) -> Result<Vec<u8>> {
        crate::store::trials_arrow_ipc(&self.config.space, &self.trials)
    }
}

/// Milliseconds since the Unix epoch (0 for a clock set before 1970).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The labels of `point` that are active in `space` (a point that `space_eval` accepted), each as its
/// kind stores it: integers for the integer kinds, floats for the others.
fn active_part(space: &Space, point: &Point) -> Point {
    let params = space.params();
    let mut chosen: Vec<Option<ParamValue>> = vec![None; params.len()];
    let mut active = Point::new();
    for (i, param) in params.iter().enumerate() {
        let on = param.condition.is_none_or(|c| chosen[c.parent].and_then(ParamValue::as_i64) == Some(c.option as i64));
        let Some(value) = point.get(&param.label).filter(|_| on) else { continue };
        let value = match value.as_i64() {
            Some(i) if param.kind().is_integer() => ParamValue::Int(i),
            _ => ParamValue::Float(value.as_f64()),
        };
        chosen[i] = Some(value);
        active.insert(param.label.clone(), value);
    }
    active
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_study_can_move_between_threads() {
        // The JNI registry keeps studies in Arc<Mutex<Study>>, shared by JVM threads.
        fn assert_send<T: Send + 'static>() {}
        assert_send::<Study>();
        assert_send::<Error>();
    }

    #[test]
    fn ask_refuses_absurd_batches() {
        let space =
            Space::from_json(r#"{"sparktune_space": 1, "root": {"hp": "uniform", "label": "x", "low": 0, "high": 1}}"#);
        let mut study = space.and_then(|s| Study::new(StudyConfig::new(s))).expect("a valid study");
        let err = study.ask(MAX_ASK + 1).expect_err("refused");
        assert!(err.to_string().contains("at most 1000000"), "{err}");
        assert!(study.trials().is_empty());
    }
}
