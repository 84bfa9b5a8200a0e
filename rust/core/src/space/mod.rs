//! The search space: a tree of constants, dicts, lists and hyperparameters, as hyperopt's `hp.*`.
//!
//! # The JSON form (schema version 1)
//!
//! ```json
//! {"sparktune_space": 1,
//!  "root": {"dict": {"lr": {"hp": "loguniform", "label": "lr", "low": -9.2, "high": -2.3},
//!                    "model": {"hp": "choice", "label": "model", "options": [
//!                        {"const": "linear"},
//!                        {"dict": {"depth": {"hp": "randint", "label": "depth", "low": 2, "high": 10}}}]}}}}
//! ```
//!
//! A node is `{"const": any}`, `{"dict": {key: node}}` (key order kept), `{"list": [node]}` or
//! `{"hp": kind, "label": L, ...}`. Labels are unique in the whole tree. A label inside a choice's
//! option is *conditional*: it is active, drawn and present in a point only when that option is chosen.
//!
//! # Kinds and their prior (hyperopt's semantics)
//!
//! `U(a, b)` is uniform on `[a, b)`, `N(mu, sigma)` normal, and `round` is numpy's `np.round`,
//! which rounds halves to even ([`f64::round_ties_even`]): `round(0.5) = 0`, `round(1.5) = 2`.
//!
//! | kind | fields | value |
//! |---|---|---|
//! | `uniform` | low, high | `U(low, high)` |
//! | `loguniform` | low, high | `exp(U(low, high))`: the bounds are in log space |
//! | `quniform` | low, high, q | `round(U(low, high) / q) * q`, a float |
//! | `qloguniform` | low, high, q | `round(exp(U(low, high)) / q) * q`, a float |
//! | `normal` | mu, sigma | `N(mu, sigma)` |
//! | `lognormal` | mu, sigma | `exp(N(mu, sigma))` |
//! | `qnormal` | mu, sigma, q | `round(N(mu, sigma) / q) * q` |
//! | `qlognormal` | mu, sigma, q | `round(exp(N(mu, sigma)) / q) * q` |
//! | `randint` | low, high (integers) | an integer in `[low, high)`, each equally likely; hyperopt's `randint(upper)` is `low = 0` |
//! | `uniformint` | low, high, q (default 1) | `round(U(low, high) / q) * q` as an integer (truncated toward zero, as Python's `int`) |
//! | `choice` | options | an option index in `[0, n)`, each equally likely |
//! | `pchoice` | options with `p` | option `i` with probability `p_i` |
//!
//! The quantised kinds reach their bounds with half the weight of inner values (rounding puts only
//! half a bucket there), exactly as in hyperopt: `quniform(0, 10, 1)` gives 0 and 10 with
//! probability 1/20 each and 1..9 with 1/10 each. Results such as `round(x / 0.1) * 0.1 = 0.30000000000000004`
//! are kept as computed, as numpy keeps them.
//!
//! # Points and values
//!
//! A [`Point`] is the raw draw: label -> number for the active labels only (choice and pchoice:
//! the option index; randint and uniformint: an integer; the others: the float after exp and
//! quantisation). [`space_eval`] turns a point into the values: the tree evaluated, with each
//! choice replaced by its chosen option, evaluated.
//!
//! # Validation
//!
//! [`Space::new`] and [`Space::from_json`] check every rule and name the node's label and JSON
//! path (a JSON pointer such as `/root/dict/lr`) with the rule broken: `low < high`, `q > 0`,
//! `sigma > 0`, finite numbers, non-empty choices, pchoice `p >= 0` summing to 1 (within 1e-6),
//! unique labels, known kinds and keys, `exp(high)` finite for the log kinds.

mod eval;
mod json;
mod point;
mod sample;
mod validate;

use std::collections::HashMap;

use serde_json::Value;

use crate::error::Result;

pub use eval::space_eval;
pub use point::{ParamValue, Point};
pub use sample::{quantize, sample_prior, standard_normal, uniform01, uniform_below};

/// The schema version of the space JSON this build reads and writes (`"sparktune_space": 1`).
pub const SCHEMA_VERSION: u32 = 1;

/// The kind of a hyperparameter, as named in the JSON form (`"hp": "uniform"`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `U(low, high)`.
    Uniform,
    /// `exp(U(low, high))`.
    LogUniform,
    /// `round(U(low, high) / q) * q`.
    QUniform,
    /// `round(exp(U(low, high)) / q) * q`.
    QLogUniform,
    /// `N(mu, sigma)`.
    Normal,
    /// `exp(N(mu, sigma))`.
    LogNormal,
    /// `round(N(mu, sigma) / q) * q`.
    QNormal,
    /// `round(exp(N(mu, sigma)) / q) * q`.
    QLogNormal,
    /// An integer in `[low, high)`.
    RandInt,
    /// `round(U(low, high) / q) * q` as an integer.
    UniformInt,
    /// One of the options, uniformly.
    Choice,
    /// One of the options, with the given probabilities.
    PChoice,
}

impl Kind {
    /// Every kind, in the order of the JSON form's documentation.
    pub const ALL: [Kind; 12] = [
        Kind::Uniform,
        Kind::LogUniform,
        Kind::QUniform,
        Kind::QLogUniform,
        Kind::Normal,
        Kind::LogNormal,
        Kind::QNormal,
        Kind::QLogNormal,
        Kind::RandInt,
        Kind::UniformInt,
        Kind::Choice,
        Kind::PChoice,
    ];

    /// The name used in the JSON form.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Uniform => "uniform",
            Kind::LogUniform => "loguniform",
            Kind::QUniform => "quniform",
            Kind::QLogUniform => "qloguniform",
            Kind::Normal => "normal",
            Kind::LogNormal => "lognormal",
            Kind::QNormal => "qnormal",
            Kind::QLogNormal => "qlognormal",
            Kind::RandInt => "randint",
            Kind::UniformInt => "uniformint",
            Kind::Choice => "choice",
            Kind::PChoice => "pchoice",
        }
    }

    /// The kind named `name` in the JSON form.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether a point holds this kind's value as an integer (an option index or an integer draw).
    pub fn is_integer(self) -> bool {
        matches!(self, Kind::RandInt | Kind::UniformInt | Kind::Choice | Kind::PChoice)
    }

    /// Whether this kind selects among options (and so may hold conditional sub-spaces).
    pub fn is_choice(self) -> bool {
        matches!(self, Kind::Choice | Kind::PChoice)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The domain and prior of one hyperparameter: its kind with its numbers (choices: just how many
/// options, the options' sub-trees live in the [`Hp`] node).
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// `U(low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// `exp(U(low, high))`; bounds in log space.
    LogUniform {
        /// Lower bound of the log.
        low: f64,
        /// Upper bound of the log.
        high: f64,
    },
    /// `round(U(low, high) / q) * q`.
    QUniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
        /// Step.
        q: f64,
    },
    /// `round(exp(U(low, high)) / q) * q`; bounds in log space.
    QLogUniform {
        /// Lower bound of the log.
        low: f64,
        /// Upper bound of the log.
        high: f64,
        /// Step.
        q: f64,
    },
    /// `N(mu, sigma)`.
    Normal {
        /// Mean.
        mu: f64,
        /// Standard deviation.
        sigma: f64,
    },
    /// `exp(N(mu, sigma))`.
    LogNormal {
        /// Mean of the log.
        mu: f64,
        /// Standard deviation of the log.
        sigma: f64,
    },
    /// `round(N(mu, sigma) / q) * q`.
    QNormal {
        /// Mean.
        mu: f64,
        /// Standard deviation.
        sigma: f64,
        /// Step.
        q: f64,
    },
    /// `round(exp(N(mu, sigma)) / q) * q`.
    QLogNormal {
        /// Mean of the log.
        mu: f64,
        /// Standard deviation of the log.
        sigma: f64,
        /// Step.
        q: f64,
    },
    /// An integer in `[low, high)`.
    RandInt {
        /// Smallest value.
        low: i64,
        /// One past the largest value.
        high: i64,
    },
    /// `round(U(low, high) / q) * q` as an integer.
    UniformInt {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
        /// Step (1 by default in the JSON form).
        q: f64,
    },
    /// One of `n` options, uniformly.
    Choice {
        /// How many options.
        n: usize,
    },
    /// Option `i` with probability `p[i]`.
    PChoice {
        /// The options' probabilities (non-negative, summing to 1).
        p: Vec<f64>,
    },
}

impl Domain {
    /// The kind of this domain.
    pub fn kind(&self) -> Kind {
        match self {
            Domain::Uniform { .. } => Kind::Uniform,
            Domain::LogUniform { .. } => Kind::LogUniform,
            Domain::QUniform { .. } => Kind::QUniform,
            Domain::QLogUniform { .. } => Kind::QLogUniform,
            Domain::Normal { .. } => Kind::Normal,
            Domain::LogNormal { .. } => Kind::LogNormal,
            Domain::QNormal { .. } => Kind::QNormal,
            Domain::QLogNormal { .. } => Kind::QLogNormal,
            Domain::RandInt { .. } => Kind::RandInt,
            Domain::UniformInt { .. } => Kind::UniformInt,
            Domain::Choice { .. } => Kind::Choice,
            Domain::PChoice { .. } => Kind::PChoice,
        }
    }

    /// How many options a choice or pchoice has; `None` for the other kinds.
    pub fn n_options(&self) -> Option<usize> {
        match self {
            Domain::Choice { n } => Some(*n),
            Domain::PChoice { p } => Some(p.len()),
            _ => None,
        }
    }
}

/// A hyperparameter node: a label, a domain and, for choices, one sub-tree per option.
#[derive(Clone, Debug, PartialEq)]
pub struct Hp {
    /// The label, unique in the space.
    pub label: String,
    /// The kind and its numbers.
    pub domain: Domain,
    /// The options' sub-trees for choice and pchoice (as many as the domain says); empty otherwise.
    pub options: Vec<Node>,
}

/// A node of the space tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A constant JSON value.
    Const(Value),
    /// An object whose values are nodes, in key order.
    Dict(Vec<(String, Node)>),
    /// An array of nodes.
    List(Vec<Node>),
    /// A hyperparameter.
    Hp(Hp),
}

impl Node {
    /// A hyperparameter node without options.
    pub fn hp(label: impl Into<String>, domain: Domain) -> Node {
        Node::Hp(Hp { label: label.into(), domain, options: Vec::new() })
    }

    /// A choice among `options`.
    pub fn choice(label: impl Into<String>, options: Vec<Node>) -> Node {
        Node::Hp(Hp { label: label.into(), domain: Domain::Choice { n: options.len() }, options })
    }

    /// A choice among `options` with probabilities: `(p, option)` pairs.
    pub fn pchoice(label: impl Into<String>, options: Vec<(f64, Node)>) -> Node {
        let (p, options): (Vec<f64>, Vec<Node>) = options.into_iter().unzip();
        Node::Hp(Hp { label: label.into(), domain: Domain::PChoice { p }, options })
    }

    /// A dict node from `(key, node)` pairs, in order.
    pub fn dict<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Dict(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

/// Where a conditional parameter hangs: it is active when the choice `parent` (an index into
/// [`Space::params`]) takes option `option` and the parent is itself active.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Condition {
    /// Index of the enclosing choice in [`Space::params`].
    pub parent: usize,
    /// The option of that choice under which the parameter lives.
    pub option: usize,
}

/// One hyperparameter as the samplers see it: the flat table of a space, in first-appearance order.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The label.
    pub label: String,
    /// The kind and its numbers.
    pub domain: Domain,
    /// JSON pointer of the node in the space document.
    pub path: String,
    /// The innermost enclosing choice option, `None` for an unconditional parameter.
    pub condition: Option<Condition>,
}

impl Param {
    /// The kind of this parameter.
    pub fn kind(&self) -> Kind {
        self.domain.kind()
    }
}

/// A validated search space: the tree and the flat table of its parameters.
#[derive(Clone, Debug)]
pub struct Space {
    root: Node,
    params: Vec<Param>,
    by_label: HashMap<String, usize>,
}

impl PartialEq for Space {
    fn eq(&self, other: &Self) -> bool {
        self.root == other.root
    }
}

impl Space {
    /// Validates `root` and builds the space.
    pub fn new(root: Node) -> Result<Space> {
        let params = validate::validate(&root)?;
        let by_label = params.iter().enumerate().map(|(i, p)| (p.label.clone(), i)).collect();
        Ok(Space { root, params, by_label })
    }

    /// Reads and validates a space from its JSON form (`{"sparktune_space": 1, "root": ...}`).
    ///
    /// ```
    /// use sparktune_core::Space;
    /// let space = Space::from_json(r#"{"sparktune_space": 1, "root": {"dict": {
    ///     "x": {"hp": "uniform", "label": "x", "low": 0, "high": 1}}}}"#)?;
    /// assert_eq!(space.labels(), ["x"]);
    /// let err = Space::from_json(r#"{"sparktune_space": 1, "root":
    ///     {"hp": "uniform", "label": "x", "low": 1, "high": 0}}"#).unwrap_err();
    /// assert!(err.to_string().contains("'x'"));
    /// # Ok::<(), sparktune_core::Error>(())
    /// ```
    pub fn from_json(s: &str) -> Result<Space> {
        let value: Value = serde_json::from_str(s).map_err(|e| crate::Error::json("search space", &e))?;
        Space::from_value(&value)
    }

    /// Reads and validates a space from its JSON form, already parsed.
    pub fn from_value(value: &Value) -> Result<Space> {
        Space::new(json::node_from_document(value)?)
    }

    /// The JSON form of this space (schema version [`SCHEMA_VERSION`]).
    pub fn to_json_value(&self) -> Value {
        json::document(&self.root)
    }

    /// The JSON form of this space, as text.
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    /// The tree.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The parameters in first-appearance order (depth first, dict keys and options in order).
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The index in [`Space::params`] of the parameter labelled `label`.
    pub fn index_of(&self, label: &str) -> Option<usize> {
        self.by_label.get(label).copied()
    }

    /// The parameter labelled `label`.
    pub fn param(&self, label: &str) -> Option<&Param> {
        self.index_of(label).map(|i| &self.params[i])
    }

    /// The labels in first-appearance order.
    pub fn labels(&self) -> Vec<&str> {
        self.params.iter().map(|p| p.label.as_str()).collect()
    }
}

impl serde::Serialize for Space {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_json_value().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Space {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Space::from_value(&value).map_err(serde::de::Error::custom)
    }
}
