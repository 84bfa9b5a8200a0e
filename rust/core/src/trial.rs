//! A trial (one proposed point and what became of it) and the outcome a caller tells.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::space::Point;

/// Where a trial is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialState {
    /// Asked, not yet told.
    Running,
    /// Finished with a value.
    Ok,
    /// Failed (the objective raised, or its value was not usable).
    Fail,
    /// Stopped before it finished (by the caller, or abandoned by a process that stopped).
    Cancelled,
    /// Stopped early by a pruner: its first intermediate values could not beat the others'.
    Pruned,
}

impl TrialState {
    /// The name used in JSON (`"running"`, `"ok"`, `"fail"`, `"cancelled"`, `"pruned"`).
    pub fn name(self) -> &'static str {
        match self {
            TrialState::Running => "running",
            TrialState::Ok => "ok",
            TrialState::Fail => "fail",
            TrialState::Cancelled => "cancelled",
            TrialState::Pruned => "pruned",
        }
    }

    /// Whether the trial is done (any state but running).
    pub fn is_finished(self) -> bool {
        self != TrialState::Running
    }
}

impl std::fmt::Display for TrialState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One trial: the point proposed, its evaluated values, and its outcome once told.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trial {
    /// Sequential id from 0, in ask order.
    pub id: u64,
    /// Where the trial is in its life.
    pub state: TrialState,
    /// The raw draw: label -> number for the active labels.
    pub point: Point,
    /// The space evaluated at the point (`space_eval`).
    pub values: Value,
    /// The objective's value (state ok; kept for fail when one was given and finite).
    pub value: Option<f64>,
    /// Further metrics the caller reported, by name.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Why the trial failed or was cancelled, when known.
    pub error: Option<String>,
    /// The caller's own attributes (any JSON; null when none), kept in the journal with the outcome:
    /// what a binding needs to rebuild its own view of a resumed trial (hyperopt's result dict).
    #[serde(default)]
    pub attrs: Value,
    /// When it was asked, in ms since the Unix epoch.
    pub started_ms: i64,
    /// When it was told, in ms since the Unix epoch.
    pub finished_ms: Option<i64>,
}

impl Trial {
    /// The trial as JSON text.
    pub fn to_json(&self) -> String {
        // A trial holds only strings, finite numbers and JSON values: serialising cannot fail,
        // and `to_value` + `to_string` keeps that without an unwrap.
        serde_json::to_value(self).map(|v| v.to_string()).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// What a caller tells about a finished trial.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// ok, fail, cancelled or pruned (running is refused).
    pub state: TrialState,
    /// The objective's value: required and finite for ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Further metrics by name (finite numbers).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
    /// Why the trial failed or was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The caller's own attributes, any JSON (see [`Trial::attrs`]).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub attrs: Value,
}

impl Outcome {
    /// A finished trial with its value.
    pub fn ok(value: f64) -> Outcome {
        Outcome { state: TrialState::Ok, value: Some(value), metrics: BTreeMap::new(), error: None, attrs: Value::Null }
    }

    /// A failed trial, with why.
    pub fn fail(error: impl Into<String>) -> Outcome {
        Outcome {
            state: TrialState::Fail,
            value: None,
            metrics: BTreeMap::new(),
            error: Some(error.into()),
            attrs: Value::Null,
        }
    }

    /// A cancelled trial.
    pub fn cancelled() -> Outcome {
        Outcome { state: TrialState::Cancelled, value: None, metrics: BTreeMap::new(), error: None, attrs: Value::Null }
    }

    /// Adds a metric.
    pub fn with_metric(mut self, name: impl Into<String>, value: f64) -> Outcome {
        self.metrics.insert(name.into(), value);
        self
    }

    /// Attaches the caller's own attributes.
    pub fn with_attrs(mut self, attrs: Value) -> Outcome {
        self.attrs = attrs;
        self
    }

    /// Reads an outcome from its JSON form
    /// (`{"state": "ok"|"fail"|"cancelled", "value": f?, "metrics": {..}?, "error": "..."?, "attrs": any?}`).
    pub fn from_json(s: &str) -> Result<Outcome> {
        serde_json::from_str(s).map_err(|e| Error::json("outcome", &e))
    }

    /// Checks the outcome for trial `id`: a finite value for ok, finite metrics, not running.
    pub(crate) fn check(&self, id: u64) -> Result<()> {
        match self.state {
            TrialState::Running => {
                return Err(Error::InvalidArgument(format!(
                    "trial {id}: an outcome's state is ok, fail or cancelled, not running"
                )))
            }
            TrialState::Ok => match self.value {
                None => return Err(Error::InvalidArgument(format!("trial {id}: state ok needs a value"))),
                Some(v) if !v.is_finite() => {
                    return Err(Error::InvalidArgument(format!("trial {id}: value {v} is not finite, tell it as fail")))
                }
                Some(_) => {}
            },
            TrialState::Fail | TrialState::Cancelled | TrialState::Pruned => {}
        }
        if let Some((name, v)) = self.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "trial {id}: metric '{name}' is {v}, not finite (JSON cannot carry it)"
            )));
        }
        Ok(())
    }
}
