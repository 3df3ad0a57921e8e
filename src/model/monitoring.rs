//! Alert rules and notification channels, after checking.

use std::time::Duration;

use super::enums::{ChannelKind, MonitorSeverity};
use crate::syntax::CompareOp;

/// Where a secret is read at run time; secrets never appear in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// An environment variable.
    Env(String),
    /// A file whose whole content, trimmed, is the secret.
    File(String),
}

/// A notification channel.
#[derive(Debug, Clone)]
pub struct Channel {
    pub name: String,
    pub kind: ChannelKind,
    /// The Slack webhook URL, PagerDuty routing key or SMTP password.
    pub secret: Option<Secret>,
    /// Email recipients.
    pub to: Vec<String>,
    /// The email sender address.
    pub from: Option<String>,
    /// The SMTP server as `HOST:PORT` (port 587 when left out).
    pub server: Option<String>,
    /// The SMTP user name, when the server needs a login.
    pub username: Option<String>,
    /// Whether email goes through STARTTLS; on unless the channel says
    /// `starttls = false`, which only a loopback test server should need.
    pub starttls: bool,
    /// The Slack channel that overrides the webhook's own.
    pub slack_channel: Option<String>,
    /// The PagerDuty Events API v2 URL, when not the public one.
    pub endpoint: Option<String>,
}

/// An alert rule: thresholds over metrics, and where to send the alert.
#[derive(Debug, Clone)]
pub struct AlertRule {
    pub name: String,
    pub description: Option<String>,
    pub severity: MonitorSeverity,
    pub thresholds: Vec<Threshold>,
    pub channels: Vec<String>,
    /// The least time between two alerts of the rule.
    pub cooldown: Duration,
    pub enabled: bool,
}

/// One metric threshold of an alert rule.
#[derive(Debug, Clone)]
pub struct Threshold {
    pub metric: String,
    pub op: CompareOp,
    /// The value in the metric's base unit (seconds, fractions of one).
    pub value: f64,
    /// How long the comparison must hold before the alert fires.
    pub hold: Duration,
    pub severity: MonitorSeverity,
}
