//! Grid order (itertools.product / ParamGridBuilder), conditional sub-grids, the continuous-param error.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::{json, Value};
use sparktune_core::{Error, ErrorKind, GridSampler, Outcome, Study, StudyConfig};

fn grid_study(root: &str) -> Study {
    let config = format!(r#"{{"space": {{"sparktune_space": 1, "root": {root}}}, "sampler": {{"kind": "grid"}}}}"#);
    Study::from_json(&config).unwrap()
}

fn all_values(study: &mut Study) -> Vec<Value> {
    study.ask(10_000).unwrap().into_iter().map(|t| t.values).collect()
}

#[test]
fn the_last_label_varies_fastest() {
    let mut study = grid_study(
        r#"{"dict": {"a": {"hp": "choice", "label": "a", "options": [{"const": 1}, {"const": 2}]},
                     "b": {"hp": "choice", "label": "b", "options": [{"const": "x"}, {"const": "y"}, {"const": "z"}]}}}"#,
    );
    let got = all_values(&mut study);
    let want: Vec<Value> = [(1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z")]
        .into_iter()
        .map(|(a, b)| json!({"a": a, "b": b}))
        .collect();
    assert_eq!(got, want);
    // Points hold the option indices, in label order.
    let points: Vec<String> = study.trials().iter().map(|t| t.point.to_json_value().to_string()).collect();
    assert_eq!(points[1], r#"{"a":0,"b":1}"#);
}

#[test]
fn first_appearance_order_follows_the_tree_not_the_label_names() {
    // Labels z then a (dict key order), randint and uniformint enumerate their integers.
    let mut study = grid_study(
        r#"{"list": [{"hp": "randint", "label": "z", "low": 5, "high": 7},
                     {"dict": {"k": {"hp": "uniformint", "label": "a", "low": 0, "high": 4, "q": 2}}},
                     {"hp": "pchoice", "label": "p", "options": [{"p": 0.9, "value": {"const": "p0"}}, {"p": 0.1, "value": {"const": "p1"}}]}]}"#,
    );
    let got = all_values(&mut study);
    let mut want = Vec::new();
    for z in [5, 6] {
        for a in [0, 2, 4] {
            for p in ["p0", "p1"] {
                want.push(json!([z, {"k": a}, p]));
            }
        }
    }
    assert_eq!(got, want);
    assert!(got.iter().all(|v| v[0].is_i64() && v[1]["k"].is_i64()));
}

#[test]
fn conditional_labels_get_a_sub_grid_per_option() {
    let mut study = grid_study(
        r#"{"dict": {
            "a": {"hp": "choice", "label": "a", "options": [
                {"dict": {"b": {"hp": "choice", "label": "b", "options": [{"const": 1}, {"const": 2}]}}},
                {"dict": {"c": {"hp": "randint", "label": "c", "low": 0, "high": 3}}},
                {"const": "plain"}]},
            "d": {"hp": "choice", "label": "d", "options": [{"const": "x"}, {"const": "y"}]}}}"#,
    );
    let got = all_values(&mut study);
    let mut want = Vec::new();
    for a in [json!({"b": 1}), json!({"b": 2}), json!({"c": 0}), json!({"c": 1}), json!({"c": 2}), json!("plain")] {
        for d in ["x", "y"] {
            want.push(json!({"a": a, "d": d}));
        }
    }
    assert_eq!(got, want);
    // Inactive labels are not in the points.
    let t = &study.trials()[4];
    assert_eq!(t.point.to_json_value(), json!({"a": 1, "c": 0, "d": 0}));
}

#[test]
fn continuous_parameters_cannot_be_enumerated() {
    for (kind, extra) in [
        ("uniform", r#""low": 0, "high": 1"#),
        ("loguniform", r#""low": 0, "high": 1"#),
        ("quniform", r#""low": 0, "high": 1, "q": 0.5"#),
        ("qloguniform", r#""low": 0, "high": 1, "q": 0.5"#),
        ("normal", r#""mu": 0, "sigma": 1"#),
        ("lognormal", r#""mu": 0, "sigma": 1"#),
        ("qnormal", r#""mu": 0, "sigma": 1, "q": 1"#),
        ("qlognormal", r#""mu": 0, "sigma": 1, "q": 1"#),
    ] {
        // Nested under a choice option: still found.
        let root = format!(
            r#"{{"hp": "choice", "label": "c", "options": [{{"const": 0}}, {{"hp": "{kind}", "label": "x", {extra}}}]}}"#
        );
        let config = format!(r#"{{"space": {{"sparktune_space": 1, "root": {root}}}, "sampler": {{"kind": "grid"}}}}"#);
        let err = Study::from_json(&config).unwrap_err();
        assert!(matches!(err, Error::NotEnumerable { .. }), "{err:?}");
        assert_eq!(err.to_string(), format!("continuous parameter 'x' ({kind}) cannot be enumerated in a grid"));
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}

#[test]
fn an_exhausted_grid_asks_fewer_then_none() {
    let mut study = grid_study(r#"{"hp": "randint", "label": "r", "low": 0, "high": 5}"#);
    assert_eq!(study.ask(3).unwrap().len(), 3);
    let rest = study.ask(10).unwrap();
    assert_eq!(rest.iter().map(|t| t.id).collect::<Vec<_>>(), [3, 4]);
    assert!(study.ask(1).unwrap().is_empty());
    assert_eq!(study.trials().len(), 5);
    for id in 0..5 {
        study.tell(id, Outcome::ok(id as f64)).unwrap();
    }
    assert_eq!(study.best().unwrap().values, json!(0));
}

#[test]
fn a_space_without_parameters_is_one_point() {
    let mut study = grid_study(r#"{"dict": {"k": {"const": [1, 2]}}}"#);
    assert_eq!(all_values(&mut study), [json!({"k": [1, 2]})]);
}

#[test]
fn grid_point_indexing_is_mixed_radix_over_the_counts() {
    let space = common::space(
        r#"{"list": [{"hp": "randint", "label": "a", "low": 0, "high": 1000000},
                     {"hp": "randint", "label": "b", "low": 0, "high": 1000000},
                     {"hp": "randint", "label": "c", "low": 0, "high": 1000000}]}"#,
    );
    // 10^18 points: nothing is materialised, any index decodes directly.
    let grid = GridSampler::new(&space).unwrap();
    assert_eq!(grid.len(), 1_000_000_000_000_000_000);
    let p = grid.point(123_456_789_012_345_678).unwrap();
    assert_eq!(p.to_json_value(), json!({"a": 123_456, "b": 789_012, "c": 345_678}));
    assert!(grid.point(grid.len()).is_none());
    let config = StudyConfig { sampler: sparktune_core::SamplerConfig::Grid, ..StudyConfig::new(space) };
    assert_eq!(Study::new(config).unwrap().ask(2).unwrap()[1].values, json!([0, 0, 1]));
}
