//! Typing of literal values: units, ranges and enumeration members.

// Typing errors are built once per bad literal and never on a hot path, so
// boxing `CheckError` would only add noise to every caller.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::CheckError;
use super::suggest::did_you_mean;
use crate::model::{TypedValue, ValueType};
use crate::syntax::units;
use crate::syntax::{Value, ValueKind};

/// Types `value` as `expected`, or explains why it does not fit.
pub fn type_value(value: &Value, expected: &ValueType) -> Result<TypedValue, CheckError> {
    let span = value.span.into();
    let mismatch = || CheckError::TypeMismatch {
        expected: expected.to_string(),
        found: value.kind.describe(),
        span,
        help: mismatch_help(expected),
    };

    match (expected, &value.kind) {
        (ValueType::String | ValueType::Path, ValueKind::String(text)) => {
            Ok(TypedValue::String(text.clone()))
        }
        (ValueType::Bool, ValueKind::Bool(flag)) => Ok(TypedValue::Bool(*flag)),
        (ValueType::Signal, ValueKind::Signal(name)) => type_signal(name, value),
        (ValueType::Address, ValueKind::Address(text)) => type_address(text, value),
        (ValueType::Money, ValueKind::Money { amount, currency }) => Ok(TypedValue::Money {
            amount: *amount,
            currency: currency.clone(),
        }),
        (ValueType::Enum { name, members }, ValueKind::Name(path)) if path.len() == 1 => {
            let member = &path[0].name;
            if members.iter().any(|known| known == member) {
                return Ok(TypedValue::Enum(member.clone()));
            }
            Err(CheckError::UnknownMember {
                name: member.clone(),
                enumeration: (*name).to_owned(),
                span,
                help: Some(members_help(member, members)),
            })
        }
        (ValueType::Secret, ValueKind::Call { name, args }) => type_secret(name, args, value),
        (ValueType::Secret, ValueKind::String(_)) => Err(CheckError::SecretLiteral {
            span,
            help: Some(
                "read it at run time with `env(\"NAME\")` or `file(\"PATH\")`, and keep it \
                 out of version control"
                    .to_owned(),
            ),
        }),
        (ValueType::Reference { .. }, ValueKind::Name(path)) if path.len() == 1 => {
            Ok(TypedValue::Enum(path[0].name.clone()))
        }
        (ValueType::List(item), ValueKind::List(values)) => {
            let typed: Result<Vec<_>, _> = values.iter().map(|v| type_value(v, item)).collect();
            typed.map(TypedValue::List)
        }
        (ValueType::StringMap, ValueKind::Map(entries)) => {
            let mut map = BTreeMap::new();
            for entry in entries {
                let typed = type_value(&entry.value, &ValueType::String)?;
                let TypedValue::String(text) = typed else {
                    unreachable!()
                };
                map.insert(entry.key.clone(), text);
            }
            Ok(TypedValue::StringMap(map))
        }
        (_, ValueKind::Quantity { number, text, unit }) => {
            type_quantity(*number, text, unit.as_deref(), expected, value).unwrap_or_else(|| {
                Err(CheckError::TypeMismatch {
                    expected: expected.to_string(),
                    found: value.kind.describe(),
                    span,
                    help: quantity_help(expected),
                })
            })
        }
        _ => Err(mismatch()),
    }
}

/// Types a number with an optional unit; `None` when the expected type takes
/// no number at all.
fn type_quantity(
    number: f64,
    text: &str,
    unit: Option<&str>,
    expected: &ValueType,
    value: &Value,
) -> Option<Result<TypedValue, CheckError>> {
    let span = value.span.into();
    let scale = match expected {
        ValueType::Duration => units::DURATION,
        ValueType::Percent => units::PERCENT,
        ValueType::Size => units::SIZE,
        ValueType::Bandwidth => units::BANDWIDTH,
        ValueType::Rate => units::RATE,
        ValueType::Integer | ValueType::Number => &[],
        _ => return None,
    };

    let Some(unit) = unit else {
        return Some(match expected {
            ValueType::Integer => type_integer(number, value),
            ValueType::Number => Ok(TypedValue::Number(number)),
            _ => Err(CheckError::MissingUnit {
                text: text.to_owned(),
                expected: expected.to_string(),
                span,
                help: Some(missing_unit_help(number, expected)),
            }),
        });
    };

    let Some((_, factor)) = scale.iter().find(|(name, _)| *name == unit) else {
        if scale.is_empty() {
            return Some(Err(CheckError::TypeMismatch {
                expected: expected.to_string(),
                found: value.kind.describe(),
                span,
                help: Some(format!("write the number without `{unit}`")),
            }));
        }
        let names: Vec<&str> = scale.iter().map(|(name, _)| *name).collect();
        return Some(Err(CheckError::UnknownUnit {
            unit: unit.to_owned(),
            expected: expected.to_string(),
            span,
            help: Some(format!("use one of {}", backticked(&names))),
        }));
    };

    if number < 0.0 {
        return Some(Err(CheckError::InvalidValue {
            what: "value".to_owned(),
            reason: "it is negative".to_owned(),
            span,
            help: Some("write a value of zero or more".to_owned()),
        }));
    }
    let base = number * factor;
    Some(match expected {
        ValueType::Duration => duration_from_secs(base, value),
        ValueType::Percent => type_percent(base, value),
        ValueType::Size => Ok(TypedValue::Size(base.round() as u64)),
        ValueType::Bandwidth => Ok(TypedValue::Bandwidth(base.round() as u64)),
        ValueType::Rate => Ok(TypedValue::Rate(base)),
        _ => unreachable!("only unit-bearing types have a scale"),
    })
}

fn type_secret(
    name: &crate::syntax::Ident,
    args: &[Value],
    value: &Value,
) -> Result<TypedValue, CheckError> {
    let text = match args {
        [
            Value {
                kind: ValueKind::String(text),
                ..
            },
        ] => text.clone(),
        _ => {
            return Err(CheckError::InvalidValue {
                what: "secret".to_owned(),
                reason: format!("`{}` takes one string", name.name),
                span: value.span.into(),
                help: Some("write `env(\"NAME\")` or `file(\"PATH\")`".to_owned()),
            });
        }
    };
    match name.name.as_str() {
        "env" => Ok(TypedValue::Secret(crate::model::Secret::Env(text))),
        "file" => Ok(TypedValue::Secret(crate::model::Secret::File(text))),
        other => Err(CheckError::UnknownName {
            kind: "secret source",
            name: other.to_owned(),
            span: name.span.into(),
            help: Some("secrets are read with `env(\"NAME\")` or `file(\"PATH\")`".to_owned()),
        }),
    }
}

fn type_integer(number: f64, value: &Value) -> Result<TypedValue, CheckError> {
    if number.fract() != 0.0 || !number.is_finite() || number.abs() > i64::MAX as f64 {
        return Err(CheckError::TypeMismatch {
            expected: ValueType::Integer.to_string(),
            found: format!("`{number}`"),
            span: value.span.into(),
            help: Some("write a whole number".to_owned()),
        });
    }
    Ok(TypedValue::Integer(number as i64))
}

/// The maximum duration a `.chaos` file may write: 365 days, far above any
/// real timeout, hold or interval. The run adds durations to the current
/// instant, which overflows for durations of hundreds of billions of years.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

fn duration_from_secs(seconds: f64, value: &Value) -> Result<TypedValue, CheckError> {
    let too_large = || CheckError::InvalidValue {
        what: "duration".to_owned(),
        reason: "it is longer than 365 days".to_owned(),
        span: value.span.into(),
        help: Some("write a duration of at most 365 days (`8760h`)".to_owned()),
    };
    let duration = Duration::try_from_secs_f64(seconds).map_err(|_| too_large())?;
    if duration > MAX_DURATION {
        return Err(too_large());
    }
    Ok(TypedValue::Duration(duration))
}

fn type_percent(share: f64, value: &Value) -> Result<TypedValue, CheckError> {
    if share > 1.0 {
        return Err(CheckError::InvalidValue {
            what: "percentage".to_owned(),
            reason: "it is above 100%".to_owned(),
            span: value.span.into(),
            help: Some("write a percentage from 0% to 100%".to_owned()),
        });
    }
    Ok(TypedValue::Percent(share))
}

fn type_signal(name: &str, value: &Value) -> Result<TypedValue, CheckError> {
    Signal::from_str(name)
        .map(TypedValue::Signal)
        .map_err(|_| CheckError::InvalidValue {
            what: "signal".to_owned(),
            reason: format!("`{name}` is not a signal of this system"),
            span: value.span.into(),
            help: Some("use a name such as `SIGTERM`, `SIGKILL`, `SIGINT` or `SIGHUP`".to_owned()),
        })
}

fn type_address(text: &str, value: &Value) -> Result<TypedValue, CheckError> {
    SocketAddr::from_str(text)
        .map(TypedValue::Address)
        .map_err(|_| CheckError::InvalidValue {
            what: "socket address".to_owned(),
            reason: format!("`{text}` is not an IP address and port"),
            span: value.span.into(),
            help: Some("write an address such as `127.0.0.1:8080` or `[::1]:8080`".to_owned()),
        })
}

fn missing_unit_help(number: f64, expected: &ValueType) -> String {
    match expected {
        ValueType::Duration if number >= 1000.0 && number % 1000.0 == 0.0 => {
            format!("write `{}s` or `{number}ms`", number / 1000.0)
        }
        ValueType::Duration => format!("write `{number}ms` or `{number}s`"),
        // A fraction such as `0.9` most likely means 90%.
        ValueType::Percent if number > 0.0 && number < 1.0 => {
            let percent = (number * 100.0 * 1e6).round() / 1e6;
            format!("write `{percent}%` for the fraction {number}")
        }
        ValueType::Percent => format!("write `{number}%`"),
        ValueType::Size => format!("write `{number}MiB`, `{number}KiB` or `{number}B`"),
        ValueType::Bandwidth => format!("write `{number}Mbit/s` or `{number}kbit/s`"),
        ValueType::Rate => format!("write `{number}/s`"),
        _ => "add a unit".to_owned(),
    }
}

/// Shows how a value of the expected type is written.
fn mismatch_help(expected: &ValueType) -> Option<String> {
    let example = match expected {
        ValueType::Duration => "a duration such as `500ms` or `30s`",
        ValueType::Percent => "a percentage such as `50%`",
        ValueType::Integer => "a whole number such as `200`, without quotes",
        ValueType::Number => "a number such as `0.5`, without quotes",
        ValueType::String | ValueType::Path => "the text in double quotes",
        ValueType::Bool => "`true` or `false`",
        ValueType::Signal => "a signal name such as `SIGKILL`",
        ValueType::Address => "an address such as `127.0.0.1:8080`, without quotes",
        ValueType::Size => "a size such as `64MiB`",
        ValueType::Bandwidth => "a bandwidth such as `10Mbit/s`",
        ValueType::Rate => "a rate such as `100/s`",
        ValueType::List(_) => "a list in brackets, such as `[a, b]`",
        ValueType::StringMap => "a map in braces, such as `{ tier = \"web\" }`",
        ValueType::Secret => "`env(\"NAME\")` or `file(\"PATH\")`",
        _ => return None,
    };
    Some(format!("write {example}"))
}

fn quantity_help(expected: &ValueType) -> Option<String> {
    match expected {
        ValueType::String | ValueType::Path => Some("put the text in double quotes".to_owned()),
        ValueType::Address => Some("write an address such as `127.0.0.1:8080`".to_owned()),
        _ => None,
    }
}

fn members_help(name: &str, members: &[&'static str]) -> String {
    match did_you_mean(name, members.iter().copied()) {
        Some(close) => format!(
            "did you mean `{close}`? the members are {}",
            backticked(members)
        ),
        None => format!("the members are {}", backticked(members)),
    }
}

/// Formats names as "`a`, `b` or `c`".
pub fn backticked(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}
