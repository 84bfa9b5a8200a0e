//! The native methods of `io.sparktune.jni.Native`. Each is a one-line shim into
//! [`try_unwrap_or_throw`] (DataFusion Comet's pattern), which runs the call under `catch_unwind` and
//! throws the exception of the error's kind, unless the JVM already has one pending.

use jni::objects::{JByteArray, JObject, JString};
use jni::sys::{jbyteArray, jint, jlong, jstring};
use jni::JNIEnv;
use sparktune_core::ErrorKind;

use crate::error::{catch_panic, BridgeError, BridgeResult};
use crate::ops;

/// The Java class each kind of error becomes.
fn exception_class(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => "java/lang/IllegalArgumentException",
        ErrorKind::State => "java/lang/IllegalStateException",
        ErrorKind::Io => "java/io/IOException",
        _ => "io/sparktune/jni/SparktuneNativeException",
    }
}

/// Runs `f`; on an error or a panic, throws the fitting Java exception and returns `default`
/// (which the JVM ignores, the exception being pending).
pub fn try_unwrap_or_throw<'l, T>(
    env: &mut JNIEnv<'l>,
    default: T,
    f: impl FnOnce(&mut JNIEnv<'l>) -> BridgeResult<T>,
) -> T {
    match catch_panic(|| f(env)) {
        Ok(value) => value,
        Err(error) => {
            throw(env, &error);
            default
        }
    }
}

fn throw(env: &mut JNIEnv<'_>, error: &BridgeError) {
    // A JNI call inside `f` may have left an exception pending: it says more than ours would.
    if env.exception_check().unwrap_or(true) {
        return;
    }
    if env.throw_new(exception_class(error.kind), &error.message).is_err() {
        // Our own class missing from the classpath must not hide the error itself.
        let _ = env.throw_new("java/lang/RuntimeException", &error.message);
    }
}

fn read(env: &mut JNIEnv<'_>, s: &JString<'_>, name: &str) -> BridgeResult<String> {
    if s.is_null() {
        return Err(BridgeError::invalid(format!("argument '{name}' is null")));
    }
    env.get_string(s)
        .map(String::from)
        .map_err(|e| BridgeError::invalid(format!("argument '{name}' is not a readable string: {e}")))
}

fn string(env: &mut JNIEnv<'_>, s: String) -> BridgeResult<jstring> {
    env.new_string(s)
        .map(JString::into_raw)
        .map_err(|e| BridgeError::internal(format!("cannot make a Java string: {e}")))
}

/// `String version()`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_version<'l>(mut env: JNIEnv<'l>, _this: JObject<'l>) -> jstring {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| string(env, ops::version()))
}

/// `String validateSpace(String spaceJson)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_validateSpace<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    space: JString<'l>,
) -> jstring {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| {
        let space = read(env, &space, "spaceJson")?;
        string(env, ops::validate_space(&space)?)
    })
}

/// `String spaceEval(String spaceJson, String pointJson)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_spaceEval<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    space: JString<'l>,
    point: JString<'l>,
) -> jstring {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| {
        let (space, point) = (read(env, &space, "spaceJson")?, read(env, &point, "pointJson")?);
        string(env, ops::space_eval(&space, &point)?)
    })
}

/// `long createStudy(String configJson)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_createStudy<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    config: JString<'l>,
) -> jlong {
    try_unwrap_or_throw(&mut env, 0, |env| ops::create_study(&read(env, &config, "configJson")?))
}

/// `String ask(long handle, int n)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_ask<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    n: jint,
) -> jstring {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| string(env, ops::ask(handle, i64::from(n))?))
}

/// `String enqueue(long handle, String pointJson)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_enqueue<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    point: JString<'l>,
) -> jstring {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| {
        let point = read(env, &point, "pointJson")?;
        string(env, ops::enqueue(handle, &point)?)
    })
}

/// `String tell(long handle, long trialId, String outcomeJson)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_tell<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    trial_id: jlong,
    outcome: JString<'l>,
) -> jstring {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| {
        let outcome = read(env, &outcome, "outcomeJson")?;
        string(env, ops::tell(handle, trial_id, &outcome)?)
    })
}

/// `String trials(long handle)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_trials<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) -> jstring {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| string(env, ops::trials(handle)?))
}

/// `String best(long handle)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_best<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) -> jstring {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| string(env, ops::best(handle)?))
}

/// `String info(long handle)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_info<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) -> jstring {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| string(env, ops::info(handle)?))
}

/// `byte[] trialsArrow(long handle)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_trialsArrow<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) -> jbyteArray {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| {
        let bytes = ops::trials_arrow(handle)?;
        env.byte_array_from_slice(&bytes)
            .map(JByteArray::into_raw)
            .map_err(|e| BridgeError::internal(format!("cannot make a Java byte[]: {e}")))
    })
}

/// `void closeStudy(long handle)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_closeStudy<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) {
    try_unwrap_or_throw(&mut env, (), |_| ops::close_study(handle));
}

/// `String shouldPrune(String configJson, String reportJson)`
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_shouldPrune<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    config: JString<'l>,
    report: JString<'l>,
) -> jstring {
    try_unwrap_or_throw(&mut env, std::ptr::null_mut(), |env| {
        let (config, report) = (read(env, &config, "configJson")?, read(env, &report, "reportJson")?);
        string(env, ops::should_prune(&config, &report)?)
    })
}

/// `void testPanic(String message)`: panics on purpose, for the tests of this boundary.
#[no_mangle]
pub extern "system" fn Java_io_sparktune_jni_Native_testPanic<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    message: JString<'l>,
) {
    try_unwrap_or_throw(&mut env, (), |env| ops::test_panic(&read(env, &message, "message")?));
}
