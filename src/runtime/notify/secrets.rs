//! Reading channel secrets from the environment or a file at run time, and
//! removing them from any text that leaves the process.

use crate::model::{Channel, Secret};

/// A channel with its secret read.
#[derive(Clone)]
pub struct ResolvedChannel {
    pub channel: Channel,
    /// The webhook URL, routing key or SMTP password.
    pub secret: Option<String>,
    pub redactor: Redactor,
}

impl std::fmt::Debug for ResolvedChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret is left out on purpose.
        f.debug_struct("ResolvedChannel")
            .field("channel", &self.channel.name)
            .finish_non_exhaustive()
    }
}

/// Replaces secrets in text with `[redacted]`.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor for `secrets`; empty ones are ignored.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        Redactor {
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
        }
    }

    /// Returns `text` with every secret replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "[redacted]");
        }
        text
    }
}

/// Reads the secret of every channel. A channel whose secret cannot be read
/// is left out, and the reason (which names the variable or file, never a
/// secret) is returned with it.
pub fn resolve_channels(channels: &[Channel]) -> (Vec<ResolvedChannel>, Vec<String>) {
    let mut resolved = Vec::new();
    let mut problems = Vec::new();
    for channel in channels {
        let secret = match &channel.secret {
            None => None,
            Some(Secret::Env(name)) => match std::env::var(name) {
                Ok(value) if !value.trim().is_empty() => Some(value.trim().to_owned()),
                _ => {
                    problems.push(format!(
                        "channel `{}`: environment variable `{name}` is not set",
                        channel.name
                    ));
                    continue;
                }
            },
            Some(Secret::File(path)) => match std::fs::read_to_string(path) {
                Ok(value) if !value.trim().is_empty() => Some(value.trim().to_owned()),
                Ok(_) => {
                    problems.push(format!(
                        "channel `{}`: secret file `{path}` is empty",
                        channel.name
                    ));
                    continue;
                }
                Err(error) => {
                    problems.push(format!(
                        "channel `{}`: cannot read secret file `{path}`: {error}",
                        channel.name
                    ));
                    continue;
                }
            },
        };
        resolved.push(ResolvedChannel {
            channel: channel.clone(),
            redactor: Redactor::new(secret.clone()),
            secret,
        });
    }
    (resolved, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redactor_replaces_every_secret() {
        let redactor = Redactor::new(["s3cret".to_owned(), String::new()]);
        assert_eq!(
            redactor.redact("url http://x/s3cret?s3cret"),
            "url http://x/[redacted]?[redacted]"
        );
    }
}
