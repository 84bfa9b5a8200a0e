//! Ask / tell / best, the JSON forms of Trial, Outcome and StudyConfig, reproducibility from the seed.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::{json, Value};
use sparktune_core::{
    space_eval, Direction, Error, ErrorKind, Outcome, Point, SamplerConfig, Study, StudyConfig, Trial, TrialState,
};

const SPACE: &str = r#"{"sparktune_space": 1, "root": {"dict": {
    "lr": {"hp": "loguniform", "label": "lr", "low": -7, "high": 0},
    "layers": {"hp": "randint", "label": "layers", "low": 1, "high": 5},
    "model": {"hp": "choice", "label": "model", "options": [
        {"const": "linear"},
        {"dict": {"kind": {"const": "tree"}, "depth": {"hp": "quniform", "label": "depth", "low": 2, "high": 12, "q": 1}}}]}}}}"#;

fn study(seed: u64, direction: &str) -> Study {
    Study::from_json(&format!(r#"{{"space": {SPACE}, "seed": {seed}, "direction": "{direction}"}}"#)).unwrap()
}

fn points(trials: &[Trial]) -> Vec<Point> {
    trials.iter().map(|t| t.point.clone()).collect()
}

#[test]
fn same_seed_same_trials_different_seed_different_trials() {
    let a = study(42, "minimize").ask(20).unwrap();
    let b = study(42, "minimize").ask(20).unwrap();
    let c = study(43, "minimize").ask(20).unwrap();
    assert_eq!(points(&a), points(&b));
    assert_eq!(a.iter().map(|t| &t.values).collect::<Vec<_>>(), b.iter().map(|t| &t.values).collect::<Vec<_>>());
    let same = points(&a).iter().zip(points(&c)).filter(|(x, y)| **x == *y).count();
    assert_eq!(same, 0, "seeds 42 and 43 share {same} of 20 points");
}

#[test]
fn batches_do_not_change_the_draws() {
    // Each trial's draw depends on (seed, id) only: ask(10) == ask(3) + ask(7), told or not.
    let whole = study(9, "minimize").ask(10).unwrap();
    let mut s = study(9, "minimize");
    let mut parts = s.ask(3).unwrap();
    s.tell(1, Outcome::ok(0.5)).unwrap();
    parts.extend(s.ask(7).unwrap());
    assert_eq!(points(&whole), points(&parts));
}

#[test]
fn trials_record_the_point_and_the_evaluated_values() {
    let mut s = study(1, "minimize");
    let trials = s.ask(50).unwrap();
    for t in &trials {
        assert_eq!(t.state, TrialState::Running);
        assert_eq!(t.values, space_eval(s.space(), &t.point).unwrap());
        assert!(t.values["layers"].is_i64());
        assert_eq!(t.point.get("layers").unwrap().as_f64(), t.values["layers"].as_f64().unwrap());
        let lr = t.values["lr"].as_f64().unwrap();
        assert!(((-7.0f64).exp()..=1.0).contains(&lr));
        match t.point.get("model").unwrap().as_i64().unwrap() {
            0 => {
                assert_eq!(t.values["model"], json!("linear"));
                assert!(t.point.get("depth").is_none(), "inactive label in the point");
            }
            1 => {
                assert_eq!(t.values["model"]["kind"], json!("tree"));
                assert_eq!(t.values["model"]["depth"].as_f64(), t.point.get("depth").map(|d| d.as_f64()));
            }
            other => panic!("option {other}"),
        }
    }
    // Both options occur in 50 draws.
    assert!(trials.iter().any(|t| t.point.get("depth").is_some()));
    assert!(trials.iter().any(|t| t.point.get("depth").is_none()));
}

#[test]
fn best_minimizes_or_maximizes_and_ties_go_to_the_lowest_id() {
    for (direction, want) in [("minimize", 1), ("maximize", 3)] {
        let mut s = study(5, direction);
        s.ask(6).unwrap();
        assert!(s.best().is_none());
        s.tell(0, Outcome::ok(2.0)).unwrap();
        s.tell(4, Outcome::ok(1.0)).unwrap();
        s.tell(1, Outcome::ok(1.0)).unwrap(); // ties with 4, lower id
        s.tell(3, Outcome::ok(7.0)).unwrap();
        s.tell(2, Outcome::fail("diverged")).unwrap();
        s.tell(5, Outcome { value: Some(100.0), ..Outcome::cancelled() }).unwrap();
        assert_eq!(s.best().unwrap().id, want, "{direction}");
    }
    let mut s = study(5, "maximize");
    s.ask(2).unwrap();
    s.tell(0, Outcome::fail("x")).unwrap();
    assert!(s.best().is_none(), "a failed trial is never best");
    assert_eq!(s.direction(), Direction::Maximize);
}

#[test]
fn tell_errors_name_the_trial() {
    let mut s = study(0, "minimize");
    s.ask(2).unwrap();
    let err = s.tell(0, Outcome::ok(f64::NAN)).unwrap_err();
    assert_eq!(err.to_string(), "trial 0: value NaN is not finite, tell it as fail");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = s.tell(0, Outcome::ok(f64::INFINITY)).unwrap_err();
    assert!(err.to_string().contains("trial 0: value inf is not finite"), "{err}");
    let err = s.tell(0, Outcome { value: None, ..Outcome::ok(0.0) }).unwrap_err();
    assert!(err.to_string().contains("trial 0: state ok needs a value"), "{err}");
    let err = s.tell(0, Outcome::ok(1.0).with_metric("auc", f64::NAN)).unwrap_err();
    assert!(err.to_string().contains("metric 'auc'"), "{err}");
    let err = s.tell(0, Outcome { state: TrialState::Running, ..Outcome::cancelled() }).unwrap_err();
    assert!(err.to_string().contains("not running"), "{err}");
    // None of the refused tells changed the trial.
    assert_eq!(s.trials()[0].state, TrialState::Running);

    s.tell(0, Outcome::ok(1.0)).unwrap();
    let err = s.tell(0, Outcome::ok(2.0)).unwrap_err();
    assert!(matches!(err, Error::TrialState { id: 0, state: TrialState::Ok }), "{err:?}");
    assert_eq!(err.to_string(), "trial 0 is ok, not running: it cannot be told again");
    assert_eq!(err.kind(), ErrorKind::State);
    assert_eq!(s.trials()[0].value, Some(1.0));

    let err = s.tell(7, Outcome::ok(2.0)).unwrap_err();
    assert!(matches!(err, Error::UnknownTrial { id: 7, n_trials: 2 }), "{err:?}");
    assert!(err.to_string().contains("unknown trial 7"), "{err}");

    // A failed objective's NaN is dropped, not refused.
    let t = s.tell(1, Outcome { value: Some(f64::NAN), ..Outcome::fail("boom") }).unwrap();
    assert_eq!((t.state, t.value, t.error.as_deref()), (TrialState::Fail, None, Some("boom")));
}

#[test]
fn trial_json_has_exactly_the_contract_keys() {
    let mut s = study(3, "minimize");
    let t = s.ask(1).unwrap().remove(0);
    let running: Value = serde_json::from_str(&t.to_json()).unwrap();
    let keys: Vec<&str> = running.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["id", "state", "point", "values", "value", "metrics", "error", "attrs", "started_ms", "finished_ms"]
    );
    assert_eq!(running["state"], json!("running"));
    assert_eq!(running["value"], Value::Null);
    assert_eq!(running["finished_ms"], Value::Null);
    assert!(running["started_ms"].as_i64().unwrap() > 1_600_000_000_000);

    let outcome = Outcome::from_json(r#"{"state": "ok", "value": 0.93, "metrics": {"f1": 0.5}}"#).unwrap();
    let told = s.tell(0, outcome).unwrap().clone();
    let v: Value = serde_json::to_value(&told).unwrap();
    assert_eq!(v["state"], json!("ok"));
    assert_eq!(v["value"], json!(0.93));
    assert_eq!(v["metrics"], json!({"f1": 0.5}));
    assert!(v["finished_ms"].as_i64().unwrap() >= v["started_ms"].as_i64().unwrap());
    // And it reads back.
    let back: Trial = serde_json::from_value(v).unwrap();
    assert_eq!(back, told);
}

#[test]
fn outcome_json_forms() {
    let o = Outcome::from_json(r#"{"state": "fail", "error": "OOM"}"#).unwrap();
    assert_eq!((o.state, o.error.as_deref(), o.value), (TrialState::Fail, Some("OOM"), None));
    let o = Outcome::from_json(r#"{"state": "cancelled"}"#).unwrap();
    assert_eq!(o, Outcome::cancelled());
    for bad in [r#"{"state": "done"}"#, r#"{"state": "ok", "value": 1, "extra": 2}"#, r#"{"value": 1}"#, "{"] {
        let err = Outcome::from_json(bad).unwrap_err();
        assert!(matches!(err, Error::Json { .. }), "{bad}: {err:?}");
        assert!(err.to_string().contains("outcome"), "{err}");
    }
}

#[test]
fn study_config_json_defaults_and_errors() {
    let c = StudyConfig::from_json(&format!(r#"{{"space": {SPACE}}}"#)).unwrap();
    assert_eq!((c.sampler, c.seed, c.direction, c.store), (SamplerConfig::Random, 0, Direction::Minimize, None));
    let c = StudyConfig::from_json(&format!(
        r#"{{"space": {SPACE}, "sampler": {{"kind": "grid"}}, "seed": 42, "direction": "maximize", "store": "/tmp/x.journal"}}"#
    ))
    .unwrap();
    assert_eq!((c.sampler, c.seed, c.direction), (SamplerConfig::Grid, 42, Direction::Maximize));
    assert_eq!(c.store.unwrap().to_str(), Some("/tmp/x.journal"));

    for (bad, needle) in [
        (format!(r#"{{"space": {SPACE}, "sampler": {{"kind": "bayes"}}}}"#), "bayes"),
        (format!(r#"{{"space": {SPACE}, "sampler": {{"kind": "random", "n": 1}}}}"#), "unknown field"),
        (format!(r#"{{"space": {SPACE}, "direction": "up"}}"#), "up"),
        (format!(r#"{{"space": {SPACE}, "seed": -1}}"#), "-1"),
        (format!(r#"{{"space": {SPACE}, "seeds": 1}}"#), "seeds"),
        (r#"{"seed": 1}"#.to_owned(), "missing field `space`"),
    ] {
        let err = StudyConfig::from_json(&bad).unwrap_err();
        assert!(matches!(err, Error::Json { .. }), "{bad}: {err:?}");
        assert!(err.to_string().contains(needle), "{bad}: {err}");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    // An invalid space keeps its typed error through the config.
    let err = Study::from_json(
        r#"{"space": {"sparktune_space": 1, "root": {"hp": "normal", "label": "n", "mu": 0, "sigma": -1}}}"#,
    )
    .unwrap_err();
    assert!(matches!(&err, Error::InvalidSpace { label: Some(l), .. } if l == "n"), "{err:?}");
}

#[test]
fn space_eval_checks_the_point() {
    let s = study(0, "minimize");
    let space = s.space();
    let eval = |p: &str| space_eval(space, &Point::from_json(p).unwrap());
    assert_eq!(
        eval(r#"{"lr": 0.01, "layers": 2, "model": 1, "depth": 4.0}"#).unwrap(),
        json!({"lr": 0.01, "layers": 2, "model": {"kind": "tree", "depth": 4.0}})
    );
    // Integral doubles are accepted for integer kinds (bindings that only know doubles).
    assert_eq!(eval(r#"{"lr": 0.01, "layers": 2.0, "model": 0.0}"#).unwrap()["layers"], json!(2));
    // An inactive label is ignored, as hyperopt does.
    assert_eq!(eval(r#"{"lr": 0.01, "layers": 2, "model": 0, "depth": 3}"#).unwrap()["model"], json!("linear"));
    for (p, needle) in [
        (r#"{"lr": 0.01, "layers": 2}"#, "no value for the active label 'model'"),
        (r#"{"lr": 0.01, "layers": 2, "model": 2}"#, "label 'model': option index 2 is out of range"),
        (r#"{"lr": 0.01, "layers": 2.5, "model": 0}"#, "label 'layers': a randint takes an integer"),
        (r#"{"lr": 0.01, "layers": 2, "model": 0, "momentum": 1}"#, "label 'momentum'"),
    ] {
        let err = eval(p).unwrap_err();
        assert!(err.to_string().contains(needle), "{p}: {err}");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    assert!(Point::from_json(r#"{"a": "x"}"#).is_err());
}

#[test]
fn the_history_columns_follow_the_trials() {
    let mut s = study(2, "minimize");
    let trials = s.ask(30).unwrap();
    s.tell(3, Outcome::ok(0.25)).unwrap();
    let depth = s.space().index_of("depth").unwrap();
    let h = s.history();
    assert_eq!(h.len(), 30);
    for t in &trials {
        let cell = h.column(depth)[t.id as usize];
        match t.point.get("depth") {
            Some(v) => assert_eq!(cell, v.as_f64()),
            None => assert!(cell.is_nan()),
        }
    }
    assert_eq!(h.states()[3], TrialState::Ok);
    assert_eq!(h.values()[3], 0.25);
    assert!(h.values()[4].is_nan());
}

#[test]
fn enqueued_points_run_as_given_reduced_to_their_active_labels() {
    let space_json = r#"{"sparktune_space": 1, "root": {"dict": {
        "lr": {"hp": "loguniform", "label": "lr", "low": -7, "high": 0},
        "m": {"hp": "choice", "label": "m", "options": [
            {"const": "linear"},
            {"dict": {"depth": {"hp": "randint", "label": "depth", "low": 2, "high": 9}}}]}}}}"#;
    let mut study = Study::from_json(&format!(r#"{{"space": {space_json}, "sampler": {{"kind": "tpe"}}}}"#)).unwrap();
    // An inactive label (depth under option 0) is dropped; integral floats become integers.
    let t = study.enqueue(&Point::from_json(r#"{"lr": 0.01, "m": 0.0, "depth": 4}"#).unwrap()).unwrap();
    assert_eq!(t.point.to_json_value(), serde_json::json!({"lr": 0.01, "m": 0}));
    assert_eq!(t.values, serde_json::json!({"lr": 0.01, "m": "linear"}));
    assert_eq!(t.state, TrialState::Running);
    study.tell(t.id, Outcome::ok(1.0)).unwrap();
    // The next ask continues the ids.
    assert_eq!(study.ask(1).unwrap()[0].id, 1);

    for (bad, needle) in [
        (r#"{"lr": 0.01, "m": 1}"#, "'depth'"),
        (r#"{"lr": 0.01, "m": 5}"#, "'m'"),
        (r#"{"lr": 0.01, "m": 0, "typo": 3}"#, "'typo'"),
        (r#"{"lr": 0.01, "m": 1, "depth": 2.5}"#, "'depth'"),
    ] {
        let err = study.enqueue(&Point::from_json(bad).unwrap()).unwrap_err().to_string();
        assert!(err.contains(needle), "{bad}: {err}");
    }
    assert_eq!(study.trials().len(), 2, "a refused point leaves no trial behind");
}

#[test]
fn attrs_are_kept_with_the_outcome_and_survive_a_reopen() {
    let path = common::temp_path("attrs.journal");
    let config = format!(
        r#"{{"space": {{"sparktune_space": 1, "root": {{"hp": "uniform", "label": "x", "low": 0, "high": 1}}}}, "store": {}}}"#,
        serde_json::to_string(path.to_str().unwrap()).unwrap()
    );
    let attrs = serde_json::json!({"loss_variance": 0.1, "notes": ["a", "b"]});
    {
        let mut study = Study::from_json(&config).unwrap();
        let t = study.ask(1).unwrap().remove(0);
        let told = study.tell(t.id, Outcome::ok(0.5).with_attrs(attrs.clone())).unwrap();
        assert_eq!(told.attrs, attrs);
        let e = study.enqueue(&Point::from_json(r#"{"x": 0.25}"#).unwrap()).unwrap();
        study.tell(e.id, Outcome::fail("boom")).unwrap();
    }
    let study = Study::from_json(&config).unwrap();
    assert_eq!(study.trials().len(), 2);
    assert_eq!(study.trials()[0].attrs, attrs);
    assert_eq!(study.trials()[1].point.to_json_value(), serde_json::json!({"x": 0.25}));
    assert_eq!(study.trials()[1].state, TrialState::Fail);
}
