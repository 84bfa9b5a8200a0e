//! Where trials are kept beyond memory: the JSON-lines journal a study resumes from, and the
//! Arrow IPC export of the trials table.

mod arrow;
pub(crate) mod journal;

pub use self::arrow::trials_arrow_ipc;
pub use journal::{stored_seed, JOURNAL_VERSION};
