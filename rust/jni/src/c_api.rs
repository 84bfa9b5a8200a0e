//! The C ABI of the library, for callers without a JVM: Python's `sparktune.hyperopt` loads the
//! library out of the jar with ctypes. One entry point takes a method name and its arguments as a
//! JSON object and answers `{"ok": result}` or `{"error": {"kind": "...", "message": "..."}}`, so the
//! Python side stays a thin wrapper over [`crate::ops`].
//!
//! ```text
//! char *sparktune_call(const char *method, const char *args_json);  /* free with sparktune_free */
//! void sparktune_free(char *answer);
//! ```

use std::ffi::{c_char, CStr, CString};

use serde_json::{json, Value};

use crate::error::{catch_panic, BridgeError, BridgeResult};
use crate::ops::{self, field};

/// Runs `method` with `args_json` and returns the answer as a NUL-terminated UTF-8 string that the
/// caller must give back to [`sparktune_free`]. Never returns null, never unwinds.
///
/// # Safety
/// `method` and `args_json` must be null or point to NUL-terminated strings valid for this call.
#[no_mangle]
pub unsafe extern "C" fn sparktune_call(method: *const c_char, args_json: *const c_char) -> *mut c_char {
    let answer = catch_panic(|| {
        let method = unsafe { read(method, "method")? };
        let args = unsafe { read(args_json, "args_json")? };
        dispatch(&method, &args)
    });
    let text = match answer {
        // The result is JSON already: wrap it without parsing it again.
        Ok(result) => format!("{{\"ok\":{result}}}"),
        Err(e) => json!({"error": {"kind": e.kind_name(), "message": e.message}}).to_string(),
    };
    // JSON text escapes NUL inside strings, so the only way this fails is impossible; answer anyway.
    CString::new(text).unwrap_or_default().into_raw()
}

/// Frees an answer of [`sparktune_call`].
///
/// # Safety
/// `answer` must be null or a pointer returned by `sparktune_call`, freed once.
#[no_mangle]
pub unsafe extern "C" fn sparktune_free(answer: *mut c_char) {
    if !answer.is_null() {
        drop(unsafe { CString::from_raw(answer) });
    }
}

/// # Safety
/// `s` must be null or a NUL-terminated string.
unsafe fn read(s: *const c_char, name: &str) -> BridgeResult<String> {
    if s.is_null() {
        return Err(BridgeError::invalid(format!("argument '{name}' is null")));
    }
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map(str::to_owned)
        .map_err(|e| BridgeError::invalid(format!("argument '{name}' is not UTF-8: {e}")))
}

/// The JSON result of `method`.
fn dispatch(method: &str, args: &str) -> BridgeResult<String> {
    let args: Value = serde_json::from_str(args)
        .map_err(|e| BridgeError::invalid(format!("{method}: arguments are not JSON: {e}")))?;
    let text = |name: &str| -> BridgeResult<String> {
        // Spaces, points and configs arrive as JSON objects (or as JSON text, in a string, passed
        // on as it is so that the core names what is malformed); the core reads them from text.
        Ok(match field(&args, name, method)? {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    };
    let int = |name: &str| -> BridgeResult<i64> {
        field(&args, name, method)?
            .as_i64()
            .ok_or_else(|| BridgeError::invalid(format!("{method}: argument '{name}' must be an integer")))
    };
    match method {
        "version" => Ok(Value::from(ops::version()).to_string()),
        "validate_space" => ops::validate_space(&text("space")?),
        "space_eval" => ops::space_eval(&text("space")?, &text("point")?),
        "create_study" => {
            let handle = ops::create_study(&text("config")?)?;
            let info = ops::info(handle)?;
            Ok(format!("{{\"handle\":{handle},\"info\":{info}}}"))
        }
        "ask" => ops::ask(int("handle")?, int("n")?),
        "enqueue" => ops::enqueue(int("handle")?, &text("point")?),
        "tell" => ops::tell(int("handle")?, int("id")?, &text("outcome")?),
        "trials" => ops::trials(int("handle")?),
        "best" => ops::best(int("handle")?),
        "info" => ops::info(int("handle")?),
        "close_study" => ops::close_study(int("handle")?).map(|()| "null".to_owned()),
        "test_panic" => ops::test_panic(&text("message")?).map(|()| "null".to_owned()),
        other => Err(BridgeError::invalid(format!(
            "unknown method '{other}' (known: version, validate_space, space_eval, create_study, ask, enqueue, \
             tell, trials, best, info, close_study)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, args: &str) -> Value {
        let (m, a) = (CString::new(method).unwrap_or_default(), CString::new(args).unwrap_or_default());
        // SAFETY: both are valid C strings; the answer is freed once.
        unsafe {
            let answer = sparktune_call(m.as_ptr(), a.as_ptr());
            let text = CStr::from_ptr(answer).to_string_lossy().into_owned();
            sparktune_free(answer);
            serde_json::from_str(&text).unwrap_or(Value::Null)
        }
    }

    #[test]
    fn a_whole_study_through_the_c_abi() {
        let created = call(
            "create_study",
            r#"{"config": {"space": {"sparktune_space": 1, "root": {"hp": "choice", "label": "c",
                "options": [{"const": "a"}, {"const": "b"}]}}, "sampler": {"kind": "tpe"}, "seed": 3}}"#,
        );
        let handle = created["ok"]["handle"].as_i64().unwrap_or(-1);
        assert!(handle > 0, "{created}");
        let asked = call("ask", &format!(r#"{{"handle": {handle}, "n": 1}}"#));
        assert_eq!(asked["ok"][0]["id"], 0, "{asked}");
        let told = call(
            "tell",
            &format!(
                r#"{{"handle": {handle}, "id": 0, "outcome": {{"state": "ok", "value": 1.5, "attrs": {{"k": 1}}}}}}"#
            ),
        );
        assert_eq!(told["ok"]["attrs"]["k"], 1, "{told}");
        assert_eq!(call("close_study", &format!(r#"{{"handle": {handle}}}"#))["ok"], Value::Null);
        let again = call("ask", &format!(r#"{{"handle": {handle}, "n": 1}}"#));
        assert_eq!(again["error"]["kind"], "State", "{again}");
    }

    #[test]
    fn errors_come_back_as_json_with_their_kind() {
        let bad_space = call(
            "validate_space",
            r#"{"space": {"sparktune_space": 1, "root": {"hp": "uniform", "label": "lr", "low": 1, "high": 0}}}"#,
        );
        assert_eq!(bad_space["error"]["kind"], "InvalidInput");
        assert!(bad_space["error"]["message"].as_str().unwrap_or("").contains("'lr'"), "{bad_space}");
        assert_eq!(call("nope", "{}")["error"]["kind"], "InvalidInput");
        assert_eq!(call("ask", "not json")["error"]["kind"], "InvalidInput");
        assert!(call("ask", r#"{"n": 1}"#)["error"]["message"].as_str().unwrap_or("").contains("'handle'"));
        let panicked = call("test_panic", r#"{"message": "boom"}"#);
        assert_eq!(panicked["error"]["kind"], "Internal");
        assert!(panicked["error"]["message"].as_str().unwrap_or("").contains("boom"));
        // SAFETY: null pointers are answered with an error, not dereferenced.
        let answer = unsafe { sparktune_call(std::ptr::null(), std::ptr::null()) };
        assert!(!answer.is_null());
        unsafe { sparktune_free(answer) };
    }
}
