//! The TPE and quasi-random samplers through the study: determinism, conditional spaces, pending
//! trials, failures, and that the model actually helps.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::{json, Value};
use sparktune_core::{Outcome, Study, TrialState};

fn study(root: Value, sampler: Value, seed: u64) -> Study {
    let config = json!({"space": {"sparktune_space": 1, "root": root}, "sampler": sampler, "seed": seed});
    Study::from_json(&config.to_string()).unwrap()
}

fn quadratic_space() -> Value {
    json!({"dict": {
        "x": {"hp": "uniform", "label": "x", "low": -5, "high": 5},
        "y": {"hp": "loguniform", "label": "y", "low": -7, "high": 0},
        "n": {"hp": "quniform", "label": "n", "low": 1, "high": 20, "q": 1},
        "c": {"hp": "choice", "label": "c", "options": [{"const": "a"}, {"const": "b"}, {"const": "c"}]}}})
}

fn quadratic(v: &Value) -> f64 {
    let x = v["x"].as_f64().unwrap();
    let y = v["y"].as_f64().unwrap();
    let n = v["n"].as_f64().unwrap();
    (x - 1.3).powi(2) + (y.log10() + 2.0).powi(2) + (n - 12.0).powi(2) / 20.0 + if v["c"] == "b" { 0.0 } else { 1.0 }
}

/// Runs `budget` sequential trials and returns the best value.
fn minimise(study: &mut Study, budget: usize, f: fn(&Value) -> f64) -> f64 {
    for _ in 0..budget {
        let t = study.ask(1).unwrap().remove(0);
        let y = f(&t.values);
        study.tell(t.id, Outcome::ok(y)).unwrap();
    }
    study.best().unwrap().value.unwrap()
}

#[test]
fn the_same_seed_gives_the_same_trials() {
    let run = |seed| {
        let mut s = study(quadratic_space(), json!({"kind": "tpe"}), seed);
        minimise(&mut s, 40, quadratic);
        s.trials().iter().map(|t| t.point.to_json_value()).collect::<Vec<_>>()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn tpe_beats_random_search_on_a_smooth_function() {
    // Deterministic seeds: a fixed comparison, not a flaky one.
    let (mut tpe_wins, mut sum_tpe, mut sum_random) = (0, 0.0, 0.0);
    for seed in 0..10 {
        let tpe = minimise(&mut study(quadratic_space(), json!({"kind": "tpe"}), seed), 60, quadratic);
        let random = minimise(&mut study(quadratic_space(), json!({"kind": "random"}), seed), 60, quadratic);
        tpe_wins += usize::from(tpe < random);
        sum_tpe += tpe;
        sum_random += random;
    }
    assert!(tpe_wins >= 8, "TPE won {tpe_wins} of 10");
    assert!(sum_tpe < 0.5 * sum_random, "mean best: tpe {} vs random {}", sum_tpe / 10.0, sum_random / 10.0);
}

#[test]
fn conditional_parameters_are_proposed_only_under_their_option() {
    let root = json!({"hp": "choice", "label": "model", "options": [
        {"dict": {"kind": {"const": "linear"}, "reg": {"hp": "loguniform", "label": "reg", "low": -9, "high": 2}}},
        {"dict": {"kind": {"const": "tree"},
                  "depth": {"hp": "quniform", "label": "depth", "low": 2, "high": 12, "q": 1},
                  "trees": {"hp": "qloguniform", "label": "trees", "low": 2, "high": 7, "q": 1}}}]});
    let f = |v: &Value| -> f64 {
        if v["kind"] == "linear" {
            (v["reg"].as_f64().unwrap().ln() + 4.0).abs() + 0.5
        } else {
            (v["depth"].as_f64().unwrap() - 7.0).abs() / 5.0 + (v["trees"].as_f64().unwrap().ln() - 4.0).abs() / 5.0
        }
    };
    for multivariate in [true, false] {
        let mut s = study(root.clone(), json!({"kind": "tpe", "multivariate": multivariate}), 1);
        for _ in 0..60 {
            let t = s.ask(1).unwrap().remove(0);
            let model = t.point.get("model").and_then(|v| v.as_i64()).unwrap();
            assert_eq!(t.point.get("reg").is_some(), model == 0, "{:?}", t.point);
            assert_eq!(t.point.get("depth").is_some(), model == 1, "{:?}", t.point);
            assert_eq!(t.point.get("trees").is_some(), model == 1, "{:?}", t.point);
            s.tell(t.id, Outcome::ok(f(&t.values))).unwrap();
        }
        // The tree branch is better (its optimum is 0, the linear one's 0.5): the model learns it.
        let late_trees = s.trials()[40..].iter().filter(|t| t.values["kind"] == "tree").count();
        assert!(late_trees >= 14, "multivariate={multivariate}: {late_trees} of the last 20 chose the better branch");
    }
}

/// A trap: the "wide" branch is good on average but its floor is 0.2; the "narrow" one is bad on
/// average and reaches 0 only in a small region of its parameter.
fn trap_space() -> Value {
    json!({"dict": {
        "x": {"hp": "uniform", "label": "x", "low": 0, "high": 1},
        "branch": {"hp": "choice", "label": "branch", "options": [
            {"dict": {"kind": {"const": "narrow"}, "a": {"hp": "uniform", "label": "a", "low": 0, "high": 30}}},
            {"dict": {"kind": {"const": "wide"}, "b": {"hp": "uniform", "label": "b", "low": 0, "high": 1}}}]}}})
}

fn trap(v: &Value) -> f64 {
    let shared = (v["x"].as_f64().unwrap() - 0.3).powi(2);
    let b = &v["branch"];
    shared
        + if b["kind"] == "narrow" {
            (b["a"].as_f64().unwrap() - 2.0).powi(2)
        } else {
            0.2 + (b["b"].as_f64().unwrap() - 0.5).powi(2)
        }
}

#[test]
fn branch_exploration_leaves_a_branch_whose_floor_is_worse() {
    let runs_below = |exploration: f64| {
        (0..20)
            .filter(|&seed| {
                let sampler = json!({"kind": "tpe", "branch_exploration": exploration});
                minimise(&mut study(trap_space(), sampler, seed), 60, trap) < 0.19
            })
            .count()
    };
    let (without, with) = (runs_below(0.0), runs_below(0.3));
    assert!(with >= without + 4 && with >= 12, "runs that found the narrow branch: {with} with, {without} without");
}

#[test]
fn branch_exploration_leaves_spaces_without_branches_alone() {
    let points = |exploration: f64| {
        let mut s = study(quadratic_space(), json!({"kind": "tpe", "branch_exploration": exploration}), 3);
        minimise(&mut s, 30, quadratic);
        s.trials().iter().map(|t| t.point.to_json_value()).collect::<Vec<_>>()
    };
    assert_eq!(points(0.0), points(0.9));
}

#[test]
fn pending_trials_push_parallel_asks_apart() {
    // A one-parameter space with a sharp optimum: without the constant liar, every ask of a batch
    // sees the same history and lands on the same spot.
    let root = json!({"hp": "quniform", "label": "k", "low": 0, "high": 100, "q": 1});
    let f = |v: &Value| (v.as_f64().unwrap() - 50.0).abs();
    let distinct_in_batch = |liar: bool| {
        let mut s = study(root.clone(), json!({"kind": "tpe", "constant_liar": liar, "n_startup_trials": 10}), 5);
        for t in s.ask(20).unwrap() {
            let y = f(&t.values);
            s.tell(t.id, Outcome::ok(y)).unwrap();
        }
        let batch = s.ask(8).unwrap();
        let mut ks: Vec<i64> = batch.iter().map(|t| t.values.as_f64().unwrap() as i64).collect();
        ks.sort_unstable();
        ks.dedup();
        ks.len()
    };
    let (with, without) = (distinct_in_batch(true), distinct_in_batch(false));
    assert!(with > without, "distinct points in a batch of 8: {with} with the liar, {without} without");
}

#[test]
fn failures_and_cancellations_do_not_poison_the_model() {
    let mut s = study(quadratic_space(), json!({"kind": "tpe"}), 9);
    for i in 0..80 {
        let t = s.ask(1).unwrap().remove(0);
        let outcome = match i % 5 {
            0 => Outcome::fail("the objective raised"),
            1 => Outcome::cancelled(),
            _ => Outcome::ok(quadratic(&t.values)),
        };
        s.tell(t.id, outcome).unwrap();
    }
    let states = s.trials().iter().map(|t| t.state).collect::<Vec<_>>();
    assert_eq!(states.iter().filter(|s| **s == TrialState::Fail).count(), 16);
    let best = s.best().unwrap().value.unwrap();
    assert!(best < 1.5, "still converges with failures around: best {best}");
}

#[test]
fn every_kind_is_proposed_inside_its_domain() {
    let root = json!({"dict": {
        "u": {"hp": "uniform", "label": "u", "low": 2, "high": 3},
        "lu": {"hp": "loguniform", "label": "lu", "low": -3, "high": 1},
        "qu": {"hp": "quniform", "label": "qu", "low": 0, "high": 10, "q": 2.5},
        "qlu": {"hp": "qloguniform", "label": "qlu", "low": 0, "high": 5, "q": 3},
        "n": {"hp": "normal", "label": "n", "mu": 0, "sigma": 1},
        "ln": {"hp": "lognormal", "label": "ln", "mu": 0, "sigma": 1},
        "qn": {"hp": "qnormal", "label": "qn", "mu": 5, "sigma": 2, "q": 0.5},
        "qln": {"hp": "qlognormal", "label": "qln", "mu": 1, "sigma": 1, "q": 2},
        "ri": {"hp": "randint", "label": "ri", "low": -3, "high": 4},
        "ui": {"hp": "uniformint", "label": "ui", "low": 1, "high": 9},
        "pc": {"hp": "pchoice", "label": "pc", "options": [{"p": 0.1, "value": {"const": 1}}, {"p": 0.9, "value": {"const": 2}}]}}});
    let mut s = study(root, json!({"kind": "tpe", "n_startup_trials": 5}), 2);
    for _ in 0..60 {
        let t = s.ask(1).unwrap().remove(0);
        let v = &t.values;
        let num = |k: &str| v[k].as_f64().unwrap();
        let on_grid = |x: f64, q: f64| ((x / q).round() * q - x).abs() < 1e-9;
        assert!((2.0..=3.0).contains(&num("u")));
        assert!((-3f64.exp()..=1f64.exp()).contains(&num("lu")) || (num("lu") - (-3f64).exp()).abs() < 1e-12);
        assert!(on_grid(num("qu"), 2.5) && (0.0..=10.0).contains(&num("qu")));
        assert!(on_grid(num("qlu"), 3.0) && num("qlu") >= 0.0 && num("qlu") <= 5f64.exp() + 1.5);
        assert!(num("ln") > 0.0 && on_grid(num("qn"), 0.5) && on_grid(num("qln"), 2.0));
        assert!(v["ri"].is_i64() && (-3..4).contains(&v["ri"].as_i64().unwrap()));
        assert!(v["ui"].is_i64() && (1..=9).contains(&v["ui"].as_i64().unwrap()));
        assert!(v["pc"] == 1 || v["pc"] == 2);
        let y = num("u") + num("n").abs() + num("ri").abs();
        s.tell(t.id, Outcome::ok(y)).unwrap();
    }
}

#[test]
fn qmc_and_tpe_resume_from_a_store_as_if_uninterrupted() {
    for sampler in [json!({"kind": "qmc"}), json!({"kind": "tpe", "n_startup_trials": 4})] {
        let path = common::temp_path(&format!("resume-{}.journal", sampler["kind"].as_str().unwrap()));
        let config = |store: Option<&std::path::Path>| {
            let mut c =
                json!({"space": {"sparktune_space": 1, "root": quadratic_space()}, "sampler": sampler, "seed": 11});
            if let Some(p) = store {
                c["store"] = json!(p);
            }
            c.to_string()
        };
        let mut whole = Study::from_json(&config(None)).unwrap();
        minimise(&mut whole, 20, quadratic);
        {
            let mut first = Study::from_json(&config(Some(&path))).unwrap();
            minimise(&mut first, 12, quadratic);
        }
        let mut resumed = Study::from_json(&config(Some(&path))).unwrap();
        minimise(&mut resumed, 8, quadratic);
        let points = |s: &Study| s.trials().iter().map(|t| t.point.to_json_value()).collect::<Vec<_>>();
        assert_eq!(points(&whole), points(&resumed), "{sampler}");
    }
}

#[test]
fn bad_tpe_settings_are_refused_by_name() {
    for (setting, needle) in [
        (json!({"kind": "tpe", "gamma": 0}), "gamma"),
        (json!({"kind": "tpe", "n_ei_candidates": 0}), "n_ei_candidates"),
        (json!({"kind": "tpe", "prior_weight": -1}), "prior_weight"),
        (json!({"kind": "tpe", "local_fraction": 1.5}), "local_fraction"),
        (json!({"kind": "tpe", "branch_exploration": -0.1}), "branch_exploration"),
        (json!({"kind": "tpe", "gama": 0.2}), "gama"),
    ] {
        let config = json!({"space": {"sparktune_space": 1, "root": quadratic_space()}, "sampler": setting});
        let err = Study::from_json(&config.to_string()).unwrap_err().to_string();
        assert!(err.contains(needle), "{setting}: {err}");
    }
}
