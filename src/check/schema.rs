//! Checking a block of `key = value` settings against the fields it may hold.

use std::collections::BTreeMap;
use std::time::Duration;

use super::CheckError;
use super::suggest::did_you_mean;
use super::types::type_value;
use crate::model::{TypedValue, ValueType};
use crate::syntax::{Property, Section, Span};

/// A setting a block may hold.
pub struct Field {
    pub name: &'static str,
    pub ty: ValueType,
    pub required: bool,
}

impl Field {
    /// A setting that must be written.
    pub fn required(name: &'static str, ty: ValueType) -> Field {
        Field {
            name,
            ty,
            required: true,
        }
    }

    /// A setting that may be left out.
    pub fn optional(name: &'static str, ty: ValueType) -> Field {
        Field {
            name,
            ty,
            required: false,
        }
    }
}

/// The typed settings of a block; the getters fall back to a default.
#[derive(Debug, Default)]
pub struct Settings {
    values: BTreeMap<&'static str, TypedValue>,
}

impl Settings {
    /// Returns the setting `name`, if it was written and well typed.
    pub fn get(&self, name: &str) -> Option<&TypedValue> {
        self.values.get(name)
    }

    /// Returns a duration setting or `default`.
    pub fn duration(&self, name: &str, default: Duration) -> Duration {
        self.get(name)
            .and_then(TypedValue::as_duration)
            .unwrap_or(default)
    }

    /// Returns a boolean setting or `default`.
    pub fn bool(&self, name: &str, default: bool) -> bool {
        match self.get(name) {
            Some(TypedValue::Bool(flag)) => *flag,
            _ => default,
        }
    }

    /// Returns an integer setting or `default`.
    pub fn integer(&self, name: &str, default: i64) -> i64 {
        match self.get(name) {
            Some(TypedValue::Integer(number)) => *number,
            _ => default,
        }
    }

    /// Returns a string or enumeration setting.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(TypedValue::as_str)
    }

    /// Returns a list of strings or enumeration members, or an empty list.
    pub fn texts(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(TypedValue::List(items)) => items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Returns a map setting, or an empty map.
    pub fn map(&self, name: &str) -> BTreeMap<String, String> {
        match self.get(name) {
            Some(TypedValue::StringMap(map)) => map.clone(),
            _ => BTreeMap::new(),
        }
    }
}

/// Types every property against `fields`, reporting unknown, repeated,
/// missing and ill-typed settings. `owner` is the span that a missing
/// setting is reported on.
pub fn check_properties(
    diagnostics: &mut Vec<CheckError>,
    properties: &[Property],
    fields: &[Field],
    kind: &'static str,
    owner: Span,
) -> Settings {
    let mut settings = Settings::default();
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();

    for property in properties {
        let key = property.key.name.as_str();
        let Some(field) = fields.iter().find(|field| field.name == key) else {
            let names = fields.iter().map(|field| field.name);
            diagnostics.push(CheckError::UnknownField {
                kind,
                name: key.to_owned(),
                span: property.key.span.into(),
                help: Some(known_names_help(key, names)),
            });
            continue;
        };
        if let Some(first) = seen.insert(field.name, property.key.span) {
            diagnostics.push(CheckError::Duplicate {
                kind,
                name: key.to_owned(),
                span: property.key.span.into(),
                first: first.into(),
            });
            continue;
        }
        match type_value(&property.value, &field.ty) {
            Ok(value) => {
                settings.values.insert(field.name, value);
            }
            Err(error) => diagnostics.push(error),
        }
    }

    for field in fields.iter().filter(|field| field.required) {
        if !seen.contains_key(field.name) {
            diagnostics.push(CheckError::MissingField {
                kind,
                name: field.name.to_owned(),
                span: owner.into(),
                help: Some(format!("add `{} = ...` with {}", field.name, field.ty)),
            });
        }
    }
    settings
}

/// Reports every section whose name is not in `allowed`.
pub fn check_section_names(
    diagnostics: &mut Vec<CheckError>,
    sections: &[Section],
    allowed: &[&'static str],
) {
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for section in sections {
        if let Some(first) = seen.insert(&section.name.name, section.name.span) {
            diagnostics.push(CheckError::Duplicate {
                kind: "section",
                name: section.name.name.clone(),
                span: section.name.span.into(),
                first: first.into(),
            });
            continue;
        }
        if !allowed.contains(&section.name.name.as_str()) {
            diagnostics.push(CheckError::UnknownField {
                kind: "section",
                name: section.name.name.clone(),
                span: section.name.span.into(),
                help: Some(known_names_help(
                    &section.name.name,
                    allowed.iter().copied(),
                )),
            });
        }
    }
}

/// Suggests the closest known name, or lists them all.
pub fn known_names_help<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let all: Vec<&str> = known.into_iter().collect();
    match did_you_mean(name, all.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None if all.is_empty() => "nothing can be written here".to_owned(),
        None => format!("expected one of {}", super::types::backticked(&all)),
    }
}
