//! Search quality of the core's samplers on the shared suite's functions (../shared/bench/search_quality.py
//! has the same three), without Python in the loop: the quick way to compare sampler settings.
//!
//! `cargo bench -p sparktune-core --bench tpe_quality -- BUDGET SEEDS [SAMPLER_JSON ...]`
//! prints, per sampler config and function, the median over seeds of the best value found.
//! Default configs: random, qmc and tpe with its defaults. SEEDS is a count N (seeds 0..N, spread
//! over 63 bits) or a comma-separated list of study seeds; `shared` is the list the shared suite's
//! sparktune runs use (its fmin's `rstate=np.random.default_rng(s)` for s in 0..10, drawn as
//! sparktune.hyperopt's fmin draws the study seed), so that its figures can be reproduced here.

use std::f64::consts::PI;

use serde_json::{json, Value};
use sparktune_core::{Outcome, Study};

fn branin(v: &Value) -> f64 {
    let (x1, x2) = (v["x1"].as_f64().unwrap_or(0.0), v["x2"].as_f64().unwrap_or(0.0));
    (x2 - 5.1 / (4.0 * PI * PI) * x1 * x1 + 5.0 / PI * x1 - 6.0).powi(2)
        + 10.0 * (1.0 - 1.0 / (8.0 * PI)) * x1.cos()
        + 10.0
        - 0.397887
}

const HA: [[f64; 6]; 4] = [
    [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
    [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
    [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
    [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
];
const HP: [[f64; 6]; 4] = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];
const HALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];

fn hartmann6(v: &Value) -> f64 {
    let x: Vec<f64> = (0..6).map(|i| v[format!("x{i}")].as_f64().unwrap_or(0.0)).collect();
    let s: f64 =
        (0..4).map(|i| HALPHA[i] * (-(0..6).map(|j| HA[i][j] * (x[j] - HP[i][j]).powi(2)).sum::<f64>()).exp()).sum();
    -s + 3.32237
}

fn mixed(v: &Value) -> f64 {
    let m = &v["model"];
    let f = |k: &str| m[k].as_f64().unwrap_or(0.0);
    let base = if m["kind"] == "linear" {
        (f("reg").log10() + 2.5).powi(2) + 0.3 * (f("l1_ratio") - 0.3).powi(2) * 10.0
    } else {
        0.2 + (f("depth") - 7.0).powi(2) / 20.0
            + (f("trees").log2() - 7.0).powi(2) / 10.0
            + (f("subsample") - 0.8).powi(2) * 5.0
    };
    base + (v["lr"].as_f64().unwrap_or(1.0).log10() + 1.5).powi(2) * 0.5
}

fn uniform(label: &str, low: f64, high: f64) -> Value {
    json!({"hp": "uniform", "label": label, "low": low, "high": high})
}

/// A function of the suite: its name, the function of a trial's values, and its space's root node.
type Problem = (&'static str, fn(&Value) -> f64, Value);

fn spaces() -> Vec<Problem> {
    let ln = f64::ln;
    let hartmann: serde_json::Map<String, Value> =
        (0..6).map(|i| (format!("x{i}"), uniform(&format!("x{i}"), 0.0, 1.0))).collect();
    vec![
        ("branin", branin, json!({"dict": {"x1": uniform("x1", -5.0, 10.0), "x2": uniform("x2", 0.0, 15.0)}})),
        ("hartmann6", hartmann6, json!({"dict": hartmann})),
        (
            "mixed",
            mixed,
            json!({"dict": {
                "lr": {"hp": "loguniform", "label": "lr", "low": ln(1e-4), "high": ln(1.0)},
                "model": {"hp": "choice", "label": "model", "options": [
                    {"dict": {"kind": {"const": "linear"},
                              "reg": {"hp": "loguniform", "label": "reg", "low": ln(1e-6), "high": ln(10.0)},
                              "l1_ratio": uniform("l1_ratio", 0.0, 1.0)}},
                    {"dict": {"kind": {"const": "tree"},
                              "depth": {"hp": "quniform", "label": "depth", "low": 2, "high": 16, "q": 1},
                              "trees": {"hp": "qloguniform", "label": "trees", "low": ln(8.0), "high": ln(1024.0), "q": 1},
                              "subsample": uniform("subsample", 0.3, 1.0)}}]}}}),
        ),
    ]
}

fn best_of(sampler: &Value, root: &Value, f: fn(&Value) -> f64, budget: usize, seed: u64) -> f64 {
    let config = json!({"space": {"sparktune_space": 1, "root": root}, "sampler": sampler, "seed": seed});
    let mut study = Study::from_json(&config.to_string()).expect("a valid study config");
    let mut best = f64::INFINITY;
    for _ in 0..budget {
        let trial = study.ask(1).expect("ask").remove(0);
        let y = f(&trial.values);
        best = best.min(y);
        study.tell(trial.id, Outcome::ok(y)).expect("tell");
    }
    best
}

/// Seed `i` of a run, spread over 63 bits (splitmix64) as a seed drawn from an RNG is, so that
/// small seeds do not give the quasi-random startup a small scramble.
fn spread(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 1
}

/// The study seeds of the shared suite's seeds 0..10: `np.random.default_rng(s).integers(2**63 - 1)`.
const SHARED_SEEDS: [u64; 10] = [
    5874934615388537134,
    4720721261117928062,
    2412946043537042528,
    789974133212406139,
    8698157313321341862,
    7424841456459477715,
    4963690030598406526,
    5765488047046174020,
    3015786952870474233,
    8026632172992807823,
];

/// The study seeds SEEDS names (see the module docs).
fn parse_seeds(arg: Option<&String>) -> Vec<u64> {
    match arg.map(String::as_str) {
        None => (0..10).map(spread).collect(),
        Some("shared") => SHARED_SEEDS.to_vec(),
        Some(list) if list.contains(',') => {
            list.split(',').map(|s| s.trim().parse().expect("SEEDS: a comma-separated list of u64")).collect()
        }
        Some(n) => (0..n.parse().expect("SEEDS: a count, a comma-separated list or 'shared'")).map(spread).collect(),
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let budget = args.first().and_then(|a| a.parse().ok()).unwrap_or(100);
    let seeds = parse_seeds(args.get(1));
    let samplers: Vec<Value> = if args.len() > 2 {
        args[2..].iter().map(|a| serde_json::from_str(a).expect("a sampler config as JSON")).collect()
    } else {
        vec![json!({"kind": "random"}), json!({"kind": "qmc"}), json!({"kind": "tpe"})]
    };
    for sampler in &samplers {
        let t = std::time::Instant::now();
        let mut line = Vec::new();
        for (name, f, root) in spaces() {
            let bests = seeds.iter().map(|&s| best_of(sampler, &root, f, budget, s)).collect();
            line.push(format!("{name}={:.5}", median(bests)));
        }
        println!(
            "{sampler} budget={budget} seeds={} {} ({:.1} s)",
            seeds.len(),
            line.join(" "),
            t.elapsed().as_secs_f64()
        );
    }
}
