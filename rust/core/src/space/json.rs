//! The versioned JSON form of a space: reading (shape errors with their JSON pointer) and writing.
//!
//! Reading goes through `serde_json::Value` and a hand-written walk rather than derived serde,
//! so that each error names the node's path and label, and unknown keys are refused everywhere.

use serde_json::{Map, Value};

use super::validate::pointer_token;
use super::{Domain, Hp, Kind, Node, SCHEMA_VERSION};
use crate::error::{Error, Result};

const VERSION_KEY: &str = "sparktune_space";

/// Reads the document `{"sparktune_space": 1, "root": NODE}` into its root node.
pub(crate) fn node_from_document(doc: &Value) -> Result<Node> {
    let Value::Object(obj) = doc else {
        return Err(Error::space(
            "",
            None,
            format!(
                "a search space is a JSON object {{\"{VERSION_KEY}\": 1, \"root\": ...}}, found {}",
                type_name(doc)
            ),
        ));
    };
    match obj.get(VERSION_KEY) {
        None => return Err(Error::SchemaVersion { found: "missing".to_owned(), expected: SCHEMA_VERSION }),
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(v) => return Err(Error::SchemaVersion { found: v.to_string(), expected: SCHEMA_VERSION }),
    }
    if let Some(key) = obj.keys().find(|k| *k != VERSION_KEY && *k != "root") {
        return Err(Error::space("", None, format!("unknown key '{key}' (expected \"{VERSION_KEY}\" and \"root\")")));
    }
    let root = obj.get("root").ok_or_else(|| Error::space("", None, "missing field 'root'"))?;
    node(root, "/root")
}

/// Writes the document of the tree rooted at `root`.
pub(crate) fn document(root: &Node) -> Value {
    let mut obj = Map::new();
    obj.insert(VERSION_KEY.to_owned(), Value::from(SCHEMA_VERSION));
    obj.insert("root".to_owned(), node_to_value(root));
    Value::Object(obj)
}

fn node(value: &Value, path: &str) -> Result<Node> {
    let Value::Object(obj) = value else {
        return Err(not_a_node(path, value));
    };
    let form = ["hp", "const", "dict", "list"].into_iter().find(|k| obj.contains_key(*k));
    match form {
        Some("hp") => hp(obj, path),
        Some("const") => {
            only_keys(obj, &["const"], path, None, "a const node")?;
            Ok(Node::Const(obj["const"].clone()))
        }
        Some("dict") => {
            only_keys(obj, &["dict"], path, None, "a dict node")?;
            let Value::Object(entries) = &obj["dict"] else {
                return Err(Error::space(
                    path,
                    None,
                    format!("\"dict\" must be a JSON object, found {}", type_name(&obj["dict"])),
                ));
            };
            let mut out = Vec::with_capacity(entries.len());
            for (key, child) in entries {
                out.push((key.clone(), node(child, &format!("{path}/dict/{}", pointer_token(key)))?));
            }
            Ok(Node::Dict(out))
        }
        Some("list") => {
            only_keys(obj, &["list"], path, None, "a list node")?;
            let Value::Array(items) = &obj["list"] else {
                return Err(Error::space(
                    path,
                    None,
                    format!("\"list\" must be a JSON array, found {}", type_name(&obj["list"])),
                ));
            };
            let items =
                items.iter().enumerate().map(|(i, c)| node(c, &format!("{path}/list/{i}"))).collect::<Result<_>>()?;
            Ok(Node::List(items))
        }
        _ => Err(not_a_node(path, value)),
    }
}

fn not_a_node(path: &str, value: &Value) -> Error {
    Error::space(
        path,
        None,
        format!(
            "not a search-space node: expected an object with \"hp\", \"const\", \"dict\" or \"list\", found {}",
            short(value)
        ),
    )
}

fn hp(obj: &Map<String, Value>, path: &str) -> Result<Node> {
    let label = match obj.get("label") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(Error::space(path, None, format!("'label' must be a string, found {}", type_name(other))))
        }
        None => return Err(Error::space(path, None, "missing field 'label'")),
    };
    let at = Some(label.as_str());
    let kind = match &obj["hp"] {
        Value::String(name) => Kind::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            Error::space(path, at, format!("unknown hp kind '{name}' (known kinds: {})", known.join(", ")))
        })?,
        other => {
            return Err(Error::space(
                path,
                at,
                format!("'hp' must be a kind name (a string), found {}", type_name(other)),
            ))
        }
    };
    let fields: &[&str] = match kind {
        Kind::Uniform | Kind::LogUniform | Kind::RandInt => &["low", "high"],
        Kind::QUniform | Kind::QLogUniform | Kind::UniformInt => &["low", "high", "q"],
        Kind::Normal | Kind::LogNormal => &["mu", "sigma"],
        Kind::QNormal | Kind::QLogNormal => &["mu", "sigma", "q"],
        Kind::Choice | Kind::PChoice => &["options"],
    };
    let mut allowed = vec!["hp", "label"];
    allowed.extend_from_slice(fields);
    only_keys(obj, &allowed, path, at, &format!("a {kind}"))?;
    let f = |name: &str| float(obj, name, path, at);
    let domain = match kind {
        Kind::Uniform => Domain::Uniform { low: f("low")?, high: f("high")? },
        Kind::LogUniform => Domain::LogUniform { low: f("low")?, high: f("high")? },
        Kind::QUniform => Domain::QUniform { low: f("low")?, high: f("high")?, q: f("q")? },
        Kind::QLogUniform => Domain::QLogUniform { low: f("low")?, high: f("high")?, q: f("q")? },
        Kind::Normal => Domain::Normal { mu: f("mu")?, sigma: f("sigma")? },
        Kind::LogNormal => Domain::LogNormal { mu: f("mu")?, sigma: f("sigma")? },
        Kind::QNormal => Domain::QNormal { mu: f("mu")?, sigma: f("sigma")?, q: f("q")? },
        Kind::QLogNormal => Domain::QLogNormal { mu: f("mu")?, sigma: f("sigma")?, q: f("q")? },
        Kind::RandInt => Domain::RandInt { low: int(obj, "low", path, at)?, high: int(obj, "high", path, at)? },
        Kind::UniformInt => Domain::UniformInt {
            low: f("low")?,
            high: f("high")?,
            q: if obj.contains_key("q") { f("q")? } else { 1.0 },
        },
        Kind::Choice | Kind::PChoice => {
            let Some(options) = obj.get("options") else {
                return Err(Error::space(path, at, "missing field 'options'"));
            };
            let Value::Array(options) = options else {
                return Err(Error::space(
                    path,
                    at,
                    format!("'options' must be a JSON array, found {}", type_name(options)),
                ));
            };
            return if kind == Kind::Choice {
                let nodes = options
                    .iter()
                    .enumerate()
                    .map(|(i, o)| node(o, &format!("{path}/options/{i}")))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Node::Hp(Hp { label, domain: Domain::Choice { n: nodes.len() }, options: nodes }))
            } else {
                let mut p = Vec::with_capacity(options.len());
                let mut nodes = Vec::with_capacity(options.len());
                for (i, option) in options.iter().enumerate() {
                    let opath = format!("{path}/options/{i}");
                    let Value::Object(o) = option else {
                        return Err(Error::space(
                            &opath,
                            at,
                            format!("a pchoice option is {{\"p\": f, \"value\": NODE}}, found {}", short(option)),
                        ));
                    };
                    only_keys(o, &["p", "value"], &opath, at, "a pchoice option")?;
                    p.push(float(o, "p", &opath, at)?);
                    let value = o.get("value").ok_or_else(|| Error::space(&opath, at, "missing field 'value'"))?;
                    nodes.push(node(value, &format!("{opath}/value"))?);
                }
                Ok(Node::Hp(Hp { label, domain: Domain::PChoice { p }, options: nodes }))
            };
        }
    };
    Ok(Node::Hp(Hp { label, domain, options: Vec::new() }))
}

fn only_keys(obj: &Map<String, Value>, allowed: &[&str], path: &str, label: Option<&str>, what: &str) -> Result<()> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => {
            Err(Error::space(path, label, format!("unknown key '{key}' in {what} (allowed: {})", allowed.join(", "))))
        }
        None => Ok(()),
    }
}

fn float(obj: &Map<String, Value>, name: &str, path: &str, label: Option<&str>) -> Result<f64> {
    match obj.get(name) {
        None => Err(Error::space(path, label, format!("missing field '{name}'"))),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(x),
            _ => Err(Error::space(path, label, format!("{name} ({n}) is not a finite number"))),
        },
        Some(other) => Err(Error::space(path, label, format!("'{name}' must be a number, found {}", type_name(other)))),
    }
}

fn int(obj: &Map<String, Value>, name: &str, path: &str, label: Option<&str>) -> Result<i64> {
    match obj.get(name) {
        None => Err(Error::space(path, label, format!("missing field '{name}'"))),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                return Ok(i);
            }
            // Bindings that only know doubles send 5.0 for 5: accept integral floats in range.
            match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(x as i64),
                _ => Err(Error::space(path, label, format!("{name} ({n}) must be an integer"))),
            }
        }
        Some(other) => {
            Err(Error::space(path, label, format!("'{name}' must be an integer, found {}", type_name(other))))
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value as JSON text, cut to a readable length for an error message.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

fn node_to_value(node: &Node) -> Value {
    match node {
        Node::Const(v) => single("const", v.clone()),
        Node::Dict(entries) => {
            single("dict", Value::Object(entries.iter().map(|(k, v)| (k.clone(), node_to_value(v))).collect()))
        }
        Node::List(items) => single("list", Value::Array(items.iter().map(node_to_value).collect())),
        Node::Hp(hp) => hp_to_value(hp),
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut obj = Map::new();
    obj.insert(key.to_owned(), value);
    Value::Object(obj)
}

fn hp_to_value(hp: &Hp) -> Value {
    let mut obj = Map::new();
    obj.insert("hp".to_owned(), Value::from(hp.domain.kind().name()));
    obj.insert("label".to_owned(), Value::from(hp.label.as_str()));
    let mut put = |k: &str, v: Value| {
        obj.insert(k.to_owned(), v);
    };
    match &hp.domain {
        Domain::Uniform { low, high } | Domain::LogUniform { low, high } => {
            put("low", num(*low));
            put("high", num(*high));
        }
        Domain::QUniform { low, high, q }
        | Domain::QLogUniform { low, high, q }
        | Domain::UniformInt { low, high, q } => {
            put("low", num(*low));
            put("high", num(*high));
            put("q", num(*q));
        }
        Domain::Normal { mu, sigma } | Domain::LogNormal { mu, sigma } => {
            put("mu", num(*mu));
            put("sigma", num(*sigma));
        }
        Domain::QNormal { mu, sigma, q } | Domain::QLogNormal { mu, sigma, q } => {
            put("mu", num(*mu));
            put("sigma", num(*sigma));
            put("q", num(*q));
        }
        Domain::RandInt { low, high } => {
            put("low", Value::from(*low));
            put("high", Value::from(*high));
        }
        Domain::Choice { .. } => put("options", Value::Array(hp.options.iter().map(node_to_value).collect())),
        Domain::PChoice { p } => put(
            "options",
            Value::Array(
                p.iter()
                    .zip(&hp.options)
                    .map(|(p, o)| {
                        let mut opt = Map::new();
                        opt.insert("p".to_owned(), num(*p));
                        opt.insert("value".to_owned(), node_to_value(o));
                        Value::Object(opt)
                    })
                    .collect(),
            ),
        ),
    }
    Value::Object(obj)
}

/// A validated space holds only finite numbers, which JSON can carry.
fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}
