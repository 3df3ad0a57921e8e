//! HTTP faults of the proxy: answer with an error status, abort the
//! connection, delay the request, or fail authentication (answer 401/403 or
//! strip the credentials). Each is verified, and checked gone after revert,
//! with a real request through the proxy's listener to a peer of the
//! verifier's own, which also shows what the proxy forwarded.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::observe::{confirm_removed, until_observed};
use super::peer::{Observed, Peer, Script, exchange};
use super::stream::attempts_for;
use crate::model::{FaultSpec, TypedValue};
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::proxy::{HttpAction, HttpToxic, ProxyHandle, Toxic, parse_status};
use crate::runtime::revert::RevertAction;

/// The most requests a verification sends when a toxic takes only a share
/// of them.
const MAX_ATTEMPTS: u32 = 60;

/// The credentials a verification request carries, to see them stripped.
const PROBE_CREDENTIALS: &str = "Bearer chaosc-verification";

/// An HTTP toxic put in force on a proxy.
pub struct HttpFault {
    kind: &'static str,
    proxy: Arc<ProxyHandle>,
    toxic: HttpToxic,
    toxicity: f64,
    toxic_id: Option<u64>,
}

impl HttpFault {
    /// Builds the fault `spec.kind` from its arguments.
    pub fn new(
        spec: &FaultSpec,
        proxy: Arc<ProxyHandle>,
        toxicity: f64,
    ) -> Result<Self, FaultError> {
        let status = match spec.params.get("status") {
            Some(TypedValue::Integer(status)) => Some(*status),
            _ => None,
        };
        let (kind, action) = match spec.kind.as_str() {
            "http_error" => (
                "http_error",
                respond(status_code("http_error", status.unwrap_or(503))?),
            ),
            "http_abort" => ("http_abort", HttpAction::Abort),
            "http_delay" => (
                "http_delay",
                HttpAction::Delay(spec.duration("delay").unwrap_or_default()),
            ),
            "auth_failure" => {
                let strip = matches!(spec.params.get("strip"), Some(TypedValue::Bool(true)));
                let action = if strip {
                    HttpAction::StripAuthorization
                } else {
                    respond(status_code("auth_failure", status.unwrap_or(401))?)
                };
                ("auth_failure", action)
            }
            other => return Err(FaultError(format!("`{other}` is not an HTTP fault"))),
        };
        let method = spec
            .text("method")
            .filter(|method| *method != "*")
            .map(str::to_owned);
        let path_prefix = spec.text("path").unwrap_or("/").to_owned();
        let toxic = HttpToxic {
            method,
            path_prefix,
            action,
        };
        Ok(HttpFault {
            kind,
            proxy,
            toxic,
            toxicity,
            toxic_id: None,
        })
    }
}

/// Returns `status` as the response status of `kind`, under the rule the
/// checker applies.
fn status_code(kind: &str, status: i64) -> Result<u16, FaultError> {
    match crate::check::http_status_problem(kind, status) {
        Some(problem) => Err(FaultError(format!("invalid status: {problem}"))),
        None => u16::try_from(status).map_err(|_| FaultError(format!("invalid status {status}"))),
    }
}

fn respond(status: u16) -> HttpAction {
    let headers = match status {
        401 => vec![(
            "WWW-Authenticate".to_owned(),
            "Bearer realm=\"chaosc\"".to_owned(),
        )],
        503 | 429 => vec![("Retry-After".to_owned(), "1".to_owned())],
        _ => Vec::new(),
    };
    HttpAction::Respond { status, headers }
}

#[async_trait]
impl Fault for HttpFault {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::EndsWithRun
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        let toxic = Toxic::Http(self.toxic.clone());
        self.toxic_id = Some(self.proxy.add_toxic(toxic, self.toxicity));
        Ok(())
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let attempts = attempts_for(self.toxicity, MAX_ATTEMPTS);
        let (proxy, toxic) = (&self.proxy, &self.toxic);
        until_observed(self.kind, proxy.listen_addr(), attempts, "request", || {
            observe(proxy, toxic)
        })
        .await
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        if let Some(id) = self.toxic_id.take() {
            self.proxy.remove_toxic(id);
        }
        confirm_removed(self.kind, observe(&self.proxy, &self.toxic).await)
    }
}

/// Sends one request that the toxic matches and judges the outcome; `Ok`
/// describes the toxic's effect, `Err` what was seen instead.
async fn observe(proxy: &ProxyHandle, toxic: &HttpToxic) -> Result<String, String> {
    let delay = match toxic.action {
        HttpAction::Delay(delay) => delay,
        _ => Duration::ZERO,
    };
    let limit = delay + Duration::from_secs(5);
    let method = toxic.method.clone().unwrap_or_else(|| "GET".to_owned());
    let target = if toxic.path_prefix.starts_with('/') {
        toxic.path_prefix.clone()
    } else {
        "/".to_owned()
    };
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: chaosc-verification\r\nAuthorization: {PROBE_CREDENTIALS}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );

    let peer = Peer::start(Script::Http, limit)
        .await
        .map_err(|error| error.to_string())?;
    let client = exchange(proxy, &peer, request.as_bytes(), false, limit)
        .await
        .map_err(|error| format!("cannot connect through the proxy: {error}"))?;
    let server = peer.observed().await;
    judge(toxic, &method, &target, &client, server.as_ref())
}

fn judge(
    toxic: &HttpToxic,
    method: &str,
    target: &str,
    client: &Observed,
    server: Option<&Observed>,
) -> Result<String, String> {
    let status = parse_status(&client.received);
    let answered = status.map_or("no answer".to_owned(), |status| format!("status {status}"));
    let forwarded =
        server.map(|server| String::from_utf8_lossy(&server.received).to_ascii_lowercase());
    let was_forwarded = forwarded.as_ref().is_some_and(|text| !text.is_empty());
    let request = format!("{method} {target}");
    match &toxic.action {
        HttpAction::Respond { status: wanted, .. } => {
            let seen = format!("{request} got {answered}, forwarded: {was_forwarded}");
            if status == Some(*wanted) && !was_forwarded {
                Ok(seen)
            } else {
                Err(seen)
            }
        }
        HttpAction::Abort => {
            let closed = client.ended.is_some();
            let seen = format!(
                "{request} got {} bytes back and the connection {}",
                client.received.len(),
                if closed { "closed" } else { "stayed open" }
            );
            if client.received.is_empty() && closed {
                Ok(seen)
            } else {
                Err(seen)
            }
        }
        HttpAction::Delay(delay) => {
            let took = client.first_byte.map(|first| first - client.started);
            let seen = match took {
                Some(took) => format!(
                    "{request} got {answered} after {:.1}ms",
                    took.as_secs_f64() * 1000.0
                ),
                None => format!("{request} got no answer"),
            };
            let slack = Duration::from_millis(5);
            let delayed = took.is_some_and(|took| took + slack >= *delay);
            if delayed && status == Some(200) {
                Ok(seen)
            } else {
                Err(seen)
            }
        }
        HttpAction::StripAuthorization => {
            let carried = forwarded
                .as_ref()
                .is_some_and(|text| text.contains("\r\nauthorization:"));
            let seen = format!(
                "{request} got {answered}; the forwarded request {} `Authorization`",
                if carried { "carried" } else { "had no" }
            );
            if was_forwarded && !carried && status == Some(200) {
                Ok(seen)
            } else {
                Err(seen)
            }
        }
    }
}
