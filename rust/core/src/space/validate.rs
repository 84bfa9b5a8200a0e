//! The rules a space must keep, checked over the tree; builds the flat parameter table on the way.

use std::collections::HashMap;

use super::{Condition, Domain, Hp, Node, Param};
use crate::error::{Error, Result};

/// Tolerance on the sum of a pchoice's probabilities.
pub(crate) const P_SUM_TOLERANCE: f64 = 1e-6;

/// The largest x with a finite exp(x): log kinds must keep exp(high) finite.
const MAX_EXP_ARG: f64 = 709.782_712_893_384;

/// Checks every rule over the tree rooted at `root` (JSON pointer `/root`) and returns the
/// parameters in first-appearance order.
pub(crate) fn validate(root: &Node) -> Result<Vec<Param>> {
    let mut walker = Walker { params: Vec::new(), seen: HashMap::new() };
    walker.node(root, "/root", None)?;
    Ok(walker.params)
}

/// Escapes a dict key for a JSON pointer (RFC 6901).
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct Walker {
    params: Vec<Param>,
    /// label -> path of its first definition.
    seen: HashMap<String, String>,
}

impl Walker {
    fn node(&mut self, node: &Node, path: &str, condition: Option<Condition>) -> Result<()> {
        match node {
            Node::Const(_) => Ok(()),
            Node::Dict(entries) => {
                let mut keys = HashMap::with_capacity(entries.len());
                for (key, child) in entries {
                    if keys.insert(key.as_str(), ()).is_some() {
                        return Err(Error::space(path, None, format!("dict key '{key}' appears twice")));
                    }
                    self.node(child, &format!("{path}/dict/{}", pointer_token(key)), condition)?;
                }
                Ok(())
            }
            Node::List(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.node(child, &format!("{path}/list/{i}"), condition)?;
                }
                Ok(())
            }
            Node::Hp(hp) => self.hp(hp, path, condition),
        }
    }

    fn hp(&mut self, hp: &Hp, path: &str, condition: Option<Condition>) -> Result<()> {
        let label = hp.label.as_str();
        let fail = |rule: String| Error::space(path, Some(label), rule);
        if label.is_empty() {
            return Err(Error::space(path, None, "a label must not be empty"));
        }
        if let Some(first) = self.seen.get(label) {
            return Err(fail(format!("duplicate label: '{label}' is already defined at {first}")));
        }
        check_domain(&hp.domain).map_err(fail)?;
        let n_options = hp.domain.n_options().unwrap_or(0);
        if hp.options.len() != n_options {
            return Err(fail(format!(
                "a {} has {} options in its domain but {} option nodes",
                hp.domain.kind(),
                n_options,
                hp.options.len()
            )));
        }
        self.seen.insert(hp.label.clone(), path.to_owned());
        let index = self.params.len();
        self.params.push(Param {
            label: hp.label.clone(),
            domain: hp.domain.clone(),
            path: path.to_owned(),
            condition,
        });
        let pchoice = matches!(hp.domain, Domain::PChoice { .. });
        for (i, option) in hp.options.iter().enumerate() {
            let option_path = if pchoice { format!("{path}/options/{i}/value") } else { format!("{path}/options/{i}") };
            self.node(option, &option_path, Some(Condition { parent: index, option: i }))?;
        }
        Ok(())
    }
}

/// The numeric rules of one domain; the error is the rule broken, in words.
fn check_domain(domain: &Domain) -> std::result::Result<(), String> {
    match *domain {
        Domain::Uniform { low, high } | Domain::QUniform { low, high, .. } | Domain::UniformInt { low, high, .. } => {
            finite(&[("low", low), ("high", high)])?;
            ordered(low, high)?;
        }
        Domain::LogUniform { low, high } | Domain::QLogUniform { low, high, .. } => {
            finite(&[("low", low), ("high", high)])?;
            ordered(low, high)?;
            if high > MAX_EXP_ARG {
                return Err(format!(
                    "high ({high}) is a log-space bound and exp({high}) overflows: it must be <= {MAX_EXP_ARG}"
                ));
            }
        }
        Domain::Normal { mu, sigma }
        | Domain::LogNormal { mu, sigma }
        | Domain::QNormal { mu, sigma, .. }
        | Domain::QLogNormal { mu, sigma, .. } => {
            finite(&[("mu", mu), ("sigma", sigma)])?;
            if sigma <= 0.0 {
                return Err(format!("sigma ({sigma}) must be > 0"));
            }
        }
        Domain::RandInt { low, high } => {
            if low >= high {
                return Err(format!("low ({low}) must be < high ({high}): randint draws from [low, high)"));
            }
            if high.checked_sub(low).is_none() {
                return Err(format!("the range [{low}, {high}) is wider than 2^63 - 1"));
            }
        }
        Domain::Choice { n } => {
            if n == 0 {
                return Err("a choice needs at least one option (empty choice)".to_owned());
            }
        }
        Domain::PChoice { ref p } => {
            if p.is_empty() {
                return Err("a pchoice needs at least one option (empty choice)".to_owned());
            }
            for (i, &pi) in p.iter().enumerate() {
                if !pi.is_finite() {
                    return Err(format!("option {i}: p ({pi}) must be a finite number"));
                }
                if pi < 0.0 {
                    return Err(format!("option {i}: p ({pi}) must be >= 0"));
                }
            }
            let sum: f64 = p.iter().sum();
            if (sum - 1.0).abs() > P_SUM_TOLERANCE {
                return Err(format!("the probabilities sum to {sum}, not 1 (tolerance {P_SUM_TOLERANCE})"));
            }
        }
    }
    if let Domain::QUniform { q, .. }
    | Domain::QLogUniform { q, .. }
    | Domain::QNormal { q, .. }
    | Domain::QLogNormal { q, .. }
    | Domain::UniformInt { q, .. } = *domain
    {
        finite(&[("q", q)])?;
        if q <= 0.0 {
            return Err(format!("q ({q}) must be > 0"));
        }
        if let Some(reach) = reach(domain) {
            if !(reach / q).is_finite() {
                return Err(format!("q ({q}) is too small: draws divided by q overflow to infinity"));
            }
        }
    }
    check_reach(domain)
}

/// Box-Muller never draws beyond 8.6 standard deviations (its smallest uniform is 2^-53).
const NORMAL_REACH: f64 = 9.0;

/// The largest magnitude a draw can take before quantisation, where the numbers allow one.
fn reach(domain: &Domain) -> Option<f64> {
    Some(match *domain {
        Domain::Uniform { low, high } | Domain::QUniform { low, high, .. } | Domain::UniformInt { low, high, .. } => {
            low.abs().max(high.abs())
        }
        Domain::LogUniform { high, .. } | Domain::QLogUniform { high, .. } => high.exp(),
        Domain::Normal { mu, sigma } | Domain::QNormal { mu, sigma, .. } => mu.abs() + NORMAL_REACH * sigma,
        Domain::LogNormal { mu, sigma } | Domain::QLogNormal { mu, sigma, .. } => (mu + NORMAL_REACH * sigma).exp(),
        Domain::RandInt { .. } | Domain::Choice { .. } | Domain::PChoice { .. } => return None,
    })
}

/// Draws must stay finite (a point with an infinity could not be written as JSON).
fn check_reach(domain: &Domain) -> std::result::Result<(), String> {
    match *domain {
        Domain::Uniform { low, high } | Domain::QUniform { low, high, .. } | Domain::UniformInt { low, high, .. }
            if !(high - low).is_finite() =>
        {
            Err(format!("high - low ({high} - {low}) overflows: the range must be finite"))
        }
        Domain::UniformInt { low, high, .. } if low.abs().max(high.abs()) >= 9.0e18 => {
            Err(format!("the bounds [{low}, {high}] do not fit a 64-bit integer"))
        }
        Domain::Normal { mu, sigma } | Domain::QNormal { mu, sigma, .. } if !(mu.abs() + NORMAL_REACH * sigma).is_finite() => {
            Err(format!("|mu| + 9 sigma overflows (mu {mu}, sigma {sigma}): draws could be infinite"))
        }
        Domain::LogNormal { mu, sigma } | Domain::QLogNormal { mu, sigma, .. } if mu + NORMAL_REACH * sigma > MAX_EXP_ARG => {
            Err(format!(
                "exp(mu + 9 sigma) overflows (mu {mu}, sigma {sigma}): mu + 9 sigma must be <= {MAX_EXP_ARG} so that draws stay finite"
            ))
        }
        _ => Ok(()),
    }
}

fn finite(fields: &[(&str, f64)]) -> std::result::Result<(), String> {
    match fields.iter().find(|(_, x)| !x.is_finite()) {
        Some((name, x)) => Err(format!("{name} is {x}: numbers must be finite (no NaN or infinity)")),
        None => Ok(()),
    }
}

fn ordered(low: f64, high: f64) -> std::result::Result<(), String> {
    if low >= high {
        Err(format!("low ({low}) must be < high ({high})"))
    } else {
        Ok(())
    }
}
