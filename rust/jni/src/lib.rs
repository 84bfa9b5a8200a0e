//! The bridge between sparktune's core and its callers: the one native library the jar carries.
//!
//! - [`ops`]: every operation a binding can ask of the core, on plain strings and numbers, over the
//!   study handles of [`registry`]. Both front doors below call these and nothing else.
//! - [`jni_exports`]: the JNI methods of `io.sparktune.jni.Native`, one-line shims into
//!   [`jni_exports::try_unwrap_or_throw`], which turns an error or a panic into a Java exception.
//! - [`c_api`]: `sparktune_call` / `sparktune_free`, JSON in and out, for Python's `sparktune.hyperopt`,
//!   which loads this same library with ctypes and needs no JVM.
//!
//! No panic crosses either door: both run every call under `catch_unwind` (and the workspace keeps
//! `panic = "unwind"` in every profile for that reason).
#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod c_api;
pub mod error;
pub mod jni_exports;
pub mod ops;
pub mod registry;
