//! Editing one key of a configuration file in JSON, YAML, TOML or `.env`
//! form, and reading it back. Nested keys are written with dots
//! (`server.port`). The edited file is re-serialised, so comments and
//! layout are lost until the fault is reverted, which writes the original
//! bytes back.

use std::path::Path;

/// A configuration file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Toml,
    /// `KEY=value` lines, as read by dotenv loaders and systemd.
    Env,
}

impl Format {
    /// Returns the format of a file from its name.
    pub fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        let extension = path
            .extension()
            .and_then(|ext| ext.to_str())
            .unwrap_or_default();
        match extension {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            "env" => Some(Format::Env),
            _ if name == ".env" || name.starts_with(".env.") => Some(Format::Env),
            _ => None,
        }
    }
}

/// A change to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Set the key, adding it if absent. The value is read as a literal of
    /// the format (number, boolean, ...) when it is one, else as a string.
    Set(String),
    Remove,
}

/// Returns `text` with `change` applied to `key`.
pub fn apply(format: Format, text: &str, key: &str, change: &Change) -> Result<String, String> {
    match format {
        Format::Json => json::apply(text, key, change),
        Format::Yaml => yaml::apply(text, key, change),
        Format::Toml => toml_format::apply(text, key, change),
        Format::Env => Ok(env::apply(text, key, change)),
    }
}

/// Returns the value of `key` in `text` in a canonical form, or `None`.
pub fn lookup(format: Format, text: &str, key: &str) -> Result<Option<String>, String> {
    match format {
        Format::Json => json::lookup(text, key),
        Format::Yaml => yaml::lookup(text, key),
        Format::Toml => toml_format::lookup(text, key),
        Format::Env => Ok(env::lookup(text, key)),
    }
}

/// Returns the canonical form `lookup` gives for a value set as `raw`.
pub fn canonical(format: Format, raw: &str) -> String {
    match format {
        Format::Json => serde_json::to_string(&json::literal(raw)).unwrap_or_default(),
        Format::Yaml => yaml::canonical(&yaml::literal(raw)),
        Format::Toml => toml_format::literal(raw).to_string(),
        Format::Env => raw.to_owned(),
    }
}

fn path_of(key: &str) -> Result<Vec<&str>, String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|part| part.is_empty()) {
        return Err(format!("invalid key `{key}`: empty part between dots"));
    }
    Ok(parts)
}

mod json {
    use serde_json::{Map, Value};

    use super::{Change, path_of};

    pub fn literal(raw: &str) -> Value {
        serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
    }

    pub fn apply(text: &str, key: &str, change: &Change) -> Result<String, String> {
        let mut root: Value =
            serde_json::from_str(text).map_err(|error| format!("invalid JSON: {error}"))?;
        let parts = path_of(key)?;
        let (last, parents) = parts.split_last().expect("a key has a part");
        let mut node = &mut root;
        for part in parents {
            let Value::Object(map) = node else {
                return Err(format!("`{part}` is not inside an object"));
            };
            node = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        let Value::Object(map) = node else {
            return Err(format!("the parent of `{last}` is not an object"));
        };
        match change {
            Change::Set(raw) => {
                map.insert(last.to_string(), literal(raw));
            }
            Change::Remove => {
                map.remove(*last);
            }
        }
        serde_json::to_string_pretty(&root)
            .map(|text| text + "\n")
            .map_err(|error| error.to_string())
    }

    pub fn lookup(text: &str, key: &str) -> Result<Option<String>, String> {
        let root: Value =
            serde_json::from_str(text).map_err(|error| format!("invalid JSON: {error}"))?;
        let mut node = &root;
        for part in path_of(key)? {
            match node.get(part) {
                Some(next) => node = next,
                None => return Ok(None),
            }
        }
        Ok(Some(serde_json::to_string(node).unwrap_or_default()))
    }
}

mod yaml {
    use serde_yaml::{Mapping, Value};

    use super::{Change, path_of};

    pub fn literal(raw: &str) -> Value {
        if raw.is_empty() {
            return Value::String(String::new());
        }
        serde_yaml::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
    }

    pub fn canonical(value: &Value) -> String {
        serde_yaml::to_string(value)
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    pub fn apply(text: &str, key: &str, change: &Change) -> Result<String, String> {
        let mut root: Value =
            serde_yaml::from_str(text).map_err(|error| format!("invalid YAML: {error}"))?;
        if root.is_null() {
            root = Value::Mapping(Mapping::new());
        }
        let parts = path_of(key)?;
        let (last, parents) = parts.split_last().expect("a key has a part");
        let mut node = &mut root;
        for part in parents {
            let Value::Mapping(map) = node else {
                return Err(format!("`{part}` is not inside a mapping"));
            };
            node = map
                .entry(Value::String(part.to_string()))
                .or_insert_with(|| Value::Mapping(Mapping::new()));
        }
        let Value::Mapping(map) = node else {
            return Err(format!("the parent of `{last}` is not a mapping"));
        };
        match change {
            Change::Set(raw) => {
                map.insert(Value::String(last.to_string()), literal(raw));
            }
            Change::Remove => {
                map.remove(*last);
            }
        }
        serde_yaml::to_string(&root).map_err(|error| error.to_string())
    }

    pub fn lookup(text: &str, key: &str) -> Result<Option<String>, String> {
        let root: Value =
            serde_yaml::from_str(text).map_err(|error| format!("invalid YAML: {error}"))?;
        let mut node = &root;
        for part in path_of(key)? {
            match node.get(part) {
                Some(next) => node = next,
                None => return Ok(None),
            }
        }
        Ok(Some(canonical(node)))
    }
}

mod toml_format {
    use toml::{Table, Value};

    use super::{Change, path_of};

    pub fn literal(raw: &str) -> Value {
        toml::from_str::<Table>(&format!("value = {raw}"))
            .ok()
            .and_then(|mut table| table.remove("value"))
            .unwrap_or_else(|| Value::String(raw.to_owned()))
    }

    pub fn apply(text: &str, key: &str, change: &Change) -> Result<String, String> {
        let mut root: Table =
            toml::from_str(text).map_err(|error| format!("invalid TOML: {error}"))?;
        let parts = path_of(key)?;
        let (last, parents) = parts.split_last().expect("a key has a part");
        let mut table = &mut root;
        for part in parents {
            let next = table
                .entry(part.to_string())
                .or_insert_with(|| Value::Table(Table::new()));
            let Value::Table(inner) = next else {
                return Err(format!("`{part}` is not a table"));
            };
            table = inner;
        }
        match change {
            Change::Set(raw) => {
                table.insert(last.to_string(), literal(raw));
            }
            Change::Remove => {
                table.remove(*last);
            }
        }
        toml::to_string(&root).map_err(|error| error.to_string())
    }

    pub fn lookup(text: &str, key: &str) -> Result<Option<String>, String> {
        let root: Table = toml::from_str(text).map_err(|error| format!("invalid TOML: {error}"))?;
        let parts = path_of(key)?;
        let (last, parents) = parts.split_last().expect("a key has a part");
        let mut table = &root;
        for part in parents {
            match table.get(*part) {
                Some(Value::Table(inner)) => table = inner,
                _ => return Ok(None),
            }
        }
        Ok(table.get(*last).map(Value::to_string))
    }
}

mod env {
    use super::Change;

    /// Returns the value of a `KEY=value` or `export KEY=value` line.
    fn value_of<'t>(line: &'t str, key: &str) -> Option<&'t str> {
        let trimmed = line.trim_start();
        let body = trimmed
            .strip_prefix("export ")
            .unwrap_or(trimmed)
            .trim_start();
        body.strip_prefix(key)?.strip_prefix('=')
    }

    pub fn apply(text: &str, key: &str, change: &Change) -> String {
        let mut out = String::with_capacity(text.len() + key.len() + 16);
        let mut found = false;
        for line in text.split_inclusive('\n') {
            if value_of(line, key).is_none() {
                out.push_str(line);
                continue;
            }
            found = true;
            if let Change::Set(value) = change {
                let export = if line.trim_start().starts_with("export ") {
                    "export "
                } else {
                    ""
                };
                out.push_str(&format!("{export}{key}={value}\n"));
            }
        }
        if let (false, Change::Set(value)) = (found, change) {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("{key}={value}\n"));
        }
        out
    }

    pub fn lookup(text: &str, key: &str) -> Option<String> {
        text.lines()
            .find_map(|line| value_of(line, key))
            .map(|value| value.trim_end().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each format: a file, a key to set, its value, and a key to remove.
    const CASES: &[(Format, &str, &str, &str, &str)] = &[
        (
            Format::Json,
            "{\"server\": {\"port\": 8080}, \"debug\": false}",
            "server.port",
            "9090",
            "debug",
        ),
        (
            Format::Yaml,
            "server:\n  port: 8080\ndebug: false\n",
            "server.port",
            "9090",
            "debug",
        ),
        (
            Format::Toml,
            "debug = false\n[server]\nport = 8080\n",
            "server.port",
            "9090",
            "debug",
        ),
        (
            Format::Env,
            "# comment\nPORT=8080\nexport DEBUG=false\n",
            "PORT",
            "9090",
            "DEBUG",
        ),
    ];

    #[test]
    fn set_changes_existing_key() {
        for (format, text, key, value, _) in CASES {
            let edited = apply(*format, text, key, &Change::Set((*value).to_owned())).unwrap();
            let found = lookup(*format, &edited, key).unwrap();
            assert_eq!(
                found,
                Some(canonical(*format, value)),
                "{format:?}: {edited}"
            );
        }
    }

    #[test]
    fn set_adds_missing_key() {
        for (format, text, _, _, _) in CASES {
            let key = if *format == Format::Env {
                "NEW_KEY"
            } else {
                "extra.flag"
            };
            let edited = apply(*format, text, key, &Change::Set("true".to_owned())).unwrap();
            let found = lookup(*format, &edited, key).unwrap();
            assert_eq!(
                found,
                Some(canonical(*format, "true")),
                "{format:?}: {edited}"
            );
        }
    }

    #[test]
    fn remove_drops_key() {
        for (format, text, _, _, removed) in CASES {
            assert!(
                lookup(*format, text, removed).unwrap().is_some(),
                "{format:?}"
            );
            let edited = apply(*format, text, removed, &Change::Remove).unwrap();
            assert_eq!(
                lookup(*format, &edited, removed).unwrap(),
                None,
                "{format:?}: {edited}"
            );
        }
    }

    #[test]
    fn env_keeps_other_lines() {
        let edited = apply(
            Format::Env,
            "# comment\nA=1\nexport B=2\n",
            "B",
            &Change::Set("3".to_owned()),
        )
        .unwrap();
        assert_eq!(edited, "# comment\nA=1\nexport B=3\n");
    }

    #[test]
    fn format_from_file_name() {
        assert_eq!(Format::of(Path::new("/srv/app.json")), Some(Format::Json));
        assert_eq!(Format::of(Path::new("/srv/app.yml")), Some(Format::Yaml));
        assert_eq!(Format::of(Path::new("/srv/Cargo.toml")), Some(Format::Toml));
        assert_eq!(Format::of(Path::new("/srv/.env")), Some(Format::Env));
        assert_eq!(Format::of(Path::new("/srv/.env.local")), Some(Format::Env));
        assert_eq!(Format::of(Path::new("/srv/app.ini")), None);
    }

    #[test]
    fn invalid_input_is_an_error() {
        assert!(
            apply(Format::Json, "{", "a", &Change::Remove)
                .unwrap_err()
                .contains("invalid JSON")
        );
        assert!(
            apply(Format::Json, "{}", "a..b", &Change::Remove)
                .unwrap_err()
                .contains("invalid key")
        );
    }
}
