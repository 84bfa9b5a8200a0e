//! `space_eval`: a point (the raw draw) -> the values (the tree evaluated), as hyperopt's `space_eval`.

use serde_json::{Map, Value};

use super::{Kind, Node, ParamValue, Point, Space};
use crate::error::{Error, Result};

/// Evaluates the space at `point`: dicts become objects, lists arrays, consts themselves, each
/// choice its chosen option (evaluated), randint and uniformint JSON integers, the others floats.
///
/// Labels of the point that are in the space but inactive are ignored (hyperopt does the same);
/// a label the space does not know, a missing active label, an option index out of range, or a
/// fractional value for an integer kind is an error naming the label.
///
/// ```
/// use sparktune_core::{space_eval, Point, Space};
/// let space = Space::from_json(r#"{"sparktune_space": 1, "root": {"hp": "choice", "label": "m",
///     "options": [{"const": "linear"}, {"dict": {"depth": {"hp": "randint", "label": "d", "low": 1, "high": 9}}}]}}"#)?;
/// let point = Point::from_json(r#"{"m": 1, "d": 4}"#)?;
/// assert_eq!(space_eval(&space, &point)?, serde_json::json!({"depth": 4}));
/// # Ok::<(), sparktune_core::Error>(())
/// ```
pub fn space_eval(space: &Space, point: &Point) -> Result<Value> {
    if let Some((label, _)) = point.iter().find(|(label, _)| space.index_of(label).is_none()) {
        return Err(Error::InvalidArgument(format!(
            "point has label '{label}', which the space does not define (labels: {})",
            space.labels().join(", ")
        )));
    }
    eval(space.root(), point)
}

fn eval(node: &Node, point: &Point) -> Result<Value> {
    match node {
        Node::Const(v) => Ok(v.clone()),
        Node::Dict(entries) => {
            let mut obj = Map::with_capacity(entries.len());
            for (key, child) in entries {
                obj.insert(key.clone(), eval(child, point)?);
            }
            Ok(Value::Object(obj))
        }
        Node::List(items) => Ok(Value::Array(items.iter().map(|c| eval(c, point)).collect::<Result<_>>()?)),
        Node::Hp(hp) => {
            let label = hp.label.as_str();
            let kind = hp.domain.kind();
            let value = point.get(label).ok_or_else(|| {
                Error::InvalidArgument(format!("point has no value for the active label '{label}' ({kind})"))
            })?;
            if kind.is_choice() {
                let n = hp.options.len();
                let index = integer(label, kind, value)?;
                let option = usize::try_from(index).ok().and_then(|i| hp.options.get(i)).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "label '{label}': option index {index} is out of range (the {kind} has {n} options)"
                    ))
                })?;
                eval(option, point)
            } else if kind.is_integer() {
                Ok(Value::from(integer(label, kind, value)?))
            } else {
                let x = value.as_f64();
                serde_json::Number::from_f64(x)
                    .map(Value::Number)
                    .ok_or_else(|| Error::InvalidArgument(format!("label '{label}': value {x} is not finite")))
            }
        }
    }
}

fn integer(label: &str, kind: Kind, value: ParamValue) -> Result<i64> {
    value.as_i64().ok_or_else(|| {
        Error::InvalidArgument(format!("label '{label}': a {kind} takes an integer, found {}", value.as_f64()))
    })
}
