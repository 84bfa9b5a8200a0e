//! The trial journal: a JSON-lines file, one record per line, appended to and never rewritten.
//!
//! ```text
//! {"record":"study","journal_version":1,"config":{"space":{...},"sampler":{"kind":"random"},"seed":42,"direction":"minimize"}}
//! {"record":"ask","id":0,"point":{"x":0.25},"started_ms":1767225600000}
//! {"record":"tell","id":0,"state":"ok","value":0.93,"finished_ms":1767225601000}
//! ```
//!
//! A tell is on disk (`sync_data`) before `Study::tell` returns; asks are written without a sync,
//! since a lost ask is proposed again identically on resume and a later tell's sync covers them.
//! The file is locked (`flock`) while a study has it open, so two studies cannot interleave records.
//!
//! On open, every record is replayed. A last line cut mid-write (no newline, or not JSON) is
//! dropped with a warning naming the file and byte offset, and the file truncated there; a bad
//! line before the last is an error naming the file and line, since dropping it would lose data.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::space::Point;
use crate::study::StudyConfig;
use crate::trial::{Outcome, Trial, TrialState};

/// The version of the journal's record format this build reads and writes.
pub const JOURNAL_VERSION: u32 = 1;

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum Record {
    /// The first line: what the study is.
    Study {
        /// [`JOURNAL_VERSION`] of the writer.
        journal_version: u32,
        /// The config, without the store path (the file may move).
        config: Value,
    },
    /// A trial was proposed.
    Ask {
        /// The trial's id.
        id: u64,
        /// Its point (the values are recomputed from it on replay).
        point: Point,
        /// When it was asked.
        started_ms: i64,
    },
    /// A trial's outcome.
    Tell {
        /// The trial's id.
        id: u64,
        /// ok, fail or cancelled.
        state: TrialState,
        /// The value, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<f64>,
        /// Metrics, if any.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        metrics: BTreeMap<String, f64>,
        /// The error text, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// The caller's own attributes, if any.
        #[serde(default, skip_serializing_if = "Value::is_null")]
        attrs: Value,
        /// When it was told.
        finished_ms: i64,
    },
}

impl Record {
    pub(crate) fn ask(trial: &Trial) -> Record {
        Record::Ask { id: trial.id, point: trial.point.clone(), started_ms: trial.started_ms }
    }

    pub(crate) fn tell(id: u64, outcome: &Outcome, finished_ms: i64) -> Record {
        Record::Tell {
            id,
            state: outcome.state,
            value: outcome.value.filter(|v| v.is_finite()),
            metrics: outcome.metrics.clone(),
            error: outcome.error.clone(),
            attrs: outcome.attrs.clone(),
            finished_ms,
        }
    }
}

/// An open journal, locked for this process.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    /// Length of the file up to its last complete record: a failed write is cut back to it.
    len: u64,
    buf: Vec<u8>,
}

/// What opening a journal gives: the journal, the records after the study record (with their
/// 1-based line numbers), and warnings.
pub(crate) struct Replay {
    pub journal: Journal,
    pub records: Vec<(usize, Record)>,
    pub warnings: Vec<String>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` for a study made with `config`.
    pub(crate) fn open(path: &Path, config: &StudyConfig) -> Result<Replay> {
        let io = |what: &str, e: std::io::Error| Error::store(path, format!("{what}: {e}"));
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| io("cannot create its directory", e))?;
        }
        let mut file =
            OpenOptions::new().read(true).append(true).create(true).open(path).map_err(|e| io("cannot open", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::store(
                    path,
                    "is locked by another open study (in another process, or one not yet closed in this one)",
                ))
            }
            Err(TryLockError::Error(e)) => return Err(io("cannot lock", e)),
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| io("cannot read", e))?;
        let (mut records, good_len, warnings) = parse(path, &bytes)?;
        let mut journal = Journal { path: path.to_owned(), file, len: bytes.len() as u64, buf: Vec::new() };
        if good_len < journal.len {
            journal.file.set_len(good_len).map_err(|e| io("cannot truncate the torn record", e))?;
            journal.file.sync_data().map_err(|e| io("cannot sync", e))?;
            journal.len = good_len;
        }
        if records.is_empty() {
            let mut stored = config.clone();
            stored.store = None;
            let config = serde_json::to_value(&stored).map_err(|e| Error::Internal(e.to_string()))?;
            journal.append_synced(std::iter::once(Record::Study { journal_version: JOURNAL_VERSION, config }))?;
            // The new file's directory entry must be durable too.
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                let _ = File::open(parent).and_then(|d| d.sync_all());
            }
        } else {
            let (line, first) = records.remove(0);
            check_study_record(path, line, first, config)?;
        }
        Ok(Replay { journal, records, warnings })
    }

    /// The journal's file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends records (one write); on failure the file is cut back to its last complete record.
    pub(crate) fn append(&mut self, records: impl Iterator<Item = Record>) -> Result<()> {
        self.buf.clear();
        for record in records {
            serde_json::to_writer(&mut self.buf, &record).map_err(|e| Error::Internal(e.to_string()))?;
            self.buf.push(b'\n');
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        match self.file.write_all(&self.buf) {
            Ok(()) => {
                self.len += self.buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.len);
                Err(Error::store(&self.path, format!("cannot write: {e}")))
            }
        }
    }

    /// Appends records and syncs the file's data to disk before returning.
    pub(crate) fn append_synced(&mut self, records: impl Iterator<Item = Record>) -> Result<()> {
        let before = self.len;
        self.append(records)?;
        if let Err(e) = self.file.sync_data() {
            // The caller is told the records were not kept, so they must not be replayed either.
            let _ = self.file.set_len(before);
            self.len = before;
            return Err(Error::store(&self.path, format!("cannot sync: {e}")));
        }
        Ok(())
    }
}

type Parsed = (Vec<(usize, Record)>, u64, Vec<String>);

/// The records of the file's bytes, the length up to the last good record, and warnings.
fn parse(path: &Path, bytes: &[u8]) -> Result<Parsed> {
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    let mut offset = 0usize;
    let mut line = 0usize;
    while offset < bytes.len() {
        line += 1;
        let rest = &bytes[offset..];
        let newline = rest.iter().position(|&b| b == b'\n');
        let parsed = newline.map(|end| serde_json::from_slice::<Record>(&rest[..end]));
        match (newline, parsed) {
            (Some(end), Some(Ok(record))) => {
                records.push((line, record));
                offset += end + 1;
            }
            // A bad record that is the last line, or a last line without its newline: cut mid-write.
            (Some(end), Some(Err(_))) if offset + end + 1 == bytes.len() => {
                warnings.push(torn_warning(path, offset, bytes.len() - offset));
                break;
            }
            (None, _) => {
                warnings.push(torn_warning(path, offset, bytes.len() - offset));
                break;
            }
            (Some(_), Some(Err(e))) => {
                return Err(Error::store(path, format!("line {line}: corrupt record: {e}")));
            }
            (Some(_), None) => return Err(Error::Internal("a line without a parse".to_owned())),
        }
    }
    Ok((records, offset as u64, warnings))
}

fn torn_warning(path: &Path, offset: usize, len: usize) -> String {
    format!(
        "store {}: dropped a torn last record at byte offset {offset} ({len} bytes written only in part when a process stopped); the file was truncated to {offset} bytes",
        path.display()
    )
}

/// The seed in the study record of the journal at `path`, or `None` when there is no journal to
/// resume (no file, or an empty one). A binding that draws a fresh seed for a new study uses it to
/// resume an existing one with the seed it was made with. Errors name the file.
pub fn stored_seed(path: &Path) -> Result<Option<u64>> {
    use std::io::BufRead;
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::store(path, format!("cannot open: {e}"))),
    };
    let mut first = Vec::new();
    std::io::BufReader::new(file)
        .read_until(b'\n', &mut first)
        .map_err(|e| Error::store(path, format!("cannot read: {e}")))?;
    if first.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if first.first() == Some(&0x80) {
        // What hyperopt writes as its trials_save_file: users switching over may point at one.
        return Err(Error::store(path, "is a pickle (hyperopt's trials_save_file?), not a sparktune journal"));
    }
    match serde_json::from_slice::<Record>(first.trim_ascii_end()) {
        Ok(Record::Study { config, .. }) => Ok(Some(config.get("seed").and_then(Value::as_u64).unwrap_or(0))),
        Ok(_) => Err(Error::store(path, "line 1: the first record is not the study record")),
        Err(e) => Err(Error::store(path, format!("line 1: not a sparktune journal's study record: {e}"))),
    }
}

/// The first record must be the study record of the same study (space, sampler, direction, seed).
fn check_study_record(path: &Path, line: usize, record: Record, config: &StudyConfig) -> Result<()> {
    let Record::Study { journal_version, config: stored } = record else {
        return Err(Error::store(path, format!("line {line}: the first record is not the study record")));
    };
    if journal_version != JOURNAL_VERSION {
        return Err(Error::store(
            path,
            format!("line {line}: journal version {journal_version}, this build reads version {JOURNAL_VERSION}"),
        ));
    }
    let stored: StudyConfig = serde_json::from_value(stored)
        .map_err(|e| Error::store(path, format!("line {line}: the stored study config is unreadable: {e}")))?;
    let mut differs = Vec::new();
    if stored.space != config.space {
        let (s, g) = (stored.space.labels().join(", "), config.space.labels().join(", "));
        differs.push(if s == g {
            format!("the space (same labels [{s}], different kinds, bounds or options)")
        } else {
            format!("the space (stored labels [{s}], given [{g}])")
        });
    }
    if stored.sampler != config.sampler {
        let show = |c| serde_json::to_string(c).unwrap_or_default();
        differs.push(format!("the sampler (stored {}, given {})", show(&stored.sampler), show(&config.sampler)));
    }
    if stored.direction != config.direction {
        differs.push(format!("the direction (stored {}, given {})", stored.direction.name(), config.direction.name()));
    }
    // The seed too: a resumed random study must propose what the uninterrupted one would have.
    if stored.seed != config.seed {
        differs.push(format!("the seed (stored {}, given {})", stored.seed, config.seed));
    }
    if differs.is_empty() {
        Ok(())
    } else {
        Err(Error::ConfigMismatch { path: path.to_owned(), differs: differs.join("; ") })
    }
}
