//! Resolving `${name}` references to configuration and secrets, which the
//! toolkit substitutes in URLs, headers and process arguments when it runs.
//! chaosc has no such variables, so values known at import time are written
//! in place, and references that are not known stop the element from being
//! mapped.

use std::collections::BTreeMap;

use super::model::{ConfigValue, Experiment};

/// What a `${name}` can refer to.
#[derive(Debug, Default)]
pub struct Variables {
    configuration: BTreeMap<String, ConfigValue>,
    /// Secret keys, with their scope, named as `scope.key`.
    secrets: BTreeMap<String, String>,
}

/// The outcome of substituting one string.
#[derive(Debug, Clone, PartialEq)]
pub enum Substituted {
    /// Every reference resolved; `defaults` lists the environment variables
    /// whose declared default was written in their place.
    Text { text: String, defaults: Vec<String> },
    /// A reference that cannot be written: a secret, or a configuration
    /// value read from the environment (or elsewhere) with no default.
    Unresolved { reference: String, reason: String },
}

impl Variables {
    /// Collects the configuration and secrets of an experiment.
    pub fn new(experiment: &Experiment) -> Self {
        let configuration = experiment
            .configuration
            .iter()
            .map(|entry| (entry.name.clone(), entry.value.clone()))
            .collect();
        let secrets = experiment
            .secrets
            .iter()
            .map(|secret| {
                let name = format!("{}.{}", secret.scope, secret.key);
                (secret.key.clone(), name)
            })
            .collect();
        Variables {
            configuration,
            secrets,
        }
    }

    /// Replaces every `${name}` in `text`. A name that is neither
    /// configuration nor secret stays as written, as the toolkit leaves it.
    pub fn substitute(&self, text: &str) -> Substituted {
        let mut out = String::with_capacity(text.len());
        let mut defaults = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            match self.resolve(name) {
                Resolved::Value(value) => out.push_str(&value),
                Resolved::Default { value, variable } => {
                    out.push_str(&value);
                    defaults.push(variable);
                }
                Resolved::Unknown => out.push_str(&rest[start..start + 3 + end]),
                Resolved::Blocked(reason) => {
                    return Substituted::Unresolved {
                        reference: format!("${{{name}}}"),
                        reason,
                    };
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Substituted::Text {
            text: out,
            defaults,
        }
    }

    fn resolve(&self, name: &str) -> Resolved {
        if let Some(value) = self.configuration.get(name) {
            return match value {
                ConfigValue::Inline(text) => Resolved::Value(text.clone()),
                ConfigValue::Env {
                    key,
                    default: Some(default),
                } => Resolved::Default {
                    value: default.clone(),
                    variable: key.clone(),
                },
                ConfigValue::Env { key, default: None } => Resolved::Blocked(format!(
                    "it uses configuration `{name}`, read from the environment variable `{key}` \
                     when the experiment runs, and chaosc cannot read variables"
                )),
                ConfigValue::Other(kind) => Resolved::Blocked(format!(
                    "it uses configuration `{name}`, read from a `{kind}` source that chaosc \
                     cannot read"
                )),
            };
        }
        if let Some(secret) = self.secrets.get(name) {
            return Resolved::Blocked(format!(
                "it uses secret `{secret}`, and secrets are never written to a scenario"
            ));
        }
        Resolved::Unknown
    }
}

enum Resolved {
    Value(String),
    Default { value: String, variable: String },
    Unknown,
    Blocked(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::model::{ConfigEntry, SecretEntry, SecretSource};
    use crate::syntax::Span;

    fn variables() -> Variables {
        let mut experiment = Experiment {
            title: "t".to_owned(),
            description: None,
            version: None,
            tags: Vec::new(),
            contributions: Vec::new(),
            configuration: Vec::new(),
            secrets: Vec::new(),
            hypothesis: None,
            method: Vec::new(),
            rollbacks: Vec::new(),
            extras: Vec::new(),
        };
        let entry = |name: &str, value| ConfigEntry {
            name: name.to_owned(),
            value,
            path: String::new(),
        };
        experiment.configuration = vec![
            entry("port", ConfigValue::Inline("8080".to_owned())),
            entry(
                "host",
                ConfigValue::Env {
                    key: "HOST".to_owned(),
                    default: Some("127.0.0.1".to_owned()),
                },
            ),
            entry(
                "region",
                ConfigValue::Env {
                    key: "REGION".to_owned(),
                    default: None,
                },
            ),
        ];
        experiment.secrets = vec![SecretEntry {
            scope: "api".to_owned(),
            key: "token".to_owned(),
            source: SecretSource::Inline,
            span: Span::default(),
        }];
        Variables::new(&experiment)
    }

    #[test]
    fn inline_values_and_defaults_are_written() {
        let substituted = variables().substitute("http://${host}:${port}/x");
        assert_eq!(
            substituted,
            Substituted::Text {
                text: "http://127.0.0.1:8080/x".to_owned(),
                defaults: vec!["HOST".to_owned()],
            }
        );
    }

    #[test]
    fn unknown_names_stay_as_written() {
        let substituted = variables().substitute("a ${nope} b ${");
        assert_eq!(
            substituted,
            Substituted::Text {
                text: "a ${nope} b ${".to_owned(),
                defaults: Vec::new(),
            }
        );
    }

    #[test]
    fn secrets_and_unset_variables_block() {
        for text in ["Bearer ${token}", "${region}"] {
            let substituted = variables().substitute(text);
            assert!(
                matches!(substituted, Substituted::Unresolved { .. }),
                "{text}: {substituted:?}"
            );
        }
    }
}
