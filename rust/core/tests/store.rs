//! The journal: resume, torn last record, corrupt middle record, config mismatch, abandoned trials,
//! locking; and the Arrow IPC export of the trials table.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use arrow_array::{Array, Float64Array, Int64Array, StringArray, UInt64Array};
use arrow_ipc::reader::StreamReader;
use arrow_schema::DataType;
use serde_json::json;
use sparktune_core::study::ABANDONED;
use sparktune_core::{Error, ErrorKind, Outcome, Study, StudyConfig, TrialState};

const SPACE: &str = r#"{"sparktune_space": 1, "root": {"dict": {
    "x": {"hp": "uniform", "label": "x", "low": -5, "high": 5},
    "opt": {"hp": "pchoice", "label": "opt", "options": [
        {"p": 0.5, "value": {"const": "sgd"}},
        {"p": 0.5, "value": {"dict": {"beta": {"hp": "qloguniform", "label": "beta", "low": 0, "high": 3, "q": 0.5}}}}]}}}}"#;

fn config(path: &Path, seed: u64, sampler: &str, direction: &str) -> String {
    format!(
        r#"{{"space": {SPACE}, "sampler": {{"kind": "{sampler}"}}, "seed": {seed}, "direction": "{direction}", "store": {}}}"#,
        json!(path.to_str())
    )
}

fn open(path: &Path) -> Study {
    Study::from_json(&config(path, 11, "random", "minimize")).unwrap()
}

fn objective(values: &serde_json::Value) -> f64 {
    let x = values["x"].as_f64().unwrap();
    x * x
}

/// A study with 10 trials: 7 ok (one with metrics), 1 fail, 1 cancelled, 1 left running.
fn populate(study: &mut Study) {
    let trials = study.ask(10).unwrap();
    for t in &trials[..7] {
        let o = Outcome::ok(objective(&t.values));
        let o = if t.id == 2 { o.with_metric("auc", 0.75).with_metric("f1", 0.5) } else { o };
        study.tell(t.id, o).unwrap();
    }
    study.tell(7, Outcome::fail("diverged")).unwrap();
    study.tell(8, Outcome::cancelled()).unwrap();
}

#[test]
fn a_reopened_store_resumes_and_the_sampler_continues_identically() {
    let path = common::temp_path("resume.journal");
    let mut first = open(&path);
    populate(&mut first);
    let before = first.trials().to_vec();
    let best = first.best().unwrap().clone();
    drop(first);

    let mut resumed = open(&path);
    assert_eq!(resumed.trials().len(), 10);
    // Finished trials are identical, timestamps included; the running one was abandoned.
    assert_eq!(resumed.trials()[..9], before[..9]);
    assert_eq!(resumed.best().unwrap(), &best);
    let t9 = &resumed.trials()[9];
    assert_eq!((t9.state, t9.error.as_deref()), (TrialState::Cancelled, Some(ABANDONED)));
    assert_eq!(t9.point, before[9].point);
    assert!(resumed.warnings().iter().any(|w| w.contains("ids [9]")), "{:?}", resumed.warnings());

    // The next proposals are those of a study that never stopped.
    let mut uninterrupted = Study::from_json(&format!(r#"{{"space": {SPACE}, "seed": 11}}"#)).unwrap();
    let all = uninterrupted.ask(15).unwrap();
    let next = resumed.ask(5).unwrap();
    assert_eq!(next.iter().map(|t| t.id).collect::<Vec<_>>(), [10, 11, 12, 13, 14]);
    for (a, b) in all[10..].iter().zip(&next) {
        assert_eq!(a.point, b.point);
        assert_eq!(a.values, b.values);
    }
    for (a, b) in all[..10].iter().zip(resumed.trials()) {
        assert_eq!(a.point, b.point);
    }
}

#[test]
fn abandoned_trials_are_cancelled_in_the_journal_too() {
    let path = common::temp_path("abandoned.journal");
    let mut s = open(&path);
    s.ask(3).unwrap();
    s.tell(1, Outcome::ok(1.0)).unwrap();
    drop(s);
    let s = open(&path);
    let states: Vec<TrialState> = s.trials().iter().map(|t| t.state).collect();
    assert_eq!(states, [TrialState::Cancelled, TrialState::Ok, TrialState::Cancelled]);
    assert!(s.trials()[0].finished_ms.is_some());
    let warning = s.warnings().join("\n");
    assert!(warning.contains(&path.display().to_string()) && warning.contains("ids [0, 2]"), "{warning}");
    drop(s);
    // Written: a third open finds nothing running and warns of nothing.
    let s = open(&path);
    assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    assert_eq!(s.trials()[2].error.as_deref(), Some(ABANDONED));
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(ABANDONED).count(), 2);
}

#[test]
fn a_torn_last_record_is_dropped_with_a_warning_and_truncated() {
    for (tail, name) in
        [(&b"{\"record\":\"tell\",\"id\":4,\"sta"[..], "torn1.journal"), (&b"{\"record\":\"te\n"[..], "torn2.journal")]
    {
        let path = common::temp_path(name);
        let mut s = open(&path);
        s.ask(5).unwrap();
        for id in 0..4 {
            s.tell(id, Outcome::ok(id as f64)).unwrap();
        }
        let trials = s.trials().to_vec();
        drop(s);
        let good_len = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new().append(true).open(&path).unwrap().write_all(tail).unwrap();

        let s = open(&path);
        assert_eq!(s.trials()[..4], trials[..4], "every complete record is replayed");
        let torn = s.warnings().iter().find(|w| w.contains("torn")).unwrap_or_else(|| panic!("{:?}", s.warnings()));
        assert!(torn.contains(&path.display().to_string()), "{torn}");
        assert!(torn.contains(&format!("byte offset {good_len}")), "{torn}");
        drop(s);
        // Truncated to the last good record, then the abandoned trial 4's cancel was appended.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with('\n'));
        assert!(!text.contains("\"sta\n") && !text.contains("\"te\n"), "the torn bytes are still there");
        assert_eq!(text.lines().count(), 1 + 5 + 4 + 1);
        let s = open(&path);
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    }
}

#[test]
fn a_corrupt_middle_record_is_an_error_naming_file_and_line() {
    let path = common::temp_path("corrupt.journal");
    let mut s = open(&path);
    s.ask(3).unwrap();
    s.tell(0, Outcome::ok(1.0)).unwrap();
    drop(s);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{\"record\":\"ask\",\"id\":1,\"poi";
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = Study::from_json(&config(&path, 11, "random", "minimize")).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    assert!(msg.contains(&path.display().to_string()) && msg.contains("line 3"), "{msg}");
    assert_eq!(err.kind(), ErrorKind::Io);
    // A well-formed record that does not fit (a tell of an unknown trial) is named the same way.
    lines[2] = r#"{"record":"tell","id":9,"state":"ok","value":1.0,"finished_ms":0}"#;
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let msg = Study::from_json(&config(&path, 11, "random", "minimize")).unwrap_err().to_string();
    assert!(msg.contains("line 3") && msg.contains("unknown trial 9"), "{msg}");
}

#[test]
fn a_config_mismatch_names_the_file_and_what_differs() {
    let path = common::temp_path("mismatch.journal");
    drop(open(&path));
    for (cfg, needle) in [
        (config(&path, 11, "random", "maximize"), "the direction (stored minimize, given maximize)"),
        (config(&path, 12, "random", "minimize"), "the seed (stored 11, given 12)"),
        (
            config(&path, 11, "random", "minimize").replace(r#""high": 5"#, r#""high": 6"#),
            "the space (same labels [x, opt, beta]",
        ),
        (
            config(&path, 11, "random", "minimize").replace(r#""label": "x""#, r#""label": "y""#),
            "stored labels [x, opt, beta], given [y, opt, beta]",
        ),
    ] {
        let err = Study::from_json(&cfg).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::ConfigMismatch { .. }), "{err:?}");
        assert!(msg.contains(&path.display().to_string()) && msg.contains(needle), "{msg}");
    }
    // The grid sampler cannot take this space at all; a grid-able space stored as random is a mismatch.
    let grid_space = r#"{"sparktune_space": 1, "root": {"hp": "randint", "label": "r", "low": 0, "high": 3}}"#;
    let p2 = common::temp_path("mismatch2.journal");
    let c = |kind: &str| {
        format!(r#"{{"space": {grid_space}, "sampler": {{"kind": "{kind}"}}, "store": {}}}"#, json!(p2.to_str()))
    };
    drop(Study::from_json(&c("random")).unwrap());
    let msg = Study::from_json(&c("grid")).unwrap_err().to_string();
    assert!(msg.contains(r#"the sampler (stored {"kind":"random"}, given {"kind":"grid"})"#), "{msg}");
}

#[test]
fn a_store_is_locked_while_a_study_has_it_open() {
    let path = common::temp_path("locked.journal");
    let first = open(&path);
    let err = Study::from_json(&config(&path, 11, "random", "minimize")).unwrap_err();
    assert!(err.to_string().contains("locked"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Io);
    drop(first);
    drop(open(&path));
}

#[test]
fn a_grid_study_resumes_where_it_stopped() {
    let path = common::temp_path("grid.journal");
    let space = r#"{"sparktune_space": 1, "root": {"dict": {"a": {"hp": "randint", "label": "a", "low": 0, "high": 2}, "b": {"hp": "choice", "label": "b", "options": [{"const": 0}, {"const": 1}, {"const": 2}]}}}}"#;
    let cfg = format!(r#"{{"space": {space}, "sampler": {{"kind": "grid"}}, "store": {}}}"#, json!(path.to_str()));
    let mut s = Study::from_json(&cfg).unwrap();
    s.ask(4).unwrap();
    drop(s);
    let mut s = Study::from_json(&cfg).unwrap();
    let rest: Vec<_> = s.ask(10).unwrap().into_iter().map(|t| t.values).collect();
    assert_eq!(rest, [json!({"a": 1, "b": 1}), json!({"a": 1, "b": 2})]);
}

#[test]
fn the_arrow_export_reads_back() {
    let path = common::temp_path("arrow.journal");
    let mut s = open(&path);
    populate(&mut s);
    let bytes = s.trials_arrow_ipc().unwrap();
    let reader = StreamReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
    let schema = reader.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "state",
            "value",
            "error",
            "started_ms",
            "finished_ms",
            "point",
            "values",
            "param.x",
            "param.opt",
            "param.beta",
            "metric.auc",
            "metric.f1"
        ]
    );
    assert_eq!(schema.field(0).data_type(), &DataType::UInt64);
    assert_eq!(schema.field(4).data_type(), &DataType::Int64);
    let batches: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert_eq!(b.num_rows(), 10);
    let col = |name: &str| b.column(schema.index_of(name).unwrap()).clone();
    let ids = col("id");
    let ids = ids.as_any().downcast_ref::<UInt64Array>().unwrap();
    assert_eq!(ids.values().to_vec(), (0..10).collect::<Vec<u64>>());
    let state = col("state");
    let state = state.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(
        (state.value(0), state.value(7), state.value(8), state.value(9)),
        ("ok", "fail", "cancelled", "running")
    );
    let value = col("value");
    let value = value.as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(value.value(3), s.trials()[3].value.unwrap());
    assert!(value.is_null(7) && value.is_null(9));
    let error = col("error");
    let error = error.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(error.value(7), "diverged");
    assert!(error.is_null(0));
    let finished = col("finished_ms");
    let finished = finished.as_any().downcast_ref::<Int64Array>().unwrap();
    assert!(finished.is_null(9) && !finished.is_null(0));
    let point = col("point");
    let point = point.as_any().downcast_ref::<StringArray>().unwrap();
    let values = col("values");
    let values = values.as_any().downcast_ref::<StringArray>().unwrap();
    let beta = col("param.beta");
    let beta = beta.as_any().downcast_ref::<Float64Array>().unwrap();
    let x = col("param.x");
    let x = x.as_any().downcast_ref::<Float64Array>().unwrap();
    for (i, t) in s.trials().iter().enumerate() {
        assert_eq!(serde_json::from_str::<serde_json::Value>(point.value(i)).unwrap(), t.point.to_json_value());
        assert_eq!(serde_json::from_str::<serde_json::Value>(values.value(i)).unwrap(), t.values);
        assert_eq!(x.value(i), t.point.get("x").unwrap().as_f64());
        match t.point.get("beta") {
            Some(v) => assert_eq!(beta.value(i), v.as_f64()),
            None => assert!(beta.is_null(i), "inactive beta must be null in row {i}"),
        }
    }
    assert!((0..10).any(|i| beta.is_null(i)) && (0..10).any(|i| !beta.is_null(i)));
    let auc = col("metric.auc");
    let auc = auc.as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!((auc.value(2), auc.null_count()), (0.75, 9));
}

#[test]
fn an_in_memory_study_exports_an_empty_table() {
    let s =
        Study::new(StudyConfig::new(common::space(r#"{"hp": "normal", "label": "n", "mu": 0, "sigma": 1}"#))).unwrap();
    let bytes = s.trials_arrow_ipc().unwrap();
    let reader = StreamReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
    assert!(reader.schema().index_of("param.n").is_ok());
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 0);
}

#[test]
fn every_prefix_of_a_journal_opens_with_its_complete_records() {
    // A crash can cut the file anywhere: each prefix must open, keeping exactly its complete records.
    let path = common::temp_path("prefix-source.journal");
    let mut s = open(&path);
    s.ask(3).unwrap();
    s.tell(0, Outcome::ok(1.0)).unwrap();
    s.tell(2, Outcome::fail("x")).unwrap();
    drop(s);
    let bytes = std::fs::read(&path).unwrap();
    let line_ends: Vec<usize> = bytes.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i + 1).collect();
    let cut = common::temp_path("prefix.journal");
    for len in 0..=bytes.len() {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        let study = Study::from_json(&config(&cut, 11, "random", "minimize"))
            .unwrap_or_else(|e| panic!("prefix of {len} bytes: {e}"));
        let complete = line_ends.iter().filter(|&&end| end <= len).count();
        // Line 1 is the study record, lines 2-4 the asks.
        let asks = complete.saturating_sub(1).min(3);
        assert_eq!(study.trials().len(), asks, "prefix of {len} bytes");
        let torn = study.warnings().iter().any(|w| w.contains("torn"));
        assert_eq!(torn, len > 0 && !line_ends.contains(&len), "prefix of {len} bytes: {:?}", study.warnings());
    }
    // A damaged byte anywhere gives a study or an error, never a panic.
    for i in (0..bytes.len()).step_by(7) {
        let mut damaged = bytes.clone();
        damaged[i] = if damaged[i] == b'}' { b'x' } else { b'}' };
        std::fs::write(&cut, &damaged).unwrap();
        let _ = std::panic::catch_unwind(|| Study::from_json(&config(&cut, 11, "random", "minimize")))
            .unwrap_or_else(|_| panic!("panic with byte {i} damaged"));
    }
}
