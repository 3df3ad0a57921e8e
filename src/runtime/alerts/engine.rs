//! The alert engine: evaluates every watched rule against current metric
//! values and returns what fired and what resolved.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::model::{AlertRule, AlertStatus, MonitorSeverity, Threshold};

/// An alert raised by a rule during a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    pub rule: String,
    pub run_id: String,
    pub experiment: String,
    pub severity: MonitorSeverity,
    pub state: AlertStatus,
    pub message: String,
    /// The metric of the threshold that fired.
    pub metric: String,
    /// The metric's value when the alert fired.
    pub value: f64,
    /// The operator as written in words (`gt`, `le`, ...).
    pub op: String,
    pub threshold: f64,
    /// The key that ties the trigger, acknowledge and resolve events of one
    /// alert together at PagerDuty.
    pub dedup_key: String,
    pub fired_at: DateTime<Utc>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The channels the alert is sent to.
    pub channels: Vec<String>,
}

/// A change of state the run reports and notifies.
#[derive(Debug, Clone)]
pub enum AlertEvent {
    Fired(Alert),
    Resolved(Alert),
}

/// The bookkeeping of one rule.
#[derive(Debug)]
struct RuleState {
    rule: AlertRule,
    /// Since when each threshold has held without a break.
    holding_since: Vec<Option<Instant>>,
    /// The index in `alerts` of the rule's active alert.
    active: Option<usize>,
    last_fired: Option<Instant>,
    /// Firings held back by the cooldown.
    suppressed: u64,
}

/// Evaluates alert rules and keeps every alert of the run.
#[derive(Debug)]
pub struct AlertEngine {
    run_id: String,
    experiment: String,
    /// Channels every alert of the run goes to, besides each rule's own.
    extra_channels: Vec<String>,
    rules: Vec<RuleState>,
    alerts: Vec<Alert>,
}

impl AlertEngine {
    /// An engine for `rules`; disabled rules are left out.
    pub fn new(
        run_id: &str,
        experiment: &str,
        rules: Vec<AlertRule>,
        extra_channels: Vec<String>,
    ) -> AlertEngine {
        let rules = rules
            .into_iter()
            .filter(|rule| rule.enabled)
            .map(|rule| RuleState {
                holding_since: vec![None; rule.thresholds.len()],
                rule,
                active: None,
                last_fired: None,
                suppressed: 0,
            })
            .collect();
        AlertEngine {
            run_id: run_id.to_owned(),
            experiment: experiment.to_owned(),
            extra_channels,
            rules,
            alerts: Vec::new(),
        }
    }

    /// Returns the metrics the rules read.
    pub fn metrics(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .rules
            .iter()
            .flat_map(|state| state.rule.thresholds.iter().map(|t| t.metric.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Evaluates every rule at `now` with `value_of` giving each metric's
    /// current value (NaN when unknown, which never holds).
    pub fn evaluate(
        &mut self,
        now: Instant,
        value_of: &mut dyn FnMut(&str) -> f64,
    ) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        for index in 0..self.rules.len() {
            if let Some(event) = self.evaluate_rule(index, now, value_of) {
                events.push(event);
            }
        }
        events
    }

    fn evaluate_rule(
        &mut self,
        index: usize,
        now: Instant,
        value_of: &mut dyn FnMut(&str) -> f64,
    ) -> Option<AlertEvent> {
        let state = &mut self.rules[index];
        // The threshold that fires is the most severe one whose comparison
        // held for its whole duration.
        let mut firing: Option<(Threshold, f64)> = None;
        for (threshold, since) in state.rule.thresholds.iter().zip(&mut state.holding_since) {
            let value = value_of(&threshold.metric);
            if !threshold.op.holds(value, threshold.value) {
                *since = None;
                continue;
            }
            let since = *since.get_or_insert(now);
            let held = now.saturating_duration_since(since) >= threshold.hold;
            if held
                && firing
                    .as_ref()
                    .is_none_or(|(best, _)| threshold.severity > best.severity)
            {
                firing = Some((threshold.clone(), value));
            }
        }

        match (firing, state.active) {
            // De-duplication: an active alert covers the rule while it holds.
            (Some(_), Some(_)) => None,
            (Some(_), None)
                if state
                    .last_fired
                    .is_some_and(|at| now.saturating_duration_since(at) < state.rule.cooldown) =>
            {
                state.suppressed += 1;
                tracing::debug!(rule = %state.rule.name, "alert held back by the cooldown");
                None
            }
            (Some((threshold, value)), None) => {
                let alert = self.new_alert(index, threshold, value);
                let state = &mut self.rules[index];
                state.active = Some(self.alerts.len());
                state.last_fired = Some(now);
                self.alerts.push(alert.clone());
                Some(AlertEvent::Fired(alert))
            }
            (None, Some(active)) => {
                state.active = None;
                let alert = &mut self.alerts[active];
                alert.state = AlertStatus::Resolved;
                alert.resolved_at = Some(Utc::now());
                Some(AlertEvent::Resolved(alert.clone()))
            }
            (None, None) => None,
        }
    }

    fn new_alert(&self, index: usize, threshold: Threshold, value: f64) -> Alert {
        let rule = &self.rules[index].rule;
        let id = uuid::Uuid::new_v4().to_string();
        let op = op_word(threshold.op);
        let mut channels = rule.channels.clone();
        for channel in &self.extra_channels {
            if !channels.contains(channel) {
                channels.push(channel.clone());
            }
        }
        let held = if threshold.hold.is_zero() {
            String::new()
        } else {
            format!(" for {:?}", threshold.hold)
        };
        Alert {
            message: format!(
                "{}: {} is {} ({op} {}{held})",
                rule.description.as_deref().unwrap_or(&rule.name),
                threshold.metric,
                format_value(value),
                format_value(threshold.value)
            ),
            dedup_key: format!("chaosc-{id}"),
            id,
            rule: rule.name.clone(),
            run_id: self.run_id.clone(),
            experiment: self.experiment.clone(),
            severity: threshold.severity,
            state: AlertStatus::Active,
            metric: threshold.metric,
            value,
            op: op.to_owned(),
            threshold: threshold.value,
            fired_at: Utc::now(),
            acknowledged_by: None,
            acknowledged_at: None,
            resolved_at: None,
            channels,
        }
    }

    /// Returns every alert of the run, oldest first.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// Returns the names of the rules with an active alert.
    pub fn active_rules(&self) -> Vec<String> {
        self.rules
            .iter()
            .filter(|state| state.active.is_some())
            .map(|state| state.rule.name.clone())
            .collect()
    }

    /// Returns how many firings the cooldown held back, by rule.
    pub fn suppressed(&self) -> Vec<(String, u64)> {
        self.rules
            .iter()
            .filter(|state| state.suppressed > 0)
            .map(|state| (state.rule.name.clone(), state.suppressed))
            .collect()
    }
}

fn op_word(op: crate::syntax::CompareOp) -> &'static str {
    use crate::syntax::CompareOp;
    match op {
        CompareOp::Gt => "gt",
        CompareOp::Lt => "lt",
        CompareOp::Ge => "ge",
        CompareOp::Le => "le",
        CompareOp::Eq => "eq",
        CompareOp::Ne => "ne",
    }
}

fn format_value(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.4}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::syntax::CompareOp;

    fn rule(hold: Duration, cooldown: Duration) -> AlertRule {
        AlertRule {
            name: "errors".to_owned(),
            description: None,
            severity: MonitorSeverity::Error,
            thresholds: vec![Threshold {
                metric: "errors".to_owned(),
                op: CompareOp::Gt,
                value: 5.0,
                hold,
                severity: MonitorSeverity::Error,
            }],
            channels: vec!["team".to_owned()],
            cooldown,
            enabled: true,
        }
    }

    fn fired(events: &[AlertEvent]) -> usize {
        events
            .iter()
            .filter(|e| matches!(e, AlertEvent::Fired(_)))
            .count()
    }

    #[test]
    fn fires_after_hold_and_once() {
        let hold = Duration::from_secs(10);
        let mut engine = AlertEngine::new("run", "exp", vec![rule(hold, Duration::ZERO)], vec![]);
        let start = Instant::now();
        let mut high = |_: &str| 9.0;
        assert_eq!(fired(&engine.evaluate(start, &mut high)), 0);
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(fired(&engine.evaluate(at(5), &mut high)), 0);
        assert_eq!(fired(&engine.evaluate(at(10), &mut high)), 1);
        assert_eq!(fired(&engine.evaluate(at(11), &mut high)), 0);
        assert_eq!(engine.alerts().len(), 1);
        assert_eq!(engine.active_rules(), vec!["errors".to_owned()]);
    }

    #[test]
    fn break_in_hold_restarts_it() {
        let hold = Duration::from_secs(10);
        let mut engine = AlertEngine::new("run", "exp", vec![rule(hold, Duration::ZERO)], vec![]);
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        engine.evaluate(at(0), &mut |_| 9.0);
        engine.evaluate(at(6), &mut |_| 1.0);
        assert_eq!(fired(&engine.evaluate(at(12), &mut |_| 9.0)), 0);
        assert_eq!(fired(&engine.evaluate(at(22), &mut |_| 9.0)), 1);
    }

    #[test]
    fn resolves_then_cooldown_holds_back() {
        let cooldown = Duration::from_secs(60);
        let mut engine =
            AlertEngine::new("run", "exp", vec![rule(Duration::ZERO, cooldown)], vec![]);
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(fired(&engine.evaluate(at(0), &mut |_| 9.0)), 1);
        let events = engine.evaluate(at(1), &mut |_| 1.0);
        assert!(
            matches!(&events[..], [AlertEvent::Resolved(alert)] if alert.state == AlertStatus::Resolved)
        );
        assert_eq!(fired(&engine.evaluate(at(30), &mut |_| 9.0)), 0);
        assert_eq!(engine.suppressed(), vec![("errors".to_owned(), 1)]);
        assert_eq!(fired(&engine.evaluate(at(61), &mut |_| 9.0)), 1);
        assert_eq!(engine.alerts().len(), 2);
    }

    #[test]
    fn unknown_metric_never_fires() {
        for op in [CompareOp::Gt, CompareOp::Ne, CompareOp::Le] {
            let mut watched = rule(Duration::ZERO, Duration::ZERO);
            watched.thresholds[0].op = op;
            let mut engine = AlertEngine::new("run", "exp", vec![watched], vec![]);
            assert_eq!(
                fired(&engine.evaluate(Instant::now(), &mut |_| f64::NAN)),
                0,
                "{}",
                op.symbol()
            );
        }
    }
}
