//! Checking notification channels and alert rules.

use std::collections::BTreeSet;
use std::time::Duration;

use super::CheckError;
use super::schema::{Field, check_properties, check_section_names, known_names_help};
use crate::model::{
    AlertRule, Channel, ChannelKind, HOST_MEASURES, MonitorSeverity, OWN_METRICS, Threshold,
    TypedValue, ValueType,
};
use crate::syntax::{AlertDecl, ChannelDecl, Property, ThresholdDecl, Value, ValueKind};

/// The least time between two alerts of a rule when it does not say.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(5 * 60);

fn channel_fields(kind: ChannelKind) -> Vec<Field> {
    let strings = || ValueType::List(Box::new(ValueType::String));
    match kind {
        ChannelKind::Slack => vec![
            Field::required("webhook", ValueType::Secret),
            Field::optional("channel", ValueType::String),
        ],
        ChannelKind::Pagerduty => vec![
            Field::required("routing_key", ValueType::Secret),
            Field::optional("endpoint", ValueType::String),
        ],
        ChannelKind::Email => vec![
            Field::required("to", strings()),
            Field::optional("from", ValueType::String),
            Field::optional("server", ValueType::String),
            Field::optional("username", ValueType::String),
            Field::optional("password", ValueType::Secret),
            Field::optional("starttls", ValueType::Bool),
        ],
    }
}

/// Checks a notification channel.
pub fn check_channel(diagnostics: &mut Vec<CheckError>, decl: &ChannelDecl) -> Option<Channel> {
    let before = diagnostics.len();
    let Some(kind) = ChannelKind::from_name(&decl.kind.name) else {
        let known = ChannelKind::ALL.iter().map(|kind| kind.name());
        diagnostics.push(CheckError::UnknownName {
            kind: "channel kind",
            name: decl.kind.name.clone(),
            span: decl.kind.span.into(),
            help: Some(known_names_help(&decl.kind.name, known)),
        });
        return None;
    };
    check_section_names(diagnostics, &decl.block.sections, &[]);
    let settings = check_properties(
        diagnostics,
        &decl.block.properties,
        &channel_fields(kind),
        "channel setting",
        decl.name.span,
    );
    let secret = ["webhook", "routing_key", "password"]
        .iter()
        .find_map(|name| match settings.get(name) {
            Some(TypedValue::Secret(secret)) => Some(secret.clone()),
            _ => None,
        });
    (diagnostics.len() == before).then(|| Channel {
        name: decl.name.name.clone(),
        kind,
        secret,
        to: settings.texts("to"),
        from: settings.text("from").map(str::to_owned),
        server: settings.text("server").map(str::to_owned),
        username: settings.text("username").map(str::to_owned),
        starttls: settings.bool("starttls", true),
        slack_channel: settings.text("channel").map(str::to_owned),
        endpoint: settings.text("endpoint").map(str::to_owned),
    })
}

fn alert_fields() -> Vec<Field> {
    let channel = ValueType::Reference { kind: "channel" };
    vec![
        Field::optional("description", ValueType::String),
        Field::optional("severity", severity_type()),
        Field::optional("cooldown", ValueType::Duration),
        Field::optional("channels", ValueType::List(Box::new(channel))),
        Field::optional("enabled", ValueType::Bool),
    ]
}

fn severity_type() -> ValueType {
    ValueType::enumeration(
        "monitor severity",
        MonitorSeverity::ALL,
        MonitorSeverity::name,
    )
}

/// Checks an alert rule; `channels` are the channels in scope.
pub fn check_alert(
    diagnostics: &mut Vec<CheckError>,
    decl: &AlertDecl,
    channels: &BTreeSet<&str>,
) -> Option<AlertRule> {
    let before = diagnostics.len();
    check_section_names(diagnostics, &decl.block.sections, &[]);
    let settings = check_properties(
        diagnostics,
        &decl.block.properties,
        &alert_fields(),
        "alert setting",
        decl.name.span,
    );
    let severity = settings
        .text("severity")
        .and_then(MonitorSeverity::from_name)
        .unwrap_or(MonitorSeverity::Warning);
    if let Some(property) = decl.block.property("channels") {
        check_channel_names(diagnostics, property, channels);
    }
    if decl.thresholds.is_empty() {
        diagnostics.push(CheckError::MissingField {
            kind: "alert setting",
            name: "threshold".to_owned(),
            span: decl.name.span.into(),
            help: Some("add a threshold such as `threshold error_rate gt 5% for 1m`".to_owned()),
        });
    }
    let thresholds: Vec<Threshold> = decl
        .thresholds
        .iter()
        .filter_map(|t| check_threshold(diagnostics, t, severity))
        .collect();

    (diagnostics.len() == before).then(|| AlertRule {
        name: decl.name.name.clone(),
        description: settings.text("description").map(str::to_owned),
        severity,
        thresholds,
        channels: settings.texts("channels"),
        cooldown: settings.duration("cooldown", DEFAULT_COOLDOWN),
        enabled: settings.bool("enabled", true),
    })
}

/// Reports the names in a list of channel names that are not in scope.
pub fn check_channel_names(
    diagnostics: &mut Vec<CheckError>,
    property: &Property,
    channels: &BTreeSet<&str>,
) {
    let ValueKind::List(items) = &property.value.kind else {
        return;
    };
    for item in items {
        let ValueKind::Name(path) = &item.kind else {
            continue;
        };
        let name = path[0].name.as_str();
        if path.len() == 1 && !channels.contains(name) {
            diagnostics.push(CheckError::UnknownName {
                kind: "channel",
                name: name.to_owned(),
                span: item.span.into(),
                help: Some(format!(
                    "{}; declare it with `channel {name} = slack {{ webhook = env(\"...\") }}`",
                    known_names_help(name, channels.iter().copied())
                )),
            });
        }
    }
}

fn check_threshold(
    diagnostics: &mut Vec<CheckError>,
    decl: &ThresholdDecl,
    default_severity: MonitorSeverity,
) -> Option<Threshold> {
    let (metric, value_type) = threshold_metric(diagnostics, &decl.metric)?;
    let value = match value_type {
        Some(ty) => super::types::type_value(&decl.value, &ty)
            .map_err(|error| diagnostics.push(error))
            .ok()?
            .as_number()?,
        None => threshold_value(diagnostics, &decl.value)?,
    };
    let hold = match &decl.hold {
        Some(value) => super::types::type_value(value, &ValueType::Duration)
            .map_err(|error| diagnostics.push(error))
            .ok()?
            .as_duration()?,
        None => Duration::ZERO,
    };
    let severity = match &decl.severity {
        None => default_severity,
        Some(name) => {
            let value = Value {
                kind: ValueKind::Name(vec![name.clone()]),
                span: name.span,
            };
            let typed = super::types::type_value(&value, &severity_type())
                .map_err(|error| diagnostics.push(error))
                .ok()?;
            MonitorSeverity::from_name(typed.as_str()?)?
        }
    };
    Some(Threshold {
        metric,
        op: decl.op,
        value,
        hold,
        severity,
    })
}

/// Resolves the metric of a threshold: `PROBE.MEASURE`, `host.MEASURE` or
/// a quoted name of a metric chaosc exports, with a selector. Returns its
/// name and, for the first two, the type of the values it is compared with.
/// Which probes exist is checked with each experiment that watches the rule.
fn threshold_metric(
    diagnostics: &mut Vec<CheckError>,
    metric: &Value,
) -> Option<(String, Option<ValueType>)> {
    match &metric.kind {
        ValueKind::String(selector) => {
            let name = selector.split('{').next().unwrap_or_default().trim();
            if !OWN_METRICS.contains(&name) {
                diagnostics.push(CheckError::UnknownName {
                    kind: "metric",
                    name: name.to_owned(),
                    span: metric.span.into(),
                    help: Some(format!(
                        "{}; a quoted name selects a metric chaosc exports, and probes read \
                         other systems' metrics",
                        known_names_help(name, OWN_METRICS.iter().copied())
                    )),
                });
                return None;
            }
            Some((selector.clone(), None))
        }
        ValueKind::Name(path) => {
            let [source, measure] = path.as_slice() else {
                diagnostics.push(CheckError::InvalidValue {
                    what: "metric".to_owned(),
                    reason: "it is not `PROBE.MEASURE`, `host.MEASURE` or a quoted name".to_owned(),
                    span: metric.span.into(),
                    help: Some(
                        "write a measure such as `health.failure_rate` or `host.cpu_usage`, \
                         or a quoted metric such as `\"chaosc_active_faults\"`"
                            .to_owned(),
                    ),
                });
                return None;
            };
            let ty = if source.name == "host" {
                let found = HOST_MEASURES
                    .iter()
                    .find(|(name, _)| *name == measure.name)
                    .map(|(_, ty)| ty.clone());
                if found.is_none() {
                    let known = HOST_MEASURES.iter().map(|(name, _)| *name);
                    diagnostics.push(CheckError::UnknownName {
                        kind: "host measure",
                        name: measure.name.clone(),
                        span: measure.span.into(),
                        help: Some(known_names_help(&measure.name, known)),
                    });
                }
                found?
            } else {
                let kind = super::probes::measure_kind(diagnostics, measure)?;
                super::probes::measure_type(kind)
            };
            Some((format!("{}.{}", source.name, measure.name), Some(ty)))
        }
        _ => None,
    }
}

/// Types the value of a threshold: a plain number, or a percentage,
/// duration, size or rate in its base unit.
pub(super) fn threshold_value(diagnostics: &mut Vec<CheckError>, value: &Value) -> Option<f64> {
    let ValueKind::Quantity { unit, .. } = &value.kind else {
        diagnostics.push(CheckError::TypeMismatch {
            expected: "a number or a quantity".to_owned(),
            found: value.kind.describe(),
            span: value.span.into(),
            help: Some("write a number such as `5`, `5%` or `300ms`".to_owned()),
        });
        return None;
    };
    let candidates = [
        ValueType::Number,
        ValueType::Percent,
        ValueType::Duration,
        ValueType::Size,
        ValueType::Bandwidth,
        ValueType::Rate,
    ];
    let typed = match unit {
        None => super::types::type_value(value, &ValueType::Number),
        Some(_) => candidates
            .iter()
            .skip(1)
            .map(|ty| super::types::type_value(value, ty))
            .find(|result| result.is_ok())
            .unwrap_or_else(|| super::types::type_value(value, &ValueType::Duration)),
    };
    typed
        .map_err(|error| diagnostics.push(error))
        .ok()?
        .as_number()
}
