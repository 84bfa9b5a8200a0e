//! The operations a binding asks of the core, on strings (JSON) and numbers. The JNI exports and the
//! C ABI are thin doors onto these, so that the two bindings cannot drift apart.

use serde_json::{json, Value};
use sparktune_core::pruner::PrunerConfig;
use sparktune_core::store::stored_seed;
use sparktune_core::{space_eval as core_space_eval, Outcome, Point, Space, Study, VERSION};

use crate::error::{BridgeError, BridgeResult};
use crate::registry;

/// The core's version.
pub fn version() -> String {
    VERSION.to_owned()
}

/// Validates a space; `{"labels": [...]}` in first-appearance order.
pub fn validate_space(space_json: &str) -> BridgeResult<String> {
    let space = Space::from_json(space_json)?;
    Ok(json!({"labels": space.labels()}).to_string())
}

/// `space_eval`: the values of a space at a raw point.
pub fn space_eval(space_json: &str, point_json: &str) -> BridgeResult<String> {
    let space = Space::from_json(space_json)?;
    let point = Point::from_json(point_json)?;
    Ok(core_space_eval(&space, &point)?.to_string())
}

/// Creates (or resumes, from its store) a study; its handle. With `"seed_from_store": true` in the
/// config, a store that exists keeps the seed it was made with (the config's seed is for a new one),
/// so that a binding resumes a search without reading the journal itself; `info` tells the seed.
pub fn create_study(config_json: &str) -> BridgeResult<i64> {
    let mut config: Value = serde_json::from_str(config_json)
        .map_err(|e| BridgeError::invalid(format!("malformed JSON in study config: {e}")))?;
    let from_store = config.as_object_mut().and_then(|c| c.remove("seed_from_store"));
    if from_store.as_ref().and_then(Value::as_bool) == Some(true) {
        if let Some(path) = config.get("store").and_then(Value::as_str) {
            if let Some(seed) = stored_seed(std::path::Path::new(path))? {
                config["seed"] = Value::from(seed);
            }
        }
    }
    Ok(registry::insert(Study::from_json(&config.to_string())?))
}

/// Proposes `n` trials; a JSON array.
pub fn ask(handle: i64, n: i64) -> BridgeResult<String> {
    let n = usize::try_from(n).map_err(|_| BridgeError::invalid(format!("ask: n must be >= 0, got {n}")))?;
    registry::with(handle, |study| Ok(json_array(study.ask(n)?.iter().map(|t| t.to_json()))))
}

/// Starts a trial at a caller's raw point; the trial.
pub fn enqueue(handle: i64, point_json: &str) -> BridgeResult<String> {
    let point = Point::from_json(point_json)?;
    registry::with(handle, |study| Ok(study.enqueue(&point)?.to_json()))
}

/// Records a trial's outcome; the told trial.
pub fn tell(handle: i64, trial_id: i64, outcome_json: &str) -> BridgeResult<String> {
    let id = u64::try_from(trial_id)
        .map_err(|_| BridgeError::invalid(format!("tell: trial id must be >= 0, got {trial_id}")))?;
    let outcome = Outcome::from_json(outcome_json)?;
    registry::with(handle, |study| Ok(study.tell(id, outcome)?.to_json()))
}

/// Every trial; a JSON array.
pub fn trials(handle: i64) -> BridgeResult<String> {
    registry::with(handle, |study| Ok(json_array(study.trials().iter().map(|t| t.to_json()))))
}

/// The best trial, or `null`.
pub fn best(handle: i64) -> BridgeResult<String> {
    registry::with(handle, |study| Ok(study.best().map_or_else(|| "null".to_owned(), |t| t.to_json())))
}

/// What a binding shows of a study: direction, size, warnings (a reopened store's), labels.
pub fn info(handle: i64) -> BridgeResult<String> {
    registry::with(handle, |study| {
        Ok(json!({
            "direction": study.direction().name(),
            "n_trials": study.trials().len(),
            "seed": study.config().seed,
            "warnings": study.warnings(),
            "labels": study.space().labels(),
        })
        .to_string())
    })
}

/// The trials table as an Arrow IPC stream.
pub fn trials_arrow(handle: i64) -> BridgeResult<Vec<u8>> {
    registry::with(handle, |study| Ok(study.trials_arrow_ipc()?))
}

/// Closes a study (its journal is flushed and unlocked).
pub fn close_study(handle: i64) -> BridgeResult<()> {
    registry::remove(handle)
}

/// A pruner's decision on one intermediate value: `config_json` is a pruner config
/// (`{"kind": "median", ...}`), `report_json` is
/// `{"direction": "maximize", "step": 1, "value": 0.8, "others": [..]}`; the answer is
/// `{"prune": bool, "reason": "..." | null}`.
pub fn should_prune(config_json: &str, report_json: &str) -> BridgeResult<String> {
    let decision = PrunerConfig::from_json(config_json)?.decide_json(report_json)?;
    Ok(json!({"prune": decision.prune, "reason": decision.reason}).to_string())
}

/// Panics on purpose: the tests of both doors check that a panic arrives as an error and that the
/// caller lives on.
pub fn test_panic(message: &str) -> BridgeResult<()> {
    // The one deliberate panic of the crate (which denies clippy::panic elsewhere): a String payload,
    // as a formatted `panic!` in the core would carry.
    #[allow(clippy::panic)]
    std::panic::panic_any(message.to_owned())
}

fn json_array(items: impl Iterator<Item = String>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item);
    }
    out.push(']');
    out
}

/// Reads a JSON object's field of a C ABI call, naming it when missing or of the wrong type.
pub(crate) fn field<'a>(args: &'a Value, name: &str, method: &str) -> BridgeResult<&'a Value> {
    args.get(name).ok_or_else(|| BridgeError::invalid(format!("{method}: missing argument '{name}'")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparktune_core::ErrorKind;

    const CONFIG: &str =
        r#"{"space": {"sparktune_space": 1, "root": {"hp": "uniform", "label": "x", "low": 0, "high": 1}}}"#;

    #[test]
    fn a_study_round_trips_through_its_handle() -> BridgeResult<()> {
        let h = create_study(CONFIG)?;
        let asked: Value = serde_json::from_str(&ask(h, 2)?).map_err(|e| BridgeError::internal(e.to_string()))?;
        assert_eq!(asked.as_array().map(Vec::len), Some(2));
        let told = tell(h, 1, r#"{"state": "ok", "value": 0.5}"#)?;
        assert!(told.contains(r#""state":"ok""#), "{told}");
        assert!(best(h)?.contains(r#""id":1"#));
        close_study(h)?;
        assert_eq!(ask(h, 1).err().map(|e| e.kind), Some(ErrorKind::State));
        assert_eq!(close_study(h).err().map(|e| e.kind), Some(ErrorKind::State));
        Ok(())
    }

    #[test]
    fn a_pruner_decides_and_names_a_bad_config() -> BridgeResult<()> {
        let report = r#"{"direction": "maximize", "step": 1, "value": 0.5, "others": [0.9, 0.8, 0.7]}"#;
        let answer = should_prune(r#"{"kind": "median"}"#, report)?;
        assert!(answer.contains(r#""prune":true"#), "{answer}");
        let bad = should_prune(r#"{"kind": "bandit"}"#, report);
        assert!(bad.err().is_some_and(|e| e.kind == ErrorKind::InvalidInput && e.message.contains("slack")));
        Ok(())
    }

    #[test]
    fn bad_numbers_are_refused_by_name() -> BridgeResult<()> {
        let h = create_study(CONFIG)?;
        assert!(ask(h, -1).err().is_some_and(|e| e.message.contains("n must be >= 0")));
        assert!(tell(h, -3, "{}").err().is_some_and(|e| e.message.contains("trial id")));
        close_study(h)
    }
}
