//! The one error type of the crate, and the coarse [`ErrorKind`] that bindings map to exception classes.

use std::path::PathBuf;

use crate::trial::TrialState;

/// A shorthand for results whose error is the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in sparktune's core. Each message says what was wrong and where:
/// the label or JSON path of a search space, the trial id, or the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A search space breaks a rule. `path` is a JSON pointer into the space document
    /// (e.g. `/root/dict/lr`), `label` the hyperparameter's label when the node has one.
    #[error("invalid search space at {}{}: {rule}", display_path(.path), display_label(.label))]
    InvalidSpace {
        /// JSON pointer of the offending node, relative to the space document.
        path: String,
        /// The label of the offending hyperparameter, if the node is one.
        label: Option<String>,
        /// The rule that was broken, in words.
        rule: String,
    },
    /// Text that should be JSON is not, or has the wrong shape.
    #[error("malformed JSON in {what}: {message}")]
    Json {
        /// What was being read (e.g. "search space", "study config", "outcome").
        what: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The space document's `sparktune_space` version is missing or not one this build reads.
    #[error("search space schema version: {found}; expected \"sparktune_space\": {expected}")]
    SchemaVersion {
        /// What was found, in words (e.g. "missing" or "2").
        found: String,
        /// The version this build reads.
        expected: u32,
    },
    /// A discrete-only sampler (grid) met a parameter whose values cannot be listed.
    #[error("continuous parameter '{label}' ({kind}) cannot be enumerated in a grid")]
    NotEnumerable {
        /// The parameter's label.
        label: String,
        /// The parameter's kind (e.g. "uniform").
        kind: &'static str,
    },
    /// An argument is out of its domain (a non-finite value, a point that does not fit the space...).
    #[error("{0}")]
    InvalidArgument(String),
    /// No trial has this id.
    #[error("unknown trial {id}: the study has {n_trials} trials (ids 0 to n - 1)")]
    UnknownTrial {
        /// The id asked for.
        id: u64,
        /// How many trials the study has.
        n_trials: usize,
    },
    /// The trial is not in a state that allows the operation (e.g. telling a finished trial).
    #[error("trial {id} is {state}, not running: it cannot be told again")]
    TrialState {
        /// The trial's id.
        id: u64,
        /// Its current state.
        state: TrialState,
    },
    /// A store's recorded study differs from the config it is opened with.
    #[error("store {}: the stored study differs from the config: {differs}", .path.display())]
    ConfigMismatch {
        /// The store's file.
        path: PathBuf,
        /// What differs, in words.
        differs: String,
    },
    /// A store's file cannot be read, written or trusted.
    #[error("store {}: {message}", .path.display())]
    Store {
        /// The store's file.
        path: PathBuf,
        /// What went wrong, with the line or byte offset where it applies.
        message: String,
    },
    /// A bug in sparktune, not in its input.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Coarse classes of [`Error`], for bindings that map errors to their own exception types
/// (the JNI crate: IllegalArgumentException, IllegalStateException, IOException, SparktuneNativeException).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller's input is wrong: a space, a config, a point, an outcome, a trial id.
    InvalidInput,
    /// The input is well-formed but the study's state forbids it (e.g. a trial told twice).
    State,
    /// A file could not be read or written, or its content is damaged.
    Io,
    /// A bug in sparktune.
    Internal,
}

impl Error {
    /// The class of this error, for bindings.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidSpace { .. }
            | Error::Json { .. }
            | Error::SchemaVersion { .. }
            | Error::NotEnumerable { .. }
            | Error::InvalidArgument(_)
            | Error::UnknownTrial { .. }
            | Error::ConfigMismatch { .. } => ErrorKind::InvalidInput,
            Error::TrialState { .. } => ErrorKind::State,
            Error::Store { .. } => ErrorKind::Io,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// A [`Error::InvalidSpace`] at `path`, for the node labelled `label` if any.
    pub(crate) fn space(path: &str, label: Option<&str>, rule: impl Into<String>) -> Error {
        Error::InvalidSpace { path: path.to_owned(), label: label.map(str::to_owned), rule: rule.into() }
    }

    /// A [`Error::Json`] from a serde_json error while reading `what`.
    pub(crate) fn json(what: &str, err: &serde_json::Error) -> Error {
        Error::Json { what: what.to_owned(), message: err.to_string() }
    }

    /// A [`Error::Store`] about the file `path`.
    pub(crate) fn store(path: &std::path::Path, message: impl Into<String>) -> Error {
        Error::Store { path: path.to_owned(), message: message.into() }
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "the document root"
    } else {
        path
    }
}

fn display_label(label: &Option<String>) -> String {
    match label {
        Some(l) => format!(" (label '{l}')"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_the_jni_exception_classes() {
        let cases = [
            (Error::space("/root", Some("x"), "rule"), ErrorKind::InvalidInput),
            (Error::Json { what: "x".into(), message: "y".into() }, ErrorKind::InvalidInput),
            (Error::SchemaVersion { found: "2".into(), expected: 1 }, ErrorKind::InvalidInput),
            (Error::NotEnumerable { label: "x".into(), kind: "uniform" }, ErrorKind::InvalidInput),
            (Error::InvalidArgument("x".into()), ErrorKind::InvalidInput),
            (Error::UnknownTrial { id: 1, n_trials: 0 }, ErrorKind::InvalidInput),
            (Error::ConfigMismatch { path: "f".into(), differs: "seed".into() }, ErrorKind::InvalidInput),
            (Error::TrialState { id: 1, state: TrialState::Ok }, ErrorKind::State),
            (Error::store(std::path::Path::new("/f"), "bad"), ErrorKind::Io),
            (Error::Internal("bug".into()), ErrorKind::Internal),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind, "{err}");
        }
    }

    #[test]
    fn messages_name_the_path_and_label() {
        let msg = Error::space("/root/dict/lr", Some("lr"), "low (3) must be < high (1)").to_string();
        assert_eq!(msg, "invalid search space at /root/dict/lr (label 'lr'): low (3) must be < high (1)");
        let msg = Error::space("", None, "missing field 'root'").to_string();
        assert_eq!(msg, "invalid search space at the document root: missing field 'root'");
        let msg = Error::store(std::path::Path::new("/tmp/s.journal"), "line 3: corrupt record").to_string();
        assert_eq!(msg, "store /tmp/s.journal: line 3: corrupt record");
    }
}
