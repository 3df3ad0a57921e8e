//! Taking one sample of a probe: an HTTP request, a TCP connect or a
//! command, checked against the probe's expectations.

use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::check::parse_http_url;
use crate::model::{Expectation, Probe, ProbeField, ProbeKind, TypedValue};
use crate::syntax::CompareOp;

/// The most of an HTTP response or a command's output a probe reads.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// One observation of a probe.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub probe: String,
    pub at: DateTime<Utc>,
    /// Whether the sample met every expectation.
    pub ok: bool,
    #[serde(serialize_with = "serialize_millis", rename = "latency_ms")]
    pub latency: Duration,
    /// The HTTP status or the exit code, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Why the sample failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub text: Option<String>,
}

fn serialize_millis<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((duration.as_secs_f64() * 1_000_000.0).round() / 1000.0)
}

/// What a probe observed before expectations were checked.
struct Observed {
    code: Option<i64>,
    text: Option<String>,
}

/// Takes one sample of `probe`.
pub async fn sample(probe: &Probe) -> Sample {
    let at = Utc::now();
    let started = Instant::now();
    let observed = timeout(probe.timeout, observe(&probe.kind)).await;
    let latency = started.elapsed();

    let (observed, error) = match observed {
        Err(_) => (None, Some(format!("timed out after {:?}", probe.timeout))),
        Ok(Err(error)) => (None, Some(error)),
        Ok(Ok(observed)) => (Some(observed), None),
    };
    let mut sample = Sample {
        probe: probe.name.clone(),
        at,
        ok: false,
        latency,
        code: observed.as_ref().and_then(|o| o.code),
        error,
        text: observed.as_ref().and_then(|o| o.text.clone()),
    };
    if let Some(observed) = observed {
        match first_unmet(probe, &observed, latency) {
            Some(unmet) => sample.error = Some(unmet),
            None => sample.ok = true,
        }
    }
    sample
}

async fn observe(kind: &ProbeKind) -> Result<Observed, String> {
    match kind {
        ProbeKind::Http { method, url } => http_request(method.name(), url).await,
        ProbeKind::Tcp { address } => {
            TcpStream::connect(address)
                .await
                .map_err(|error| format!("connect to {address}: {error}"))?;
            Ok(Observed {
                code: None,
                text: None,
            })
        }
        ProbeKind::Command { argv } => run_command(argv).await,
    }
}

async fn http_request(method: &str, url: &str) -> Result<Observed, String> {
    let (address, path) = parse_http_url(url).ok_or_else(|| format!("invalid URL `{url}`"))?;
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|error| format!("connect to {address}: {error}"))?;
    // HTTP/1.0 with `Connection: close` keeps the response unchunked and
    // ends it with the connection, so reading to the end is enough.
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nUser-Agent: chaosc\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| format!("send request: {error}"))?;

    let mut response = Vec::new();
    let mut limited = (&mut stream).take(MAX_RESPONSE_BYTES as u64);
    limited
        .read_to_end(&mut response)
        .await
        .map_err(|error| format!("read response: {error}"))?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .strip_prefix("HTTP/")
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|code| code.parse::<i64>().ok())
        .ok_or_else(|| "the answer is not an HTTP response".to_owned())?;
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned());
    Ok(Observed {
        code: Some(status),
        text: body,
    })
}

async fn run_command(argv: &[String]) -> Result<Observed, String> {
    let mut command = tokio::process::Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        // A probe that times out is dropped; its process must not outlive it.
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot run `{}`: {error}", argv[0]))?;
    let mut output = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = stdout
            .take(MAX_RESPONSE_BYTES as u64)
            .read_to_end(&mut output)
            .await;
    }
    let status = child
        .wait()
        .await
        .map_err(|error| format!("wait for `{}`: {error}", argv[0]))?;
    let code = status.code().map(i64::from).unwrap_or(-1);
    let text = String::from_utf8_lossy(&output).trim().to_owned();
    Ok(Observed {
        code: Some(code),
        text: Some(text),
    })
}

/// Returns a description of the first expectation the sample does not meet;
/// probes without an expectation on status or exit code expect success.
fn first_unmet(probe: &Probe, observed: &Observed, latency: Duration) -> Option<String> {
    let has = |field| {
        probe
            .expectations
            .iter()
            .any(|e: &Expectation| e.field == field)
    };
    match &probe.kind {
        ProbeKind::Http { .. } if !has(ProbeField::Status) => {
            let status = observed.code.unwrap_or_default();
            if status >= 400 {
                return Some(format!("status {status}"));
            }
        }
        ProbeKind::Command { .. } if !has(ProbeField::Exit) => {
            let code = observed.code.unwrap_or(-1);
            if code != 0 {
                return Some(format!("exit code {code}"));
            }
        }
        _ => {}
    }

    for expectation in &probe.expectations {
        let holds = match (expectation.field, &expectation.value) {
            (ProbeField::Status | ProbeField::Exit, TypedValue::Integer(expected)) => observed
                .code
                .is_some_and(|code| expectation.op.holds(code as f64, *expected as f64)),
            (ProbeField::Latency, TypedValue::Duration(expected)) => expectation
                .op
                .holds(latency.as_secs_f64(), expected.as_secs_f64()),
            (ProbeField::Output | ProbeField::Body, TypedValue::String(expected)) => {
                let text = observed.text.as_deref().unwrap_or("");
                let text = if expectation.field == ProbeField::Body {
                    text
                } else {
                    text.trim()
                };
                compare_text(expectation.op, text, expected)
            }
            _ => false,
        };
        if !holds {
            let actual = match expectation.field {
                ProbeField::Status | ProbeField::Exit => observed
                    .code
                    .map_or("none".to_owned(), |code| code.to_string()),
                ProbeField::Latency => format!("{:.1}ms", latency.as_secs_f64() * 1000.0),
                ProbeField::Output | ProbeField::Body => {
                    format!(
                        "{:?}",
                        observed
                            .text
                            .as_deref()
                            .unwrap_or("")
                            .chars()
                            .take(80)
                            .collect::<String>()
                    )
                }
            };
            return Some(format!(
                "{} {} {} does not hold (observed {actual})",
                expectation.field.name(),
                expectation.op.symbol(),
                describe(&expectation.value)
            ));
        }
    }
    None
}

fn compare_text(op: CompareOp, text: &str, expected: &str) -> bool {
    match op {
        CompareOp::Eq => text == expected,
        CompareOp::Ne => text != expected,
        CompareOp::Lt => text < expected,
        CompareOp::Le => text <= expected,
        CompareOp::Gt => text > expected,
        CompareOp::Ge => text >= expected,
    }
}

fn describe(value: &TypedValue) -> String {
    match value {
        TypedValue::Integer(number) => number.to_string(),
        TypedValue::Duration(duration) => format!("{}ms", duration.as_millis()),
        TypedValue::String(text) => format!("{text:?}"),
        other => format!("{other:?}"),
    }
}
