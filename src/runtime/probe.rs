//! Taking one sample of a probe (an HTTP request, a TCP connect, a command,
//! a process lookup, a scrape of a Prometheus endpoint or a PromQL query)
//! and checking it against the probe's expectations.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use super::http_client::error_chain;
use super::process::{is_alive, proc_stat};
use super::prometheus;
use super::targets::{ProcessTarget, Targets};
use crate::model::{
    Expectation, HttpRequest, JsonPath, Probe, ProbeField, ProbeKind, ProcessRef, SeriesSelector,
    TypedValue,
};
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
    /// The number a `metric` or `promql` probe read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
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
#[derive(Default)]
struct Observed {
    code: Option<i64>,
    text: Option<String>,
    value: Option<f64>,
}

/// What probes share during a run: an HTTP client and the live process
/// targets, so that a `process` probe follows a target across restarts.
#[derive(Clone)]
pub struct ProbeContext {
    http: reqwest::Client,
    processes: BTreeMap<String, Arc<tokio::sync::Mutex<ProcessTarget>>>,
}

impl Default for ProbeContext {
    fn default() -> Self {
        // Probes report what the URL itself answers: no redirects are
        // followed, and no proxy from the environment stands in between.
        let http = crate::runtime::http_client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent("chaosc")
            .build()
            .unwrap_or_default();
        ProbeContext {
            http,
            processes: BTreeMap::new(),
        }
    }
}

impl ProbeContext {
    /// A context that sees the process targets of a run.
    pub fn new(targets: &Targets) -> Self {
        ProbeContext {
            processes: targets.processes.clone(),
            ..ProbeContext::default()
        }
    }
}

/// Takes one sample of `probe` outside a run; a `process` probe that names
/// a target then fails, since there are no targets.
pub async fn sample(probe: &Probe) -> Sample {
    sample_with(probe, &ProbeContext::default()).await
}

/// Takes one sample of `probe`.
pub async fn sample_with(probe: &Probe, context: &ProbeContext) -> Sample {
    let at = Utc::now();
    let started = Instant::now();
    let observed = timeout(probe.timeout, observe(&probe.kind, context)).await;
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
        value: observed.as_ref().and_then(|o| o.value),
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

async fn observe(kind: &ProbeKind, context: &ProbeContext) -> Result<Observed, String> {
    match kind {
        ProbeKind::Http {
            method,
            url,
            request,
        } => http_request(&context.http, method.name(), url, request).await,
        ProbeKind::Tcp { address } => {
            TcpStream::connect(address)
                .await
                .map_err(|error| format!("connect to {address}: {error}"))?;
            Ok(Observed::default())
        }
        ProbeKind::Command { argv } => run_command(argv).await,
        ProbeKind::Process { process } => observe_process(process, context).await,
        ProbeKind::Metric { url, selector } => scrape(&context.http, url, selector).await,
        ProbeKind::Promql { server, query } => promql(&context.http, server, query).await,
    }
}

async fn http_request(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    request: &HttpRequest,
) -> Result<Observed, String> {
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("invalid HTTP method `{method}`"))?;
    let mut builder = client.request(method, url);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let mut response = builder
        .send()
        .await
        .map_err(|error| format!("request to {url} failed: {}", error_chain(&error)))?;
    let status = i64::from(response.status().as_u16());
    let body = read_limited(&mut response).await?;
    Ok(Observed {
        code: Some(status),
        text: Some(body),
        value: None,
    })
}

/// Reads at most [`MAX_RESPONSE_BYTES`] of a response body.
async fn read_limited(response: &mut reqwest::Response) -> Result<String, String> {
    let mut body = Vec::new();
    while body.len() < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(error) => return Err(format!("read response: {}", error_chain(&error))),
        }
    }
    body.truncate(MAX_RESPONSE_BYTES);
    Ok(String::from_utf8_lossy(&body).into_owned())
}

async fn get_text(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|error| format!("request to {url} failed: {}", error_chain(&error)))?;
    let status = response.status();
    let body = read_limited(&mut response).await?;
    if !status.is_success() {
        let excerpt: String = body.chars().take(200).collect();
        return Err(format!("{url} answered {status}: {excerpt}"));
    }
    Ok(body)
}

async fn scrape(
    client: &reqwest::Client,
    url: &str,
    selector: &SeriesSelector,
) -> Result<Observed, String> {
    let text = get_text(client, url).await?;
    let series = prometheus::parse_text(&text)?;
    let value = prometheus::select(&series, selector)?;
    Ok(Observed {
        value: Some(value),
        ..Observed::default()
    })
}

async fn promql(client: &reqwest::Client, server: &str, query: &str) -> Result<Observed, String> {
    let url =
        reqwest::Url::parse_with_params(&format!("{server}/api/v1/query"), [("query", query)])
            .map_err(|error| format!("invalid server URL `{server}`: {error}"))?;
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|error| format!("query to {server} failed: {}", error_chain(&error)))?;
    // Prometheus answers a bad query with 400 and a JSON body that says why.
    let body = read_limited(&mut response).await?;
    let value = prometheus::query_value(&body)?;
    Ok(Observed {
        value: Some(value),
        ..Observed::default()
    })
}

async fn observe_process(process: &ProcessRef, context: &ProbeContext) -> Result<Observed, String> {
    match process {
        ProcessRef::Target(name) => {
            let target = context
                .processes
                .get(name)
                .ok_or_else(|| format!("no process target `{name}` in this run"))?;
            let (pid, start_time) = target.lock().await.identity();
            if is_alive(pid, start_time) {
                Ok(Observed::default())
            } else {
                Err(format!("process {pid} of `{name}` is not running"))
            }
        }
        ProcessRef::PidFile(path) => {
            let text = tokio::fs::read_to_string(path)
                .await
                .map_err(|error| format!("cannot read pid file {}: {error}", path.display()))?;
            let pid: u32 = text
                .trim()
                .parse()
                .map_err(|_| format!("pid file {} does not hold a pid", path.display()))?;
            match proc_stat(pid) {
                Some(stat) if stat.state != 'Z' => Ok(Observed::default()),
                _ => Err(format!(
                    "process {pid} from {} is not running",
                    path.display()
                )),
            }
        }
    }
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
        value: None,
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

    // The body or output is read as JSON once, for every `json` field.
    let mut document = None;
    for expectation in &probe.expectations {
        if let Some(path) = &expectation.json_path {
            let document = document.get_or_insert_with(|| parse_document(probe, observed));
            if let Err(unmet) = check_json(expectation, path, document) {
                return Some(unmet);
            }
            continue;
        }
        let holds = match (expectation.field, &expectation.value) {
            (ProbeField::Output | ProbeField::Body, _) if expectation.pattern.is_some() => {
                let text = observed.text.as_deref().unwrap_or("");
                expectation
                    .pattern
                    .as_ref()
                    .is_some_and(|pattern| pattern.is_match(text))
            }
            (ProbeField::Value, TypedValue::Number(expected)) => observed
                .value
                .is_some_and(|value| expectation.op.holds(value, *expected)),
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
                ProbeField::Value => observed
                    .value
                    .map_or("none".to_owned(), |value| value.to_string()),
                ProbeField::Output
                | ProbeField::Body
                | ProbeField::Json
                | ProbeField::JsonCount => {
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
            let op = if expectation.pattern.is_some() {
                "=~"
            } else {
                expectation.op.symbol()
            };
            return Some(format!(
                "{} {op} {} does not hold (observed {actual})",
                expectation.field.name(),
                describe(&expectation.value)
            ));
        }
    }
    None
}

/// Reads the body of an HTTP probe, or the output of a command, as JSON.
fn parse_document(probe: &Probe, observed: &Observed) -> Result<serde_json::Value, String> {
    let text = observed.text.as_deref().unwrap_or("");
    serde_json::from_str(text).map_err(|error| {
        let source = match probe.kind {
            ProbeKind::Command { .. } => "output",
            _ => "body",
        };
        format!("the {source} is not JSON ({error})")
    })
}

/// Checks an expectation on `json(PATH)` or `json_count(PATH)`, and
/// returns the reason when it does not hold.
fn check_json(
    expectation: &Expectation,
    path: &JsonPath,
    document: &Result<serde_json::Value, String>,
) -> Result<(), String> {
    let op = if expectation.pattern.is_some() {
        "=~"
    } else {
        expectation.op.symbol()
    };
    let statement = format!(
        "{} {op} {}",
        expectation.subject(),
        describe(&expectation.value)
    );
    let document = document
        .as_ref()
        .map_err(|error| format!("{statement} cannot be judged: {error}"))?;
    let selected = path.query(document);
    let (holds, observed) = match (&expectation.value, &expectation.pattern) {
        (TypedValue::Integer(expected), _) => {
            let count = selected.len();
            let holds = expectation.op.holds(count as f64, *expected as f64);
            (holds, count.to_string())
        }
        _ if !path.is_singular() => {
            let list = serde_json::Value::Array(selected.into_iter().cloned().collect());
            (json_holds(expectation, &list), excerpt(&list))
        }
        _ => match selected.first() {
            None => (false, "nothing at the path".to_owned()),
            Some(value) => (json_holds(expectation, value), excerpt(value)),
        },
    };
    if holds {
        Ok(())
    } else {
        Err(format!("{statement} does not hold (observed {observed})"))
    }
}

/// Compares one JSON value, or the list a wildcard path selected, with the
/// expectation's value or pattern.
fn json_holds(expectation: &Expectation, actual: &serde_json::Value) -> bool {
    if let Some(pattern) = &expectation.pattern {
        return actual.as_str().is_some_and(|text| pattern.is_match(text));
    }
    let TypedValue::Json(expected) = &expectation.value else {
        return false;
    };
    match expectation.op {
        CompareOp::Eq => json_equal(actual, expected),
        CompareOp::Ne => !json_equal(actual, expected),
        op => match (actual.as_f64(), expected.as_f64()) {
            (Some(actual), Some(expected)) => op.holds(actual, expected),
            _ => false,
        },
    }
}

/// Compares JSON values, with numbers compared by value, so that `1` and
/// `1.0` are equal.
fn json_equal(left: &serde_json::Value, right: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => left.as_f64() == right.as_f64(),
        (Value::Array(left), Value::Array(right)) => {
            left.len() == right.len() && left.iter().zip(right).all(|(l, r)| json_equal(l, r))
        }
        (Value::Object(left), Value::Object(right)) => {
            left.len() == right.len()
                && left
                    .iter()
                    .all(|(key, l)| right.get(key).is_some_and(|r| json_equal(l, r)))
        }
        _ => left == right,
    }
}

/// Returns JSON text cut to 80 characters, for messages.
fn excerpt(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 80 {
        return text;
    }
    let cut: String = text.chars().take(80).collect();
    format!("{cut}...")
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
        TypedValue::Number(number) => number.to_string(),
        TypedValue::Duration(duration) => format!("{}ms", duration.as_millis()),
        TypedValue::String(text) => format!("{text:?}"),
        TypedValue::Json(value) => excerpt(value),
        other => format!("{other:?}"),
    }
}
