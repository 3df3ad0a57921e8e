//! The wire formats of the notification channels.

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;

use super::{NotificationEvent, ResolvedChannel};
use crate::model::{ChannelKind, MonitorSeverity};
use crate::runtime::alerts::Alert;

/// The public PagerDuty Events API v2 endpoint.
const PAGERDUTY_ENDPOINT: &str = "https://events.pagerduty.com/v2/enqueue";

/// The SMTP submission port, used when the server names no port.
const SMTP_PORT: u16 = 587;

/// Sends one notification; the error may hold the secret, and the caller
/// redacts it.
pub(super) async fn send(
    client: &reqwest::Client,
    channel: &ResolvedChannel,
    alert: &Alert,
    event: NotificationEvent,
) -> Result<(), String> {
    match channel.channel.kind {
        ChannelKind::Slack => slack(client, channel, alert, event).await,
        ChannelKind::Pagerduty => pagerduty(client, channel, alert, event).await,
        ChannelKind::Email => email(channel, alert, event).await,
    }
}

fn headline(alert: &Alert, event: NotificationEvent) -> String {
    let what = match event {
        NotificationEvent::Trigger => "FIRING",
        NotificationEvent::Acknowledge => "ACKNOWLEDGED",
        NotificationEvent::Resolve => "RESOLVED",
    };
    format!(
        "[{what}] {} alert `{}` in experiment `{}`",
        alert.severity, alert.rule, alert.experiment
    )
}

async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> Result<(), String> {
    let response = client
        .post(url)
        .json(body)
        .send()
        .await
        // The URL may be the secret itself (a webhook), so it is dropped.
        .map_err(|error| format!("request failed: {}", error.without_url()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    let excerpt: String = text.chars().take(200).collect();
    Err(format!("the endpoint answered {status}: {excerpt}"))
}

async fn slack(
    client: &reqwest::Client,
    channel: &ResolvedChannel,
    alert: &Alert,
    event: NotificationEvent,
) -> Result<(), String> {
    let url = channel
        .secret
        .as_deref()
        .ok_or("the webhook URL is missing")?;
    let headline = headline(alert, event);
    let mut body = json!({
        "text": format!("{headline}: {}", alert.message),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline}},
            {"type": "section", "text": {"type": "mrkdwn", "text": alert.message}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": format!("run `{}` · alert `{}`", alert.run_id, alert.id)}
            ]}
        ]
    });
    if let Some(name) = &channel.channel.slack_channel {
        body["channel"] = json!(name);
    }
    post_json(client, url, &body).await
}

async fn pagerduty(
    client: &reqwest::Client,
    channel: &ResolvedChannel,
    alert: &Alert,
    event: NotificationEvent,
) -> Result<(), String> {
    let routing_key = channel
        .secret
        .as_deref()
        .ok_or("the routing key is missing")?;
    let endpoint = channel
        .channel
        .endpoint
        .as_deref()
        .unwrap_or(PAGERDUTY_ENDPOINT);
    let mut body = json!({
        "routing_key": routing_key,
        "event_action": event.name(),
        "dedup_key": alert.dedup_key,
    });
    // Only a trigger carries a payload; acknowledge and resolve name the
    // alert by its dedup key alone.
    if event == NotificationEvent::Trigger {
        let severity = match alert.severity {
            MonitorSeverity::Info => "info",
            MonitorSeverity::Warning => "warning",
            MonitorSeverity::Error => "error",
            MonitorSeverity::Critical => "critical",
        };
        body["payload"] = json!({
            "summary": format!("{}: {}", headline(alert, event), alert.message),
            "source": "chaosc",
            "severity": severity,
            "timestamp": alert.fired_at.to_rfc3339(),
            "component": alert.experiment,
            "group": alert.rule,
            "custom_details": {
                "run_id": alert.run_id,
                "metric": alert.metric,
                "value": alert.value,
                "threshold": alert.threshold,
                "operator": alert.op,
            }
        });
    }
    post_json(client, endpoint, &body).await
}

async fn email(
    channel: &ResolvedChannel,
    alert: &Alert,
    event: NotificationEvent,
) -> Result<(), String> {
    let settings = &channel.channel;
    let from: Mailbox = settings
        .from
        .as_deref()
        .unwrap_or("chaosc <chaosc@localhost>")
        .parse()
        .map_err(|error| format!("invalid sender address: {error}"))?;
    let mut message = Message::builder()
        .from(from.clone())
        .subject(headline(alert, event));
    for recipient in &settings.to {
        let mailbox: Mailbox = recipient
            .parse()
            .map_err(|error| format!("invalid recipient `{recipient}`: {error}"))?;
        message = message.to(mailbox);
    }
    let body = format!(
        "{}\n\nrule: {}\nseverity: {}\nmetric: {} = {} ({} {})\nrun: {}\nalert: {}\nfired at: {}\n",
        alert.message,
        alert.rule,
        alert.severity,
        alert.metric,
        alert.value,
        alert.op,
        alert.threshold,
        alert.run_id,
        alert.id,
        alert.fired_at.to_rfc3339()
    );
    let message = message
        .body(body)
        .map_err(|error| format!("cannot build the email: {error}"))?;

    let server = settings.server.as_deref().unwrap_or("127.0.0.1:25");
    let (host, port) = match server.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse()
                .map_err(|_| format!("invalid SMTP port in `{server}`"))?,
        ),
        None => (server, SMTP_PORT),
    };
    let builder = if settings.starttls {
        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|error| format!("cannot set up TLS for {host}: {error}"))?
    } else {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
    };
    let mut builder = builder.port(port);
    if let Some(password) = &channel.secret {
        let user = settings
            .username
            .clone()
            .unwrap_or_else(|| from.email.to_string());
        builder = builder.credentials(Credentials::new(user, password.clone()));
    }
    builder
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|error| format!("SMTP delivery to {server} failed: {error}"))
}
