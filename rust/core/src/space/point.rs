//! A point: the raw draw of a trial, label -> number for the active labels.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde_json::Value;

use crate::error::{Error, Result};

/// One hyperparameter's raw value: an integer (option index, randint, uniformint) or a float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamValue {
    /// An option index or an integer draw; a JSON integer.
    Int(i64),
    /// A float draw; a JSON float.
    Float(f64),
}

impl ParamValue {
    /// The value as a float (integers converted).
    pub fn as_f64(self) -> f64 {
        match self {
            ParamValue::Int(i) => i as f64,
            ParamValue::Float(x) => x,
        }
    }

    /// The value as an integer, if it is one (a float with an integral value counts, since
    /// bindings that only know doubles send option indices as `1.0`).
    pub fn as_i64(self) -> Option<i64> {
        match self {
            ParamValue::Int(i) => Some(i),
            ParamValue::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(x as i64),
            ParamValue::Float(_) => None,
        }
    }

    /// The JSON number.
    pub fn to_json(self) -> Value {
        match self {
            ParamValue::Int(i) => Value::from(i),
            // A point never holds a non-finite float (the samplers and `Point::from_json` see to
            // it); were it to, null is what serde_json writes for one.
            ParamValue::Float(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
        }
    }
}

/// The raw draw of a trial: label -> value for the active labels, in insertion order (the samplers
/// insert in the space's first-appearance order). Serialised as a JSON object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Point {
    entries: Vec<(String, ParamValue)>,
}

impl Point {
    /// An empty point.
    pub fn new() -> Point {
        Point::default()
    }

    /// Sets `label` to `value`, replacing an earlier value of the label.
    pub fn insert(&mut self, label: impl Into<String>, value: ParamValue) {
        let label = label.into();
        match self.entries.iter_mut().find(|(l, _)| *l == label) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((label, value)),
        }
    }

    /// The value of `label`, if the point has it.
    pub fn get(&self, label: &str) -> Option<ParamValue> {
        self.entries.iter().find(|(l, _)| l == label).map(|(_, v)| *v)
    }

    /// The `(label, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, ParamValue)> + '_ {
        self.entries.iter().map(|(l, v)| (l.as_str(), *v))
    }

    /// How many labels the point has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the point has no label.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The point as a JSON object.
    pub fn to_json_value(&self) -> Value {
        Value::Object(self.entries.iter().map(|(l, v)| (l.clone(), v.to_json())).collect())
    }

    /// Reads a point from a JSON object of label -> finite number.
    pub fn from_json(s: &str) -> Result<Point> {
        serde_json::from_str(s).map_err(|e| Error::json("point", &e))
    }
}

impl FromIterator<(String, ParamValue)> for Point {
    fn from_iter<I: IntoIterator<Item = (String, ParamValue)>>(iter: I) -> Self {
        let mut point = Point::new();
        for (label, value) in iter {
            point.insert(label, value);
        }
        point
    }
}

impl serde::Serialize for Point {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (label, value) in &self.entries {
            match value {
                ParamValue::Int(i) => map.serialize_entry(label, i)?,
                ParamValue::Float(x) => map.serialize_entry(label, x)?,
            }
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Point {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct PointVisitor;
        impl<'de> Visitor<'de> for PointVisitor {
            type Value = Point;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object of label -> number")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Point, A::Error> {
                let mut point = Point::new();
                while let Some((label, number)) = map.next_entry::<String, serde_json::Number>()? {
                    let value = if let Some(i) = number.as_i64() {
                        ParamValue::Int(i)
                    } else {
                        match number.as_f64() {
                            Some(x) if x.is_finite() => ParamValue::Float(x),
                            _ => {
                                return Err(serde::de::Error::custom(format!(
                                    "label '{label}': {number} is not a finite number"
                                )))
                            }
                        }
                    };
                    if point.get(&label).is_some() {
                        return Err(serde::de::Error::custom(format!("label '{label}' appears twice")));
                    }
                    point.entries.push((label, value));
                }
                Ok(point)
            }
        }
        deserializer.deserialize_map(PointVisitor)
    }
}
