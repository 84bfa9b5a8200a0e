//! sparktune's core: search spaces with hyperopt's semantics, samplers, studies (ask / tell) and
//! the durable trial journal. It knows nothing of JNI: `sparktune-jni` binds it for the JVM.
//!
//! - [`space`]: the search space model, its JSON form (schema 1), validation, `space_eval`, prior draws.
//! - [`sampler`]: the [`Sampler`] trait, random search and grid search.
//! - [`Study`], [`Trial`], [`Outcome`]: the ask / tell loop.
//! - [`pruner`]: early termination of unpromising trials (median stopping, truncation, bandit).
//! - [`store`]: the JSON-lines journal a study resumes from, and the Arrow IPC export.
//!
//! ```
//! use sparktune_core::{Outcome, Study};
//! let mut study = Study::from_json(r#"{
//!     "space": {"sparktune_space": 1, "root": {"dict": {
//!         "lr": {"hp": "loguniform", "label": "lr", "low": -7, "high": 0},
//!         "depth": {"hp": "randint", "label": "depth", "low": 2, "high": 8}}}},
//!     "sampler": {"kind": "random"}, "seed": 42, "direction": "maximize"}"#)?;
//! let trial = study.ask(1)?.remove(0);
//! assert!(trial.values["depth"].is_i64());
//! study.tell(trial.id, Outcome::ok(0.9))?;
//! assert_eq!(study.best().map(|t| t.id), Some(0));
//! # Ok::<(), sparktune_core::Error>(())
//! ```
#![warn(missing_docs)]

pub mod error;
pub mod history;
pub mod pruner;
pub mod sampler;
pub mod space;
pub mod store;
pub mod study;
pub mod trial;

pub use error::{Error, ErrorKind, Result};
pub use history::History;
pub use sampler::{GridSampler, RandomSampler, Sampler, SamplerConfig};
pub use space::{space_eval, Domain, Kind, Node, ParamValue, Point, Space};
pub use study::{Direction, Study, StudyConfig};
pub use trial::{Outcome, Trial, TrialState};

/// The version of this crate, as bindings report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
