//! Every validation rule gives its typed error naming the label or JSON path, and no input panics.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::{json, Value};
use sparktune_core::{Domain, Error, ErrorKind, Node, Space};

/// The error of the space whose root node is `root`.
fn err_of(root: Value) -> Error {
    let doc = json!({"sparktune_space": 1, "root": root});
    match Space::from_json(&doc.to_string()) {
        Ok(_) => panic!("space accepted: {doc}"),
        Err(e) => e,
    }
}

/// Asserts an InvalidSpace error for `label` at `path` whose message contains `rule`.
fn assert_space_err(root: Value, label: Option<&str>, path: &str, rule: &str) {
    let err = err_of(root.clone());
    let msg = err.to_string();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{msg}");
    match &err {
        Error::InvalidSpace { path: p, label: l, rule: r } => {
            assert_eq!(p, path, "path of {root}: {msg}");
            assert_eq!(l.as_deref(), label, "label of {root}: {msg}");
            assert!(r.contains(rule), "rule of {root}: expected '{rule}' in '{msg}'");
        }
        other => panic!("expected InvalidSpace for {root}, got {other:?}"),
    }
    assert!(msg.contains(path), "{msg}");
    if let Some(l) = label {
        assert!(msg.contains(&format!("'{l}'")), "{msg}");
    }
}

fn in_dict(key: &str, node: Value) -> Value {
    json!({"dict": {"other": {"const": 1}, key: node}})
}

#[test]
fn low_must_be_below_high_for_every_bounded_kind() {
    for (kind, extra) in [
        ("uniform", json!({})),
        ("loguniform", json!({})),
        ("quniform", json!({"q": 1})),
        ("qloguniform", json!({"q": 1})),
        ("uniformint", json!({})),
        ("randint", json!({})),
    ] {
        for (low, high) in [(5, 1), (3, 3)] {
            let mut node = json!({"hp": kind, "label": "x", "low": low, "high": high});
            node.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            assert_space_err(in_dict("k", node), Some("x"), "/root/dict/k", "must be < high");
        }
    }
}

#[test]
fn q_must_be_positive() {
    for kind in ["quniform", "qloguniform", "uniformint"] {
        for q in [0.0, -1.0] {
            let node = json!({"hp": kind, "label": "q1", "low": 0, "high": 4, "q": q});
            assert_space_err(node, Some("q1"), "/root", "q (");
        }
    }
    for kind in ["qnormal", "qlognormal"] {
        let node = json!({"hp": kind, "label": "q2", "mu": 0, "sigma": 1, "q": 0});
        assert_space_err(json!({"list": [node]}), Some("q2"), "/root/list/0", "must be > 0");
    }
}

#[test]
fn sigma_must_be_positive() {
    for kind in ["normal", "lognormal", "qnormal", "qlognormal"] {
        for sigma in [0.0, -2.0] {
            let node = json!({"hp": kind, "label": "s", "mu": 0, "sigma": sigma, "q": 1});
            let node = if kind.starts_with('q') {
                node
            } else {
                let mut n = node;
                n.as_object_mut().unwrap().remove("q");
                n
            };
            assert_space_err(node, Some("s"), "/root", "sigma");
        }
    }
}

#[test]
fn empty_choices_are_refused() {
    assert_space_err(json!({"hp": "choice", "label": "c", "options": []}), Some("c"), "/root", "empty choice");
    assert_space_err(json!({"hp": "pchoice", "label": "p", "options": []}), Some("p"), "/root", "empty choice");
}

#[test]
fn pchoice_probabilities_are_checked() {
    let opt = |p: f64| json!({"p": p, "value": {"const": p}});
    assert_space_err(
        json!({"hp": "pchoice", "label": "p", "options": [opt(1.1), opt(-0.1)]}),
        Some("p"),
        "/root",
        "option 1: p (-0.1) must be >= 0",
    );
    assert_space_err(
        json!({"hp": "pchoice", "label": "p", "options": [opt(0.5), opt(0.4)]}),
        Some("p"),
        "/root",
        "sum to 0.9",
    );
    // Within the tolerance of 1e-6: accepted.
    let ok = json!({"sparktune_space": 1, "root": {"hp": "pchoice", "label": "p", "options": [opt(0.3333333), opt(0.6666666)]}});
    Space::from_json(&ok.to_string()).unwrap();
    // Outside it: refused.
    assert_space_err(
        json!({"hp": "pchoice", "label": "p", "options": [opt(0.333), opt(0.666)]}),
        Some("p"),
        "/root",
        "not 1",
    );
}

#[test]
fn duplicate_labels_are_refused_anywhere_in_the_tree() {
    let u = json!({"hp": "uniform", "label": "x", "low": 0, "high": 1});
    assert_space_err(
        json!({"dict": {"a": u, "b": u}}),
        Some("x"),
        "/root/dict/b",
        "duplicate label: 'x' is already defined at /root/dict/a",
    );
    // In two different options of a choice (only one is ever active, still a duplicate).
    assert_space_err(
        json!({"hp": "choice", "label": "c", "options": [{"list": [u]}, {"dict": {"y": u}}]}),
        Some("x"),
        "/root/options/1/dict/y",
        "duplicate label",
    );
    // A choice's own label reused inside it.
    assert_space_err(
        json!({"hp": "pchoice", "label": "c", "options": [{"p": 1.0, "value": {"hp": "randint", "label": "c", "low": 0, "high": 2}}]}),
        Some("c"),
        "/root/options/0/value",
        "duplicate label",
    );
}

#[test]
fn non_finite_numbers_are_refused() {
    // JSON cannot spell NaN; an overflowing literal is refused by the parser.
    let err =
        Space::from_json(r#"{"sparktune_space": 1, "root": {"hp": "uniform", "label": "x", "low": 0, "high": 1e999}}"#)
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    // Built in Rust, a NaN or an infinity reaches the rule.
    for (domain, field) in [
        (Domain::Uniform { low: f64::NAN, high: 1.0 }, "low is NaN"),
        (Domain::Normal { mu: 0.0, sigma: f64::INFINITY }, "sigma is inf"),
        (Domain::QUniform { low: 0.0, high: 1.0, q: f64::NAN }, "q is NaN"),
        (Domain::PChoice { p: vec![f64::NAN, 1.0] }, "p (NaN) must be a finite number"),
    ] {
        let options = match &domain {
            Domain::PChoice { p } => p.iter().map(|_| Node::Const(json!(1))).collect(),
            _ => Vec::new(),
        };
        let root = Node::dict([("n", Node::Hp(sparktune_core::space::Hp { label: "nan".into(), domain, options }))]);
        let err = Space::new(root).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(field) && msg.contains("'nan'") && msg.contains("/root/dict/n"), "{msg}");
    }
}

#[test]
fn draws_that_would_overflow_are_refused() {
    assert_space_err(json!({"hp": "loguniform", "label": "l", "low": 0, "high": 800}), Some("l"), "/root", "overflows");
    assert_space_err(json!({"hp": "lognormal", "label": "l", "mu": 700, "sigma": 2}), Some("l"), "/root", "overflows");
    assert_space_err(
        json!({"hp": "uniform", "label": "u", "low": -1e308, "high": 1e308}),
        Some("u"),
        "/root",
        "overflows",
    );
    assert_space_err(
        json!({"hp": "quniform", "label": "q", "low": 0, "high": 1e300, "q": 1e-300}),
        Some("q"),
        "/root",
        "too small",
    );
}

#[test]
fn unknown_kinds_keys_and_missing_fields_name_the_node() {
    assert_space_err(
        json!({"dict": {"m": {"hp": "gaussian", "label": "m", "mu": 0, "sigma": 1}}}),
        Some("m"),
        "/root/dict/m",
        "unknown hp kind 'gaussian'",
    );
    assert_space_err(
        json!({"hp": "uniform", "label": "x", "low": 0, "high": 1, "q": 1}),
        Some("x"),
        "/root",
        "unknown key 'q'",
    );
    assert_space_err(json!({"const": 1, "dict": {}}), None, "/root", "unknown key 'dict'");
    assert_space_err(json!({"hp": "uniform", "label": "x", "low": 0}), Some("x"), "/root", "missing field 'high'");
    assert_space_err(json!({"hp": "uniform", "low": 0, "high": 1}), None, "/root", "missing field 'label'");
    assert_space_err(json!({"hp": "choice", "label": "c"}), Some("c"), "/root", "missing field 'options'");
    assert_space_err(
        json!({"hp": "pchoice", "label": "c", "options": [{"p": 1.0}]}),
        Some("c"),
        "/root/options/0",
        "missing field 'value'",
    );
    assert_space_err(
        json!({"hp": "pchoice", "label": "c", "options": [{"p": 1.0, "value": {"const": 1}, "w": 2}]}),
        Some("c"),
        "/root/options/0",
        "unknown key 'w'",
    );
    assert_space_err(
        json!({"hp": "uniform", "label": "x", "low": "0", "high": 1}),
        Some("x"),
        "/root",
        "must be a number",
    );
    assert_space_err(
        json!({"hp": "randint", "label": "r", "low": 0.5, "high": 3}),
        Some("r"),
        "/root",
        "must be an integer",
    );
    assert_space_err(json!({"hp": 3, "label": "x"}), Some("x"), "/root", "'hp' must be a kind name");
}

#[test]
fn nodes_of_no_form_are_refused_with_their_path() {
    for bad in [json!(3), json!("x"), json!({}), json!({"foo": 1}), json!(null), json!([1])] {
        assert_space_err(json!({"list": [{"const": 0}, bad.clone()]}), None, "/root/list/1", "not a search-space node");
    }
    assert_space_err(json!({"dict": [1]}), None, "/root", "\"dict\" must be a JSON object");
    assert_space_err(json!({"list": {}}), None, "/root", "\"list\" must be a JSON array");
    // Keys with '/' and '~' are escaped in the pointer (RFC 6901).
    assert_space_err(json!({"dict": {"a/b~c": {"nope": 1}}}), None, "/root/dict/a~1b~0c", "not a search-space node");
}

#[test]
fn document_level_errors() {
    let err = Space::from_json(r#"{"sparktune_space": 1, "root": "#).unwrap_err();
    assert!(matches!(err, Error::Json { .. }), "{err:?}");
    assert!(err.to_string().contains("line 1"), "{err}");
    for (doc, found) in [
        (json!({"root": {"const": 1}}), "missing"),
        (json!({"sparktune_space": 2, "root": {"const": 1}}), "2"),
        (json!({"sparktune_space": "1", "root": {"const": 1}}), "\"1\""),
    ] {
        let err = Space::from_json(&doc.to_string()).unwrap_err();
        match &err {
            Error::SchemaVersion { found: f, expected: 1 } => assert_eq!(f, found),
            other => panic!("{doc}: {other:?}"),
        }
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    let err = Space::from_json(r#"{"sparktune_space": 1}"#).unwrap_err();
    assert!(err.to_string().contains("missing field 'root'"), "{err}");
    let err = Space::from_json(r#"{"sparktune_space": 1, "root": {"const": 1}, "extra": 0}"#).unwrap_err();
    assert!(err.to_string().contains("unknown key 'extra'"), "{err}");
    let err = Space::from_json("[1, 2]").unwrap_err();
    assert!(err.to_string().contains("a search space is a JSON object"), "{err}");
}

#[test]
fn the_json_form_round_trips_and_keeps_key_order() {
    let doc = json!({"sparktune_space": 1, "root": {"dict": {
        "z": {"hp": "uniform", "label": "z", "low": -1.5, "high": 2.25},
        "a": {"hp": "pchoice", "label": "a", "options": [
            {"p": 0.25, "value": {"list": [{"hp": "qlognormal", "label": "ql", "mu": 0.0, "sigma": 1.0, "q": 0.5}]}},
            {"p": 0.75, "value": {"const": {"nested": [1, "two"]}}}]},
        "m": {"hp": "randint", "label": "m", "low": -3, "high": 9},
        "u": {"hp": "uniformint", "label": "u", "low": 1.0, "high": 10.0}}}});
    let space = Space::from_json(&doc.to_string()).unwrap();
    assert_eq!(space.labels(), ["z", "a", "ql", "m", "u"]);
    let again = Space::from_json(&space.to_json()).unwrap();
    assert_eq!(again, space);
    assert_eq!(again.to_json(), space.to_json());
    // uniformint's default q is written out.
    assert_eq!(space.to_json_value()["root"]["dict"]["u"]["q"], json!(1.0));
    let doc = space.to_json_value();
    let keys: Vec<&String> = doc["root"]["dict"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["z", "a", "m", "u"]);
    let ql = space.param("ql").unwrap();
    assert_eq!(ql.path, "/root/dict/a/options/0/value/list/0");
    let cond = ql.condition.unwrap();
    assert_eq!((space.params()[cond.parent].label.as_str(), cond.option), ("a", 0));
}

/// A tiny xorshift for the mutations (the test must not depend on the crate's own RNG choices).
struct Xs(u64);
impl Xs {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate_value(v: &mut Value, rng: &mut Xs) {
    let replacements = [
        json!(null),
        json!(-1),
        json!(0),
        json!(1e308),
        json!(-1e-320),
        json!("uniform"),
        json!([]),
        json!({}),
        json!({"const": 1}),
        json!(9_007_199_254_740_993u64),
        json!(i64::MIN),
    ];
    match v {
        Value::Object(map) if !map.is_empty() && rng.below(3) > 0 => {
            let i = rng.below(map.len());
            let key = map.keys().nth(i).unwrap().clone();
            match rng.below(4) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(format!("{key}x"), json!(1));
                }
                _ => mutate_value(map.get_mut(&key).unwrap(), rng),
            }
        }
        Value::Array(items) if !items.is_empty() && rng.below(3) > 0 => {
            let i = rng.below(items.len());
            if rng.below(4) == 0 {
                items.remove(i);
            } else {
                mutate_value(&mut items[i], rng);
            }
        }
        _ => *v = replacements[rng.below(replacements.len())].clone(),
    }
}

#[test]
fn mutated_documents_never_panic() {
    let base = json!({"sparktune_space": 1, "root": {"dict": {
        "lr": {"hp": "loguniform", "label": "lr", "low": -7, "high": 0},
        "q": {"hp": "qnormal", "label": "q", "mu": 3, "sigma": 2, "q": 0.5},
        "m": {"hp": "pchoice", "label": "m", "options": [
            {"p": 0.5, "value": {"dict": {"d": {"hp": "randint", "label": "d", "low": 1, "high": 9},
                                           "u": {"hp": "uniformint", "label": "u", "low": 0, "high": 5, "q": 2}}}},
            {"p": 0.5, "value": {"hp": "choice", "label": "c", "options": [{"const": "a"}, {"list": [
                {"hp": "qloguniform", "label": "ql", "low": 0, "high": 3, "q": 1},
                {"hp": "lognormal", "label": "ln", "mu": 0, "sigma": 1}]}]}}]}}}});
    let text = base.to_string();
    let mut rng = Xs(0x9e37_79b9_7f4a_7c15);
    let (mut accepted, mut refused) = (0, 0);
    for round in 0..3000 {
        let candidate = if round % 3 == 0 {
            // Byte-level: flip, cut or duplicate a byte of the text.
            let mut bytes = text.clone().into_bytes();
            let i = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[i] = b"{}[]\",:0-e.x \\"[rng.below(14)],
                1 => bytes.truncate(i),
                _ => bytes.insert(i, bytes[i]),
            }
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            let mut v = base.clone();
            for _ in 0..=rng.below(3) {
                mutate_value(&mut v, &mut rng);
            }
            v.to_string()
        };
        let outcome = std::panic::catch_unwind(|| {
            let space = Space::from_json(&candidate)?;
            // A space that validates must also sample, evaluate and grid without panicking.
            let config = format!(r#"{{"space": {}, "seed": 3}}"#, space.to_json());
            let mut study = sparktune_core::Study::from_json(&config)?;
            study.ask(3)?;
            let _ = sparktune_core::GridSampler::new(&space).map(|g| g.point(0));
            Ok::<_, Error>(())
        });
        match outcome {
            Ok(Ok(())) => accepted += 1,
            Ok(Err(e)) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
            }
            Err(_) => panic!("panic on input: {candidate}"),
        }
    }
    // The loop must exercise both sides.
    assert!(accepted > 20 && refused > 1000, "accepted {accepted}, refused {refused}");
}
