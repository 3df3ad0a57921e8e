//! Alert rules and notification channels, after checking.

use std::time::Duration;

use super::enums::{ChannelKind, MonitorSeverity};
use super::value::ValueType;
use crate::syntax::CompareOp;

/// The metrics chaosc exports about its runs, which alert rules read by
/// their quoted names.
pub const OWN_METRICS: &[&str] = &[
    "chaosc_experiments_total",
    "chaosc_experiment_duration_seconds",
    "chaosc_recovery_time_seconds",
    "chaosc_recovery_seconds",
    "chaosc_blast_radius_size",
    "chaosc_injections_total",
    "chaosc_active_faults",
    "chaosc_probe_latency_seconds",
    "chaosc_probe_failure_ratio",
    "chaosc_http_error_ratio",
    "chaosc_last_run_success",
];

/// The measures of the host that alert rules read as `host.NAME`, and the
/// type of the values they are compared with.
pub const HOST_MEASURES: &[(&str, ValueType)] = &[
    ("cpu_usage", ValueType::Percent),
    ("memory_usage", ValueType::Percent),
    ("disk_usage", ValueType::Percent),
    ("load1", ValueType::Number),
    ("load5", ValueType::Number),
    ("load15", ValueType::Number),
];

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
