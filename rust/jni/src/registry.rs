//! Study handles: callers hold a number, never a pointer, so a closed or made-up handle is an error
//! and not undefined behaviour.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use sparktune_core::Study;

use crate::error::{BridgeError, BridgeResult};

type Studies = HashMap<i64, Arc<Mutex<Study>>>;

fn studies() -> &'static Mutex<Studies> {
    static STUDIES: OnceLock<Mutex<Studies>> = OnceLock::new();
    STUDIES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Handles start at 1 and are never reused, so a stale handle cannot reach another study.
static NEXT_HANDLE: AtomicI64 = AtomicI64::new(1);

/// The map's lock is only held for a lookup, an insert or a remove, none of which can leave the map
/// half-changed: a poisoned map is taken over as it is.
fn lock_map() -> MutexGuard<'static, Studies> {
    studies().lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers `study` and returns its handle.
pub fn insert(study: Study) -> i64 {
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    lock_map().insert(handle, Arc::new(Mutex::new(study)));
    handle
}

/// Runs `f` on the study of `handle`, holding only that study's lock (not the map's), so that calls
/// on different studies run in parallel.
///
/// A study whose lock is poisoned was being changed when a call panicked: it may be half-updated, so
/// it is reported rather than used. Closing it still works, and its store (if any) reopens cleanly.
pub fn with<T>(handle: i64, f: impl FnOnce(&mut Study) -> BridgeResult<T>) -> BridgeResult<T> {
    let study = lock_map().get(&handle).cloned().ok_or_else(|| unknown(handle))?;
    let mut guard = study.lock().map_err(|_| {
        BridgeError::internal(format!(
            "study handle {handle} is unusable: an earlier call panicked while using it; close it \
             (a study with a store can be reopened from it)"
        ))
    })?;
    f(&mut guard)
}

/// Removes the study of `handle`; its journal is closed when the last user lets go.
pub fn remove(handle: i64) -> BridgeResult<()> {
    lock_map().remove(&handle).map(drop).ok_or_else(|| unknown(handle))
}

fn unknown(handle: i64) -> BridgeError {
    BridgeError::state(format!("study handle {handle} is closed or was never opened"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::catch_panic;
    use sparktune_core::ErrorKind;

    const CONFIG: &str =
        r#"{"space": {"sparktune_space": 1, "root": {"hp": "uniform", "label": "x", "low": 0, "high": 1}}}"#;

    #[test]
    fn a_study_poisoned_by_a_panic_is_reported_then_closes() -> BridgeResult<()> {
        let handle = insert(Study::from_json(CONFIG)?);
        // A panic while the study's lock is held poisons it, as a bug in the core would.
        #[allow(clippy::panic)]
        let panicked = catch_panic(|| with(handle, |_| -> BridgeResult<()> { std::panic::panic_any("mid-update") }));
        assert!(panicked.is_err_and(|e| e.kind == ErrorKind::Internal && e.message.contains("mid-update")));
        let again = with(handle, |study| Ok(study.trials().len()));
        assert!(
            again
                .as_ref()
                .is_err_and(|e| e.kind == ErrorKind::Internal && e.message.contains(&format!("handle {handle}"))),
            "{again:?}"
        );
        remove(handle)?;
        assert_eq!(remove(handle).err().map(|e| e.kind), Some(ErrorKind::State));
        Ok(())
    }

    #[test]
    fn handles_are_never_reused() -> BridgeResult<()> {
        let a = insert(Study::from_json(CONFIG)?);
        remove(a)?;
        let b = insert(Study::from_json(CONFIG)?);
        assert!(b > a && a >= 1);
        assert!(with(a, |_| Ok(())).is_err_and(|e| e.kind == ErrorKind::State && e.message.contains(&a.to_string())));
        remove(b)
    }
}
