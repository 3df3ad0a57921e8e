//! Reading a Chaos Toolkit experiment out of the document tree. Every wrong
//! type, unknown key and missing key is reported at its span, and reading
//! goes on, so that one import shows every error of the file.

use super::error::ImportError;
use super::jsonpath2::{PathIssue, translate_path};
use super::model::{
    Activity, ActivityEntry, ActivityKind, ConfigEntry, ConfigValue, Experiment, Extra,
    HttpProvider, Hypothesis, ProcessArguments, ProcessProvider, Provider, PythonProvider,
    SecretEntry, SecretSource, Tolerance, ToleranceKind,
};
use super::node::{Entry, Node, NodeKind, StringSource};
use super::python_regex::{PatternIssue, translate};
use crate::check::MAX_DURATION;
use crate::check::suggest::did_you_mean;

const EXPERIMENT_KEYS: &[&str] = &[
    "version",
    "title",
    "description",
    "tags",
    "contributions",
    "configuration",
    "secrets",
    "extensions",
    "controls",
    "runtime",
    "steady-state-hypothesis",
    "method",
    "rollbacks",
];
const HYPOTHESIS_KEYS: &[&str] = &["title", "probes", "controls"];
const ACTIVITY_KEYS: &[&str] = &[
    "type",
    "name",
    "provider",
    "tolerance",
    "pauses",
    "background",
    "controls",
];
const HTTP_KEYS: &[&str] = &[
    "type",
    "url",
    "method",
    "headers",
    "arguments",
    "timeout",
    "expected_status",
    "verify_tls",
    "max_retries",
    "secrets",
];
const PROCESS_KEYS: &[&str] = &["type", "path", "arguments", "timeout", "secrets"];
const PYTHON_KEYS: &[&str] = &["type", "module", "func", "arguments", "secrets"];
const PAUSE_KEYS: &[&str] = &["before", "after"];

/// Reads the experiment, or returns every error found in it.
/// `text` is the input the tree was read from, for spans inside strings.
pub fn read_experiment(root: &Node, text: &str) -> Result<Experiment, Vec<ImportError>> {
    let mut reader = Reader {
        errors: Vec::new(),
        text,
    };
    let experiment = reader.experiment(root);
    if let Some(experiment) = &experiment {
        reader.errors.extend(check_references(experiment));
    }
    match experiment {
        Some(experiment) if reader.errors.is_empty() => Ok(experiment),
        _ => {
            reader.errors.sort_by_key(|error| {
                use miette::Diagnostic;
                error
                    .labels()
                    .and_then(|mut labels| labels.next())
                    .map_or(0, |label| label.offset())
            });
            Err(reader.errors)
        }
    }
}

/// Reports every `ref` that names no activity. The toolkit looks references
/// up among all activities of the experiment, wherever they are declared.
fn check_references(experiment: &Experiment) -> Vec<ImportError> {
    let hypothesis = experiment
        .hypothesis
        .iter()
        .flat_map(|hypothesis| hypothesis.probes.iter());
    let entries: Vec<&ActivityEntry> = hypothesis
        .chain(&experiment.method)
        .chain(&experiment.rollbacks)
        .collect();
    let names: Vec<&str> = entries
        .iter()
        .filter_map(|entry| match entry {
            ActivityEntry::Activity(activity) => Some(activity.name.as_str()),
            ActivityEntry::Ref { .. } => None,
        })
        .collect();
    entries
        .iter()
        .filter_map(|entry| match entry {
            ActivityEntry::Ref { name, path, span } if !names.contains(&name.as_str()) => {
                let help = did_you_mean(name, names.iter().copied())
                    .map(|close| format!("did you mean `{close}`?"));
                Some(ImportError::UnknownReference {
                    path: path.clone(),
                    name: name.clone(),
                    span: (*span).into(),
                    help,
                })
            }
            _ => None,
        })
        .collect()
}

struct Reader<'src> {
    errors: Vec<ImportError>,
    text: &'src str,
}

impl Reader<'_> {
    fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        self.errors.push(ImportError::WrongType {
            path: path.to_owned(),
            expected: expected.to_owned(),
            found: node.type_name(),
            span: node.span.into(),
            help: None,
        });
    }

    fn invalid(&mut self, node: &Node, path: &str, reason: &str, help: Option<String>) {
        self.errors.push(ImportError::InvalidValue {
            path: path.to_owned(),
            reason: reason.to_owned(),
            span: node.span.into(),
            help,
        });
    }

    /// Returns the entries of an object, reporting keys outside `known`.
    fn object<'a>(&mut self, node: &'a Node, path: &str, known: &[&str]) -> Option<&'a [Entry]> {
        let NodeKind::Object(entries) = &node.kind else {
            self.wrong_type(node, path, "an object");
            return None;
        };
        for entry in entries {
            if !known.contains(&entry.key.as_str()) {
                let help = match did_you_mean(&entry.key, known.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("the keys here are {}", quoted_list(known)),
                };
                self.errors.push(ImportError::UnknownKey {
                    path: path.to_owned(),
                    key: entry.key.clone(),
                    span: entry.key_span.into(),
                    help: Some(help),
                });
            }
        }
        Some(entries)
    }

    fn required<'a>(&mut self, parent: &'a Node, key: &str, path: &str) -> Option<&'a Node> {
        let found = parent.get(key);
        if found.is_none() {
            self.errors.push(ImportError::MissingKey {
                path: path.to_owned(),
                key: key.to_owned(),
                span: parent.span.into(),
                help: None,
            });
        }
        found
    }

    fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match node.as_str() {
            Some(text) => Some(text.to_owned()),
            None => {
                self.wrong_type(node, path, "a string");
                None
            }
        }
    }

    fn optional_string(&mut self, parent: &Node, key: &str, path: &str) -> Option<String> {
        let node = parent.get(key)?;
        self.string(node, &format!("{path}.{key}"))
    }

    /// Reads a number of seconds of at most [`MAX_DURATION`], the bound of
    /// `.chaos` durations, so that sums of them cannot overflow.
    fn number(&mut self, node: &Node, path: &str) -> Option<f64> {
        let max_seconds = MAX_DURATION.as_secs_f64();
        match node.as_f64() {
            Some(number) if number > max_seconds && number.is_finite() => {
                let help = format!("write at most {max_seconds} seconds (365 days)");
                self.invalid(node, path, "it is longer than 365 days", Some(help));
                None
            }
            Some(number) if number >= 0.0 && number.is_finite() => Some(number),
            Some(_) => {
                self.invalid(node, path, "it is negative or not finite", None);
                None
            }
            None => {
                self.wrong_type(node, path, "a number of seconds");
                None
            }
        }
    }

    fn list<'a>(&mut self, node: &'a Node, path: &str) -> &'a [Node] {
        match &node.kind {
            NodeKind::Array(items) => items,
            _ => {
                self.wrong_type(node, path, "a list");
                &[]
            }
        }
    }

    fn experiment(&mut self, root: &Node) -> Option<Experiment> {
        let path = "$";
        self.object(root, path, EXPERIMENT_KEYS)?;
        let title = self
            .required(root, "title", path)
            .and_then(|node| self.string(node, "$.title"));
        let description = self.optional_string(root, "description", path);
        let version = self.optional_string(root, "version", path);
        let tags = match root.get("tags") {
            Some(node) => self
                .list(node, "$.tags")
                .iter()
                .enumerate()
                .filter_map(|(i, tag)| self.string(tag, &format!("$.tags[{i}]")))
                .collect(),
            None => Vec::new(),
        };
        let contributions = root
            .get("contributions")
            .map(|node| self.contributions(node))
            .unwrap_or_default();
        let configuration = root
            .get("configuration")
            .map(|node| self.configuration(node))
            .unwrap_or_default();
        let secrets = root
            .get("secrets")
            .map(|node| self.secrets(node))
            .unwrap_or_default();
        let hypothesis = root
            .get("steady-state-hypothesis")
            .and_then(|node| self.hypothesis(node));
        let method = match self.required(root, "method", path) {
            Some(node) => self.activities(node, "$.method"),
            None => Vec::new(),
        };
        let rollbacks = root
            .get("rollbacks")
            .map(|node| self.activities(node, "$.rollbacks"))
            .unwrap_or_default();
        let extras = ["controls", "extensions", "runtime"]
            .iter()
            .filter_map(|key| extra(root, key, path))
            .collect();

        Some(Experiment {
            title: title?,
            description,
            version,
            tags,
            contributions,
            configuration,
            secrets,
            hypothesis,
            method,
            rollbacks,
            extras,
        })
    }

    fn contributions(&mut self, node: &Node) -> Vec<(String, String)> {
        let NodeKind::Object(entries) = &node.kind else {
            self.wrong_type(node, "$.contributions", "an object of ratings");
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|entry| {
                let path = format!("$.contributions.{}", entry.key);
                let rating = self.string(&entry.value, &path)?;
                Some((entry.key.clone(), rating))
            })
            .collect()
    }

    fn configuration(&mut self, node: &Node) -> Vec<ConfigEntry> {
        let NodeKind::Object(entries) = &node.kind else {
            self.wrong_type(node, "$.configuration", "an object");
            return Vec::new();
        };
        let mut configuration = Vec::new();
        for entry in entries {
            let path = format!("$.configuration.{}", entry.key);
            let value = match &entry.value.kind {
                NodeKind::String(text) => ConfigValue::Inline(text.clone()),
                NodeKind::Number(_) | NodeKind::Bool(_) => {
                    ConfigValue::Inline(entry.value.to_json().to_string())
                }
                NodeKind::Object(_) => match self.source(&entry.value, &path, true) {
                    Some(Source::Env { key, default }) => ConfigValue::Env { key, default },
                    Some(Source::Other(kind)) => ConfigValue::Other(kind),
                    None => continue,
                },
                _ => {
                    self.wrong_type(&entry.value, &path, "a value or a source object");
                    continue;
                }
            };
            configuration.push(ConfigEntry {
                name: entry.key.clone(),
                value,
                path,
            });
        }
        configuration
    }

    fn secrets(&mut self, node: &Node) -> Vec<SecretEntry> {
        let NodeKind::Object(scopes) = &node.kind else {
            self.wrong_type(node, "$.secrets", "an object of scopes");
            return Vec::new();
        };
        let mut secrets = Vec::new();
        for scope in scopes {
            let scope_path = format!("$.secrets.{}", scope.key);
            let NodeKind::Object(entries) = &scope.value.kind else {
                self.wrong_type(&scope.value, &scope_path, "an object of secrets");
                continue;
            };
            for entry in entries {
                let path = format!("{scope_path}.{}", entry.key);
                let source = match &entry.value.kind {
                    NodeKind::String(_) | NodeKind::Number(_) | NodeKind::Bool(_) => {
                        SecretSource::Inline
                    }
                    NodeKind::Object(_) => match self.source(&entry.value, &path, false) {
                        Some(Source::Env { key, .. }) => SecretSource::Env(key),
                        Some(Source::Other(kind)) => SecretSource::Other(kind),
                        None => continue,
                    },
                    _ => {
                        self.wrong_type(&entry.value, &path, "a value or a source object");
                        continue;
                    }
                };
                secrets.push(SecretEntry {
                    scope: scope.key.clone(),
                    key: entry.key.clone(),
                    source,
                    span: entry.key_span,
                });
            }
        }
        secrets
    }

    /// Reads a `{"type": "env", "key": "VAR"}` source object.
    fn source(&mut self, node: &Node, path: &str, allow_default: bool) -> Option<Source> {
        let kind = self
            .required(node, "type", path)
            .and_then(|value| self.string(value, &format!("{path}.type")))?;
        if kind != "env" {
            // Other sources (vault, ...) have keys of their own.
            return Some(Source::Other(kind));
        }
        let known: &[&str] = if allow_default {
            &["type", "key", "default"]
        } else {
            &["type", "key"]
        };
        self.object(node, path, known)?;
        let key = self
            .required(node, "key", path)
            .and_then(|value| self.string(value, &format!("{path}.key")))?;
        let default = node.get("default").map(|value| match &value.kind {
            NodeKind::String(text) => text.clone(),
            _ => value.to_json().to_string(),
        });
        Some(Source::Env { key, default })
    }

    fn hypothesis(&mut self, node: &Node) -> Option<Hypothesis> {
        let path = "$.steady-state-hypothesis";
        self.object(node, path, HYPOTHESIS_KEYS)?;
        let title = self
            .required(node, "title", path)
            .and_then(|value| self.string(value, &format!("{path}.title")));
        let probes = node
            .get("probes")
            .map(|value| self.activities(value, &format!("{path}.probes")))
            .unwrap_or_default();
        for entry in &probes {
            // A tolerance that is present but invalid was reported already.
            if let ActivityEntry::Activity(activity) = entry
                && activity.raw.get("tolerance").is_none()
            {
                self.errors.push(ImportError::MissingKey {
                    path: activity.path.clone(),
                    key: "tolerance".to_owned(),
                    span: activity.span.into(),
                    help: Some(
                        "a probe of the steady-state hypothesis needs a tolerance, such as \
                         `\"tolerance\": 200` for an HTTP status"
                            .to_owned(),
                    ),
                });
            }
        }
        Some(Hypothesis {
            title: title?,
            probes,
            controls: extra(node, "controls", path),
        })
    }

    fn activities(&mut self, node: &Node, path: &str) -> Vec<ActivityEntry> {
        self.list(node, path)
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.activity_entry(item, &format!("{path}[{i}]")))
            .collect()
    }

    fn activity_entry(&mut self, node: &Node, path: &str) -> Option<ActivityEntry> {
        if let Some(reference) = node.get("ref") {
            self.object(node, path, &["ref"])?;
            let name = self.string(reference, &format!("{path}.ref"))?;
            return Some(ActivityEntry::Ref {
                name,
                path: path.to_owned(),
                span: node.span,
            });
        }
        self.activity(node, path)
            .map(|activity| ActivityEntry::Activity(Box::new(activity)))
    }

    fn activity(&mut self, node: &Node, path: &str) -> Option<Activity> {
        self.object(node, path, ACTIVITY_KEYS)?;
        let kind = match self
            .required(node, "type", path)
            .and_then(|value| self.string(value, &format!("{path}.type")))
            .as_deref()
        {
            Some("probe") => Some(ActivityKind::Probe),
            Some("action") => Some(ActivityKind::Action),
            Some(other) => {
                let value = node.get("type")?;
                let help = Some("an activity is a `probe` or an `action`".to_owned());
                self.invalid(
                    value,
                    &format!("{path}.type"),
                    &format!("unknown activity type `{other}`"),
                    help,
                );
                None
            }
            None => None,
        };
        let name = self
            .required(node, "name", path)
            .and_then(|value| self.string(value, &format!("{path}.name")));
        let provider = self
            .required(node, "provider", path)
            .and_then(|value| self.provider(value, &format!("{path}.provider")));
        let tolerance = node
            .get("tolerance")
            .and_then(|value| self.tolerance(value, &format!("{path}.tolerance")));
        let (pause_before, pause_after) = match node.get("pauses") {
            Some(pauses) => self.pauses(pauses, &format!("{path}.pauses")),
            None => (None, None),
        };
        let background = match node.get("background") {
            Some(value) => match value.kind {
                NodeKind::Bool(background) => background,
                _ => {
                    self.wrong_type(value, &format!("{path}.background"), "a boolean");
                    false
                }
            },
            None => false,
        };
        let name = name?;
        if name.is_empty() {
            self.invalid(
                node.get("name")?,
                &format!("{path}.name"),
                "it is empty",
                None,
            );
            return None;
        }
        Some(Activity {
            kind: kind?,
            name,
            provider: provider?,
            tolerance,
            pause_before,
            pause_after,
            background,
            controls: extra(node, "controls", path),
            path: path.to_owned(),
            span: node.span,
            raw: node.clone(),
        })
    }

    fn pauses(&mut self, node: &Node, path: &str) -> (Option<f64>, Option<f64>) {
        if self.object(node, path, PAUSE_KEYS).is_none() {
            return (None, None);
        }
        let before = node
            .get("before")
            .and_then(|value| self.number(value, &format!("{path}.before")));
        let after = node
            .get("after")
            .and_then(|value| self.number(value, &format!("{path}.after")));
        (before, after)
    }

    fn provider(&mut self, node: &Node, path: &str) -> Option<Provider> {
        if !matches!(node.kind, NodeKind::Object(_)) {
            self.wrong_type(node, path, "an object");
            return None;
        }
        let kind_node = self.required(node, "type", path)?;
        let kind = self.string(kind_node, &format!("{path}.type"))?;
        match kind.as_str() {
            "http" => self.http_provider(node, path).map(Provider::Http),
            "process" => self.process_provider(node, path).map(Provider::Process),
            "python" => {
                self.object(node, path, PYTHON_KEYS)?;
                let module = self
                    .required(node, "module", path)
                    .and_then(|value| self.string(value, &format!("{path}.module")));
                let func = self
                    .required(node, "func", path)
                    .and_then(|value| self.string(value, &format!("{path}.func")));
                Some(Provider::Python(PythonProvider {
                    module: module?,
                    func: func?,
                }))
            }
            other => {
                let help = Some("the provider types are `http`, `process` and `python`".to_owned());
                let reason = format!("unknown provider type `{other}`");
                self.invalid(kind_node, &format!("{path}.type"), &reason, help);
                None
            }
        }
    }

    fn http_provider(&mut self, node: &Node, path: &str) -> Option<HttpProvider> {
        self.object(node, path, HTTP_KEYS)?;
        let url = self
            .required(node, "url", path)
            .and_then(|value| self.string(value, &format!("{path}.url")));
        let method = self
            .optional_string(node, "method", path)
            .map_or_else(|| "GET".to_owned(), |method| method.to_uppercase());
        let headers = node
            .get("headers")
            .map(|value| self.headers(value, &format!("{path}.headers")))
            .unwrap_or_default();
        let timeout = node
            .get("timeout")
            .and_then(|value| self.http_timeout(value, &format!("{path}.timeout")));
        let expected_status = node.get("expected_status").and_then(|value| {
            let status = value.as_i64();
            if status.is_none() {
                self.wrong_type(value, &format!("{path}.expected_status"), "a whole number");
            }
            status
        });
        let verify_tls = node.get("verify_tls").and_then(|value| match value.kind {
            NodeKind::Bool(verify) => Some(verify),
            _ => {
                self.wrong_type(value, &format!("{path}.verify_tls"), "a boolean");
                None
            }
        });
        let max_retries = node.get("max_retries").and_then(|value| {
            let retries = value.as_i64().filter(|retries| *retries >= 0);
            if retries.is_none() {
                self.wrong_type(value, &format!("{path}.max_retries"), "a whole number");
            }
            retries
        });
        self.secret_scopes(node, path);
        Some(HttpProvider {
            url: url?,
            method,
            headers,
            arguments: node.get("arguments").cloned(),
            timeout,
            expected_status,
            verify_tls,
            max_retries,
        })
    }

    fn headers(&mut self, node: &Node, path: &str) -> Vec<(String, String)> {
        let NodeKind::Object(entries) = &node.kind else {
            self.wrong_type(node, path, "an object of header names and values");
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|entry| {
                let value = self.string(&entry.value, &format!("{path}.{}", entry.key))?;
                Some((entry.key.clone(), value))
            })
            .collect()
    }

    /// Reads a timeout in seconds, or a `[connect, read]` pair whose sum
    /// bounds the whole request.
    fn http_timeout(&mut self, node: &Node, path: &str) -> Option<f64> {
        match &node.kind {
            NodeKind::Array(items) if items.len() == 2 => {
                let connect = self.number(&items[0], &format!("{path}[0]"));
                let read = self.number(&items[1], &format!("{path}[1]"));
                let total = connect.zip(read).map(|(connect, read)| connect + read)?;
                if total > MAX_DURATION.as_secs_f64() {
                    let help = "write a pair whose sum is at most 365 days".to_owned();
                    self.invalid(node, path, "the sum is longer than 365 days", Some(help));
                    return None;
                }
                Some(total)
            }
            NodeKind::Array(_) => {
                self.wrong_type(node, path, "a number or a `[connect, read]` pair");
                None
            }
            _ => self.number(node, path),
        }
    }

    fn process_provider(&mut self, node: &Node, path: &str) -> Option<ProcessProvider> {
        self.object(node, path, PROCESS_KEYS)?;
        let program = self
            .required(node, "path", path)
            .and_then(|value| self.string(value, &format!("{path}.path")));
        let arguments = match node.get("arguments") {
            Some(value) => self.process_arguments(value, &format!("{path}.arguments"))?,
            None => ProcessArguments::List(Vec::new()),
        };
        let timeout = node
            .get("timeout")
            .and_then(|value| self.number(value, &format!("{path}.timeout")));
        self.secret_scopes(node, path);
        let program = program?;
        if program.is_empty() {
            self.invalid(
                node.get("path")?,
                &format!("{path}.path"),
                "it is empty",
                None,
            );
            return None;
        }
        Some(ProcessProvider {
            path: program,
            arguments,
            timeout,
        })
    }

    /// Reads process arguments the way the toolkit passes them: a string for
    /// a shell, a list as argv (empty items dropped), or an object whose keys
    /// and values alternate in argv.
    fn process_arguments(&mut self, node: &Node, path: &str) -> Option<ProcessArguments> {
        let word = |node: &Node| match &node.kind {
            NodeKind::String(text) => Some(text.clone()),
            NodeKind::Number(_) => Some(node.to_json().to_string()),
            NodeKind::Bool(true) => Some("True".to_owned()),
            NodeKind::Bool(false) => Some("False".to_owned()),
            _ => None,
        };
        match &node.kind {
            NodeKind::String(text) => Some(ProcessArguments::Shell(text.clone())),
            NodeKind::Array(items) => {
                let mut argv = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match (&item.kind, word(item)) {
                        (NodeKind::Null, _) => {}
                        (_, Some(text)) if !text.is_empty() => argv.push(text),
                        (_, Some(_)) => {}
                        (_, None) => self.wrong_type(item, &format!("{path}[{i}]"), "a string"),
                    }
                }
                Some(ProcessArguments::List(argv))
            }
            NodeKind::Object(entries) => {
                let mut argv = Vec::new();
                for entry in entries {
                    argv.push(entry.key.clone());
                    match word(&entry.value) {
                        Some(text) if !text.is_empty() => argv.push(text),
                        Some(_) => {}
                        None => self.wrong_type(
                            &entry.value,
                            &format!("{path}.{}", entry.key),
                            "a string",
                        ),
                    }
                }
                Some(ProcessArguments::List(argv))
            }
            _ => {
                self.wrong_type(node, path, "a string, a list or an object");
                None
            }
        }
    }

    fn secret_scopes(&mut self, node: &Node, path: &str) {
        if let Some(scopes) = node.get("secrets") {
            let path = format!("{path}.secrets");
            for (i, scope) in self.list(scopes, &path).iter().enumerate() {
                if scope.as_str().is_none() {
                    self.wrong_type(scope, &format!("{path}[{i}]"), "a scope name");
                }
            }
        }
    }

    fn tolerance(&mut self, node: &Node, path: &str) -> Option<Tolerance> {
        let kind = match &node.kind {
            NodeKind::Number(_) => match node.as_i64() {
                Some(whole) => ToleranceKind::Integer(whole),
                None => ToleranceKind::OtherScalar,
            },
            NodeKind::Bool(_) | NodeKind::String(_) => ToleranceKind::OtherScalar,
            NodeKind::Array(items) => ToleranceKind::List(items.clone()),
            NodeKind::Object(_) => self.tolerance_object(node, path)?,
            NodeKind::Null => {
                self.wrong_type(node, path, "a value, a list or a tolerance object");
                return None;
            }
        };
        Some(Tolerance { kind })
    }

    fn tolerance_object(&mut self, node: &Node, path: &str) -> Option<ToleranceKind> {
        let kind_node = self.required(node, "type", path)?;
        let kind = self.string(kind_node, &format!("{path}.type"))?;
        let target = |reader: &mut Self| reader.optional_string(node, "target", path);
        match kind.as_str() {
            "regex" => {
                self.object(node, path, &["type", "pattern", "target"])?;
                let pattern_path = format!("{path}.pattern");
                let pattern_node = self.required(node, "pattern", path);
                let pattern = pattern_node.and_then(|value| self.string(value, &pattern_path));
                let target = target(self);
                let (pattern_node, pattern) = (pattern_node?, pattern?);
                let pattern_source = StringSource::of(pattern_node, self.text);
                self.check_pattern(&pattern, pattern_source, &pattern_path);
                Some(ToleranceKind::Regex {
                    pattern,
                    pattern_source,
                    target,
                })
            }
            "jsonpath" => {
                self.object(node, path, &["type", "path", "expect", "count", "target"])?;
                let json_path_path = format!("{path}.path");
                let json_path_node = self.required(node, "path", path);
                let json_path =
                    json_path_node.and_then(|value| self.string(value, &json_path_path));
                let target = target(self);
                let (json_path_node, json_path) = (json_path_node?, json_path?);
                let path_source = StringSource::of(json_path_node, self.text);
                self.check_json_path(&json_path, path_source, &json_path_path);
                Some(ToleranceKind::JsonPath {
                    path: json_path,
                    path_source,
                    target,
                    expect: node.get("expect").cloned(),
                    count: node.get("count").cloned(),
                })
            }
            "range" => {
                self.object(node, path, &["type", "range", "target"])?;
                let range = self.required(node, "range", path)?;
                let target = target(self);
                let bounds: Vec<f64> = match &range.kind {
                    NodeKind::Array(items) => items.iter().filter_map(Node::as_f64).collect(),
                    _ => Vec::new(),
                };
                match bounds.as_slice() {
                    [low, high] if matches!(&range.kind, NodeKind::Array(items) if items.len() == 2) => {
                        Some(ToleranceKind::Range {
                            low: *low,
                            high: *high,
                            target,
                        })
                    }
                    _ => {
                        let help =
                            Some("write two numbers, as in `\"range\": [200, 299]`".to_owned());
                        let reason = "a range is a list of two numbers";
                        self.invalid(range, &format!("{path}.range"), reason, help);
                        None
                    }
                }
            }
            "probe" => {
                // A probe tolerance is a whole activity; it is checked like one
                // and kept as a placeholder.
                self.activity(node, path)?;
                Some(ToleranceKind::Probe)
            }
            other => {
                let help = Some(
                    "the tolerance types are `regex`, `jsonpath`, `range` and `probe`".to_owned(),
                );
                let reason = format!("unknown tolerance type `{other}`");
                self.invalid(kind_node, &format!("{path}.type"), &reason, help);
                None
            }
        }
    }
}

impl Reader<'_> {
    /// Reports a pattern that Python's `re` rejects. A pattern with a
    /// `${name}` reference is checked when it is converted, after the
    /// reference is resolved.
    fn check_pattern(&mut self, pattern: &str, source: StringSource, path: &str) {
        if pattern.contains("${") {
            return;
        }
        if let Err(PatternIssue::Invalid {
            offset,
            len,
            message,
        }) = translate(pattern)
        {
            self.errors.push(ImportError::InvalidPattern {
                path: path.to_owned(),
                reason: message,
                span: source.locate(offset, len).into(),
            });
        }
    }

    /// Reports a JSON path that the `jsonpath2` package rejects, after the
    /// same rule for `${name}` references as [`Self::check_pattern`].
    fn check_json_path(&mut self, json_path: &str, source: StringSource, path: &str) {
        if json_path.contains("${") {
            return;
        }
        if let Err(PathIssue::Invalid {
            offset,
            len,
            message,
        }) = translate_path(json_path)
        {
            self.errors.push(ImportError::InvalidJsonPath {
                path: path.to_owned(),
                reason: message,
                span: source.locate(offset, len).into(),
            });
        }
    }
}

/// A source object of configuration or secrets.
enum Source {
    Env {
        key: String,
        default: Option<String>,
    },
    Other(String),
}

fn extra(parent: &Node, key: &str, path: &str) -> Option<Extra> {
    parent.get(key).map(|node| Extra {
        key: key.to_owned(),
        path: format!("{path}.{key}"),
        node: node.clone(),
    })
}

fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
