//! Notifications of alerts: Slack-format webhooks, PagerDuty Events API v2
//! and SMTP email. They are sent from one background task fed through a
//! bounded queue, so that a slow or failing channel never delays the run or
//! its rollback; each delivery is retried with exponential back-off, and
//! its outcome is recorded with every secret removed.

mod channels;
mod secrets;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::{info, warn};

pub use secrets::{Redactor, ResolvedChannel, resolve_channels};

use super::alerts::Alert;

/// How many notifications may wait in the queue; more are dropped and
/// recorded as such.
const QUEUE_CAPACITY: usize = 64;

/// How many times one delivery is tried.
const ATTEMPTS: u32 = 4;

/// The wait before the second try; it doubles before each later one.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// The longest one try may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// What happened to an alert that a notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    Trigger,
    Acknowledge,
    Resolve,
}

impl NotificationEvent {
    /// Returns the event as PagerDuty names it.
    pub fn name(self) -> &'static str {
        match self {
            NotificationEvent::Trigger => "trigger",
            NotificationEvent::Acknowledge => "acknowledge",
            NotificationEvent::Resolve => "resolve",
        }
    }
}

/// The outcome of one notification on one channel.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationRecord {
    pub alert_id: String,
    pub channel: String,
    pub kind: String,
    pub event: NotificationEvent,
    pub delivered: bool,
    pub attempts: u32,
    /// Why the last try failed, with secrets removed.
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// The sending end of the notification queue.
#[derive(Clone)]
pub struct Notifier {
    queue_tx: mpsc::Sender<(Alert, NotificationEvent)>,
    records: Arc<Mutex<Vec<NotificationRecord>>>,
}

/// The task that delivers notifications; `finish` waits for it.
pub struct NotifierTask {
    task: tokio::task::JoinHandle<()>,
    records: Arc<Mutex<Vec<NotificationRecord>>>,
}

impl Notifier {
    /// Starts the delivery task for `channels`.
    pub fn start(channels: Vec<ResolvedChannel>) -> (Notifier, NotifierTask) {
        let (queue_tx, queue_rx) = mpsc::channel(QUEUE_CAPACITY);
        let records = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(deliver_all(queue_rx, channels, Arc::clone(&records)));
        (
            Notifier {
                queue_tx,
                records: Arc::clone(&records),
            },
            NotifierTask { task, records },
        )
    }

    /// Queues a notification without waiting; a full queue drops it.
    pub fn send(&self, alert: &Alert, event: NotificationEvent) {
        if let Err(error) = self.queue_tx.try_send((alert.clone(), event)) {
            warn!(alert = %alert.id, rule = %alert.rule, "notification queue full; dropped");
            let reason = match error {
                mpsc::error::TrySendError::Full(_) => "the notification queue is full",
                mpsc::error::TrySendError::Closed(_) => "the notification task has stopped",
            };
            self.records.lock().unwrap().push(NotificationRecord {
                alert_id: alert.id.clone(),
                channel: String::new(),
                kind: String::new(),
                event,
                delivered: false,
                attempts: 0,
                error: Some(reason.to_owned()),
                at: Utc::now(),
            });
        }
    }
}

impl NotifierTask {
    /// Waits at most `limit` for queued notifications to be delivered, then
    /// returns every outcome. Deliveries still running then are abandoned.
    pub async fn finish(self, notifier: Notifier, limit: Duration) -> Vec<NotificationRecord> {
        // Dropping the last sender ends the task's loop once the queue is empty.
        drop(notifier);
        let mut task = self.task;
        if tokio::time::timeout(limit, &mut task).await.is_err() {
            warn!("notifications still pending at the end of the run; abandoned");
            task.abort();
        }
        std::mem::take(&mut *self.records.lock().unwrap())
    }
}

async fn deliver_all(
    mut queue_rx: mpsc::Receiver<(Alert, NotificationEvent)>,
    channels: Vec<ResolvedChannel>,
    records: Arc<Mutex<Vec<NotificationRecord>>>,
) {
    let channels = Arc::new(channels);
    let client = crate::runtime::http_client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .user_agent("chaosc")
        .build()
        .unwrap_or_default();
    let mut deliveries = JoinSet::new();
    while let Some((alert, event)) = queue_rx.recv().await {
        for name in &alert.channels {
            let Some(index) = channels.iter().position(|c| &c.channel.name == name) else {
                continue;
            };
            let channels = Arc::clone(&channels);
            let records = Arc::clone(&records);
            let client = client.clone();
            let alert = alert.clone();
            // Channels are delivered in parallel, so one slow channel does
            // not hold back the others.
            deliveries.spawn(async move {
                let record = deliver(&client, &channels[index], &alert, event).await;
                records.lock().unwrap().push(record);
            });
        }
    }
    while deliveries.join_next().await.is_some() {}
}

/// Delivers one notification on one channel, retrying with back-off.
async fn deliver(
    client: &reqwest::Client,
    channel: &ResolvedChannel,
    alert: &Alert,
    event: NotificationEvent,
) -> NotificationRecord {
    let mut backoff = FIRST_BACKOFF;
    let mut attempts = 0;
    let mut last_error = None;
    while attempts < ATTEMPTS {
        attempts += 1;
        let sent = tokio::time::timeout(
            ATTEMPT_TIMEOUT,
            channels::send(client, channel, alert, event),
        )
        .await
        .unwrap_or_else(|_| Err("timed out".to_owned()));
        match sent {
            Ok(()) => {
                last_error = None;
                break;
            }
            Err(error) => {
                let error = channel.redactor.redact(&error);
                warn!(
                    channel = %channel.channel.name,
                    alert = %alert.id,
                    attempt = attempts,
                    %error,
                    "notification failed"
                );
                last_error = Some(error);
                if attempts < ATTEMPTS {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
    }
    if last_error.is_none() {
        info!(channel = %channel.channel.name, alert = %alert.id, event = event.name(), "notification sent");
    }
    NotificationRecord {
        alert_id: alert.id.clone(),
        channel: channel.channel.name.clone(),
        kind: channel.channel.kind.name().to_owned(),
        event,
        delivered: last_error.is_none(),
        attempts,
        error: last_error,
        at: Utc::now(),
    }
}
