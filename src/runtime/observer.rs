//! The observer of a run: evaluates the watched alert rules every second,
//! sends their notifications, and takes health snapshots on an interval.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::alerts::{Alert, AlertEngine, AlertEvent};
use super::health::{HEALTH_INTERVAL, HealthSampler, HealthSnapshot};
use super::metrics::Metrics;
use super::monitor::ProbeLog;
use super::notify::{NotificationEvent, Notifier};
use super::progress::{Progress, ProgressEvent};
use super::prometheus;
use super::targets::ProcessTarget;
use crate::check::probes::parse_selector;
use crate::model::ProbeMeasure;

/// How often alert rules are evaluated.
const ALERT_INTERVAL: Duration = Duration::from_secs(1);

/// The trailing window that probe measures in alert thresholds cover.
const PROBE_WINDOW: Duration = Duration::from_secs(60);

/// The live process targets, by name.
pub type Processes = BTreeMap<String, Arc<tokio::sync::Mutex<ProcessTarget>>>;

/// What the observer shares with the run.
pub struct Observer {
    pub engine: AlertEngine,
    pub sampler: HealthSampler,
    pub health: Vec<HealthSnapshot>,
    pub log: Arc<Mutex<ProbeLog>>,
    pub sampled: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    pub notifier: Option<Notifier>,
    pub processes: Processes,
    pub disk: PathBuf,
    pub progress: Progress,
    /// Whether health snapshots are taken during the run too (`safety {
    /// monitoring }`), not only before and after it.
    pub health_during: bool,
}

impl Observer {
    /// Takes a health snapshot and keeps it.
    pub async fn snapshot(&mut self, phase: &'static str) {
        let targets = identities(&self.processes).await;
        let snapshot =
            self.sampler
                .snapshot(phase, &targets, &self.disk, self.engine.active_rules());
        info!(phase, status = ?snapshot.status, reasons = ?snapshot.reasons, "health snapshot");
        self.health.push(snapshot);
    }

    /// Evaluates alerts and takes snapshots until `stop` is cancelled.
    pub async fn watch(mut self, stop: CancellationToken) -> Observer {
        let mut alert_tick = tokio::time::interval(ALERT_INTERVAL);
        alert_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut health_tick =
            tokio::time::interval_at(Instant::now() + HEALTH_INTERVAL, HEALTH_INTERVAL);
        health_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // Stopping ends the loop between two evaluations; nothing
                // of the rollback waits for the observer.
                _ = stop.cancelled() => return self,
                _ = alert_tick.tick() => self.evaluate(),
                _ = health_tick.tick(), if self.health_during => self.snapshot("during").await,
            }
        }
    }

    /// Evaluates the alert rules once and reports what changed.
    pub fn evaluate(&mut self) {
        let scrape = self.scrape_own_metrics();
        let health = self.health.last().cloned();
        let log = Arc::clone(&self.log);
        let events = {
            let log = log.lock().unwrap();
            let since =
                chrono::Utc::now() - chrono::Duration::from_std(PROBE_WINDOW).unwrap_or_default();
            let mut value_of = |metric: &str| {
                metric_value(metric, &log, since, health.as_ref(), scrape.as_deref())
            };
            self.engine.evaluate(Instant::now(), &mut value_of)
        };
        if events.is_empty() {
            return;
        }
        for event in &events {
            let (alert, notification) = match event {
                AlertEvent::Fired(alert) => (alert, NotificationEvent::Trigger),
                AlertEvent::Resolved(alert) => (alert, NotificationEvent::Resolve),
            };
            self.report(alert, notification);
        }
        // Stop conditions over alerts are evaluated when the run is woken.
        self.sampled.notify_one();
    }

    fn report(&mut self, alert: &Alert, event: NotificationEvent) {
        self.log
            .lock()
            .unwrap()
            .set_alert_state(&alert.rule, alert.state);
        match event {
            NotificationEvent::Trigger => {
                warn!(alert = %alert.id, rule = %alert.rule, severity = %alert.severity, run_id = %alert.run_id, "alert fired");
                self.progress.emit(ProgressEvent::AlertFired {
                    rule: alert.rule.clone(),
                    severity: alert.severity.to_string(),
                    message: alert.message.clone(),
                });
            }
            _ => {
                info!(alert = %alert.id, rule = %alert.rule, run_id = %alert.run_id, "alert resolved");
                self.progress.emit(ProgressEvent::AlertResolved {
                    rule: alert.rule.clone(),
                });
            }
        }
        if let Some(notifier) = &self.notifier {
            notifier.send(alert, event);
        }
    }

    /// Parses chaosc's own metrics, when a rule reads one.
    fn scrape_own_metrics(&self) -> Option<Vec<prometheus::Series>> {
        let reads_own = self.engine.metrics().iter().any(|m| !m.contains('.'));
        reads_own.then(|| prometheus::parse_text(&self.metrics.render()).unwrap_or_default())
    }

    /// Returns every alert of the run, oldest first.
    pub fn alerts(&self) -> Vec<Alert> {
        self.engine.alerts().to_vec()
    }
}

/// Returns the current value of a threshold's metric: `PROBE.MEASURE` over
/// the probe's samples of the last minute, a `host.*` measure of the latest
/// health snapshot, or a series of chaosc's own metrics (the largest value
/// when several series match). NaN when unknown.
fn metric_value(
    metric: &str,
    log: &ProbeLog,
    since: chrono::DateTime<chrono::Utc>,
    health: Option<&HealthSnapshot>,
    own: Option<&[prometheus::Series]>,
) -> f64 {
    if metric.starts_with("host.") {
        return health.and_then(|h| h.measure(metric)).unwrap_or(f64::NAN);
    }
    if let Some((probe, measure)) = metric.split_once('.')
        && let Some(measure) = ProbeMeasure::from_name(measure)
    {
        return log.measure(probe, measure, Some(since));
    }
    let (Some(own), Ok(selector)) = (own, parse_selector(metric)) else {
        return f64::NAN;
    };
    own.iter()
        .filter(|series| prometheus::matches(series, &selector))
        .map(|series| series.value)
        .fold(f64::NAN, f64::max)
}

/// Returns (name, pid, start time) of every process target.
pub async fn identities(processes: &Processes) -> Vec<(String, u32, u64)> {
    let mut identities = Vec::new();
    for (name, process) in processes {
        let (pid, start_time) = process.lock().await.identity();
        identities.push((name.clone(), pid, start_time));
    }
    identities
}
