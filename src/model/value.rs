//! Types of values and the typed values the checker produces from literals.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use nix::sys::signal::Signal;

/// The type a parameter, setting or operand expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueType {
    Duration,
    /// A share written with `%`, kept as a fraction of one.
    Percent,
    Integer,
    Number,
    String,
    Bool,
    Signal,
    Address,
    /// A size in bytes, written with `B`, `KiB`, `MiB`, `GiB`, `KB`, `MB`, `GB`.
    Size,
    /// A bandwidth in bits per second, written with `bit/s`, `kbit/s`,
    /// `Mbit/s`, `Gbit/s`.
    Bandwidth,
    /// Events per second, written as `100/s` or `6000/m`.
    Rate,
    Money,
    Path,
    /// One of the named members, such as the severities.
    Enum {
        name: &'static str,
        members: Vec<&'static str>,
    },
    List(Box<ValueType>),
    /// A map of names to strings, such as labels or an environment.
    StringMap,
    /// A secret read at run time: `env("NAME")` or `file("PATH")`.
    Secret,
    /// A bare name that refers to a declaration of `kind`, such as a channel.
    Reference {
        kind: &'static str,
    },
}

impl ValueType {
    /// Looks up a type by the name it has in fault parameters.
    pub fn from_name(name: &str) -> Option<ValueType> {
        use crate::model::enums::{Direction, HttpMethod};
        let ty = match name {
            "duration" => ValueType::Duration,
            "percent" => ValueType::Percent,
            "int" => ValueType::Integer,
            "number" => ValueType::Number,
            "string" => ValueType::String,
            "bool" => ValueType::Bool,
            "signal" => ValueType::Signal,
            "address" => ValueType::Address,
            "size" => ValueType::Size,
            "bandwidth" => ValueType::Bandwidth,
            "rate" => ValueType::Rate,
            "money" => ValueType::Money,
            "path" => ValueType::Path,
            "labels" => ValueType::StringMap,
            "direction" => ValueType::enumeration("direction", Direction::ALL, Direction::name),
            "method" => ValueType::enumeration("method", HttpMethod::ALL, HttpMethod::name),
            _ => return None,
        };
        Some(ty)
    }

    /// Builds the type of a domain enumeration.
    pub fn enumeration<T: Copy>(
        name: &'static str,
        all: &[T],
        to_name: fn(T) -> &'static str,
    ) -> ValueType {
        ValueType::Enum {
            name,
            members: all.iter().map(|member| to_name(*member)).collect(),
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::Duration => f.write_str("a duration (such as `500ms`, `30s`, `5m`, `1h`)"),
            ValueType::Percent => f.write_str("a percentage (such as `50%`)"),
            ValueType::Integer => f.write_str("a whole number"),
            ValueType::Number => f.write_str("a number"),
            ValueType::String => f.write_str("a string"),
            ValueType::Bool => f.write_str("`true` or `false`"),
            ValueType::Signal => f.write_str("a signal (such as `SIGTERM`)"),
            ValueType::Address => f.write_str("a socket address (such as `127.0.0.1:8080`)"),
            ValueType::Size => f.write_str("a size (such as `64MiB`)"),
            ValueType::Bandwidth => f.write_str("a bandwidth (such as `10Mbit/s`)"),
            ValueType::Rate => f.write_str("a rate (such as `100/s`)"),
            ValueType::Money => f.write_str("an amount of money (such as `1200 USD`)"),
            ValueType::Path => f.write_str("a path string"),
            ValueType::Enum { name, .. } => write!(f, "a {name}"),
            ValueType::List(item) => write!(f, "a list of {}", plural_of(item)),
            ValueType::StringMap => f.write_str("a map of names to strings"),
            ValueType::Secret => f.write_str("a secret (`env(\"NAME\")` or `file(\"PATH\")`)"),
            ValueType::Reference { kind } => write!(f, "the name of a {kind}"),
        }
    }
}

fn plural_of(item: &ValueType) -> String {
    match item {
        ValueType::String => "strings".to_owned(),
        ValueType::Reference { kind } => format!("{kind} names"),
        ValueType::StringMap => "maps of names to strings".to_owned(),
        other => format!("values of type {other}"),
    }
}

/// A value whose type and unit the checker has proved.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    Duration(Duration),
    /// A share as a fraction of one: `50%` is `0.5`.
    Percent(f64),
    Integer(i64),
    Number(f64),
    String(String),
    Bool(bool),
    Signal(Signal),
    Address(SocketAddr),
    /// Bytes.
    Size(u64),
    /// Bits per second.
    Bandwidth(u64),
    /// Events per second.
    Rate(f64),
    Money {
        amount: f64,
        currency: String,
    },
    /// A member of an enumeration, by name.
    Enum(String),
    List(Vec<TypedValue>),
    StringMap(BTreeMap<String, String>),
    Secret(crate::model::Secret),
    /// A JSON value, compared with what a JSON path selects.
    Json(serde_json::Value),
}

impl TypedValue {
    /// Returns the duration, if this is one.
    pub fn as_duration(&self) -> Option<Duration> {
        match self {
            TypedValue::Duration(duration) => Some(*duration),
            _ => None,
        }
    }

    /// Returns the value as a number for comparisons: durations in seconds,
    /// percentages as fractions, sizes in bytes.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            TypedValue::Duration(duration) => Some(duration.as_secs_f64()),
            TypedValue::Percent(share) | TypedValue::Number(share) | TypedValue::Rate(share) => {
                Some(*share)
            }
            TypedValue::Integer(number) => Some(*number as f64),
            TypedValue::Size(bytes) | TypedValue::Bandwidth(bytes) => Some(*bytes as f64),
            TypedValue::Money { amount, .. } => Some(*amount),
            _ => None,
        }
    }

    /// Returns the text of a string or enumeration member.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TypedValue::String(text) | TypedValue::Enum(text) => Some(text),
            _ => None,
        }
    }
}
