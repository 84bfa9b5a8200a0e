//! What goes wrong at the bridge: the core's errors, bad arguments, and panics, each with the kind
//! that picks the exception a caller sees.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use sparktune_core::{Error, ErrorKind};

/// An error on its way out of the bridge.
#[derive(Clone, Debug, PartialEq)]
pub struct BridgeError {
    /// Which class of exception (or which `kind` in the C ABI's JSON) it becomes.
    pub kind: ErrorKind,
    /// What went wrong and where, as the core or the bridge said it.
    pub message: String,
}

/// The bridge's result type.
pub type BridgeResult<T> = Result<T, BridgeError>;

impl BridgeError {
    /// A caller's mistake (a null argument, a negative count, JSON of the wrong shape).
    pub fn invalid(message: impl Into<String>) -> BridgeError {
        BridgeError { kind: ErrorKind::InvalidInput, message: message.into() }
    }

    /// A handle that is unknown or already closed.
    pub fn state(message: impl Into<String>) -> BridgeError {
        BridgeError { kind: ErrorKind::State, message: message.into() }
    }

    /// A failure inside the bridge itself.
    pub fn internal(message: impl Into<String>) -> BridgeError {
        BridgeError { kind: ErrorKind::Internal, message: message.into() }
    }

    /// The name of the kind, as the C ABI reports it.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::State => "State",
            ErrorKind::Io => "Io",
            _ => "Internal",
        }
    }
}

impl From<Error> for BridgeError {
    fn from(e: Error) -> BridgeError {
        BridgeError { kind: e.kind(), message: e.to_string() }
    }
}

thread_local! {
    /// Set while a bridge call runs, so that the panic hook stays quiet there: the panic's message
    /// travels in the exception instead of being printed to the JVM's stderr.
    static IN_BRIDGE_CALL: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic of a bridge call on this thread happened (`file:line`), which the quiet
    /// hook keeps for the exception's message, the payload alone rarely saying where.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once per process) a panic hook that is silent inside bridge calls and defers to the
/// previous hook everywhere else.
fn install_quiet_hook() {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_BRIDGE_CALL.with(Cell::get) {
                let at = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
                PANIC_LOCATION.with(|cell| *cell.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into an `Internal` error that carries the panic's message and place.
pub fn catch_panic<T>(f: impl FnOnce() -> BridgeResult<T>) -> BridgeResult<T> {
    install_quiet_hook();
    let outer = IN_BRIDGE_CALL.with(|flag| flag.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_BRIDGE_CALL.with(|flag| flag.set(outer));
    result.unwrap_or_else(|payload| {
        let at = PANIC_LOCATION.with(|cell| cell.borrow_mut().take());
        let at = at.map(|at| format!(" (at {at})")).unwrap_or_default();
        Err(BridgeError::internal(format!("panic in sparktune's native code: {}{at}", panic_message(&*payload))))
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error_with_its_message() {
        let r: BridgeResult<()> = catch_panic(|| std::panic::panic_any("boom at the border".to_owned()));
        let e = r.err().unwrap_or_else(|| BridgeError::invalid("no error"));
        assert_eq!(e.kind, ErrorKind::Internal);
        assert!(e.message.contains("boom at the border"), "{}", e.message);
        assert!(e.message.contains("src/error.rs:"), "the place of the panic: {}", e.message);
    }

    #[test]
    fn errors_and_values_pass_through() {
        assert_eq!(catch_panic(|| Ok(7)), Ok(7));
        let e = catch_panic::<()>(|| Err(BridgeError::state("closed"))).err();
        assert_eq!(e.map(|e| e.kind), Some(ErrorKind::State));
    }
}
