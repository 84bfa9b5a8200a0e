//! Time per ask + tell with the random and TPE samplers, in memory and with the journal store, and
//! the proposal time against the history's size. Prints figures; asserts nothing about time.
//!
//! `cargo bench -p sparktune-core --bench ask_tell` (everything), or `... -- tpe [SIZE ...]` for the
//! TPE proposal times alone (a short run to profile, e.g. under callgrind), or `... -- suggest [N]` for
//! the space and objective of the shared suite's suggest_latency.py: N asks and tells (1,000 unless
//! told), their time per trial without Python's share, and a checksum of every proposed point (the
//! same before and after a change that must not alter the proposals).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use sparktune_core::{Outcome, Study};

const SPACE: &str = r#"{"sparktune_space": 1, "root": {"dict": {
    "lr": {"hp": "loguniform", "label": "lr", "low": -9, "high": -1},
    "reg": {"hp": "uniform", "label": "reg", "low": 0, "high": 1},
    "iters": {"hp": "quniform", "label": "iters", "low": 10, "high": 200, "q": 10},
    "layers": {"hp": "randint", "label": "layers", "low": 1, "high": 6},
    "model": {"hp": "choice", "label": "model", "options": [
        {"dict": {"type": {"const": "lr"}, "elastic": {"hp": "uniform", "label": "elastic", "low": 0, "high": 1}}},
        {"dict": {"type": {"const": "gbt"}, "depth": {"hp": "uniformint", "label": "depth", "low": 2, "high": 12},
                  "step": {"hp": "lognormal", "label": "step", "mu": -2, "sigma": 1}}}]}}}}"#;

fn study(store: Option<&std::path::Path>) -> Study {
    study_with(r#"{"kind": "random"}"#, store)
}

fn study_with(sampler: &str, store: Option<&std::path::Path>) -> Study {
    let store = store.map_or(String::new(), |p| format!(r#", "store": {}"#, serde_json::json!(p.to_str())));
    Study::from_json(&format!(r#"{{"space": {SPACE}, "sampler": {sampler}, "seed": 1{store}}}"#)).unwrap()
}

/// Fills `study` with `n` finished trials at random points, without asking its sampler (fast for
/// any sampler and size).
fn fill_enqueued(study: &mut Study, n: usize) {
    let mut source = study_with(r#"{"kind": "random"}"#, None);
    for trial in source.ask(n).unwrap() {
        let t = study.enqueue(&trial.point).unwrap();
        let loss = t.values["reg"].as_f64().unwrap() + (t.values["lr"].as_f64().unwrap().ln() + 5.0).abs();
        study.tell(t.id, Outcome::ok(loss)).unwrap();
    }
}

fn ask_tell(study: &mut Study) -> Duration {
    let start = Instant::now();
    let trial = study.ask(1).unwrap().remove(0);
    let loss = trial.values["reg"].as_f64().unwrap();
    study.tell(trial.id, Outcome::ok(loss)).unwrap();
    start.elapsed()
}

fn fill(study: &mut Study, n: usize) {
    for _ in 0..n {
        ask_tell(study);
    }
}

fn per_op(total: Duration, n: usize) -> String {
    let us = total.as_secs_f64() * 1e6 / n as f64;
    if us >= 1000.0 {
        format!("{:.3} ms", us / 1000.0)
    } else {
        format!("{us:.2} us")
    }
}

/// The total time of `n` TPE proposals with `size` finished trials in history.
fn tpe_proposal(size: usize, n: usize) -> Duration {
    let mut s = study_with(r#"{"kind": "tpe"}"#, None);
    fill_enqueued(&mut s, size);
    proposals(&mut s, n)
}

/// The total time of `n` asks (each told at once, outside the timing).
fn proposals(s: &mut Study, n: usize) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let start = Instant::now();
        let trial = s.ask(1).unwrap().remove(0);
        total += start.elapsed();
        s.tell(trial.id, Outcome::ok(0.5)).unwrap();
    }
    total
}

/// suggest_latency.py's space (hyperopt's names; ranges in log space where hyperopt's are).
const LATENCY_SPACE: &str = r#"{"sparktune_space": 1, "root": {"dict": {
    "lr": {"hp": "loguniform", "label": "lr", "low": -11.512925464970229, "high": 0},
    "depth": {"hp": "quniform", "label": "depth", "low": 2, "high": 12, "q": 1},
    "frac": {"hp": "uniform", "label": "frac", "low": 0, "high": 1},
    "kind": {"hp": "choice", "label": "kind", "options": [{"const": "a"}, {"const": "b"}, {"const": "c"}]},
    "units": {"hp": "qloguniform", "label": "units", "low": 2.0794415416798357, "high": 6.238324625039508, "q": 1},
    "mom": {"hp": "normal", "label": "mom", "mu": 0.9, "sigma": 0.05}}}}"#;

/// suggest_latency.py's run, without Python: `n` trials of TPE on its space and free objective.
fn suggest_latency(n: usize) {
    let mut s =
        Study::from_json(&format!(r#"{{"space": {LATENCY_SPACE}, "sampler": {{"kind": "tpe"}}, "seed": 0}}"#)).unwrap();
    let (mut ask, mut checksum) = (Duration::ZERO, 0u64);
    let start = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        let trial = s.ask(1).unwrap().remove(0);
        ask += t0.elapsed();
        let p = |l: &str| trial.point.get(l).map_or(f64::NAN, |v| v.as_f64());
        for l in ["lr", "depth", "frac", "kind", "units", "mom"] {
            checksum = checksum.rotate_left(7) ^ p(l).to_bits();
        }
        let loss = (p("lr").log10() + 3.0).powi(2)
            + (p("depth") - 6.0).powi(2) / 10.0
            + p("frac")
            + if p("kind") == 1.0 { 0.0 } else { 0.5 }
            + (p("units") - 64.0).powi(2) / 1e4;
        s.tell(trial.id, Outcome::ok(loss)).unwrap();
    }
    let total = start.elapsed();
    println!(
        "suggest_latency space, {n} trials: {} per trial, of which ask {}; points checksum {checksum:016x}",
        per_op(total, n),
        per_op(ask, n)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.first().map(String::as_str) == Some("suggest") {
        suggest_latency(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000));
        return;
    }
    if args.first().map(String::as_str) == Some("tpe") {
        let sizes: Vec<usize> = args[1..].iter().filter_map(|a| a.parse().ok()).collect();
        for size in if sizes.is_empty() { vec![100, 1_000, 10_000] } else { sizes } {
            let n = if size >= 100_000 { 10 } else { 100 };
            println!("ask(1), tpe, {size:>7} trials in history: {} per proposal", per_op(tpe_proposal(size, n), n));
        }
        return;
    }
    let dir = std::env::temp_dir().join(format!("sparktune-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // ask + tell with 1,000 trials in history.
    let mut mem = study(None);
    fill(&mut mem, 1000);
    let n = 2000;
    let total: Duration = (0..n).map(|_| ask_tell(&mut mem)).sum();
    println!("ask+tell, random, in memory, 1,000 trials in history: {} per ask+tell ({n} ops)", per_op(total, n));

    let path = dir.join("bench.journal");
    let mut stored = study(Some(&path));
    fill(&mut stored, 1000);
    let n = 300;
    let total: Duration = (0..n).map(|_| ask_tell(&mut stored)).sum();
    println!(
        "ask+tell, random, journal store (tell fsyncs), 1,000 trials in history: {} per ask+tell ({n} ops)",
        per_op(total, n)
    );
    drop(stored);

    // Proposal time (ask alone) against the history's size.
    for size in [100, 1_000, 10_000] {
        let mut s = study(None);
        fill(&mut s, size);
        let n = 1000;
        let total = proposals(&mut s, n);
        println!("ask(1), random, {size:>6} trials in history: {} per proposal", per_op(total, n));
    }

    // TPE: ask + tell with 1,000 trials in history, and a proposal against the history's size.
    let mut tpe = study_with(r#"{"kind": "tpe"}"#, None);
    fill_enqueued(&mut tpe, 1000);
    let n = 500;
    let total: Duration = (0..n).map(|_| ask_tell(&mut tpe)).sum();
    println!("ask+tell, tpe, in memory, 1,000 trials in history: {} per ask+tell ({n} ops)", per_op(total, n));
    for size in [100, 1_000, 10_000, 100_000] {
        let n = if size >= 100_000 { 10 } else { 100 };
        println!("ask(1), tpe, {size:>7} trials in history: {} per proposal", per_op(tpe_proposal(size, n), n));
    }

    // What a resume and an export cost at 10,000 trials.
    let path = dir.join("resume.journal");
    let mut s = study(Some(&path));
    let trials = s.ask(10_000).unwrap();
    for t in &trials {
        s.tell(t.id, Outcome::ok(0.5)).unwrap();
    }
    drop(s);
    let start = Instant::now();
    let s = study(Some(&path));
    println!("reopen a journal of 10,000 trials (replay): {}", per_op(start.elapsed(), 1));
    let start = Instant::now();
    let bytes = s.trials_arrow_ipc().unwrap();
    println!("Arrow IPC export of 10,000 trials: {} ({} bytes)", per_op(start.elapsed(), 1), bytes.len());
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
