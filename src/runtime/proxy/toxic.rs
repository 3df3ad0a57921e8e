//! The toxics a proxy applies: faults on the byte stream of a connection,
//! per direction, and faults on the HTTP/1.x requests that pass through.

use std::time::Duration;

use crate::model::Direction;

/// A fault the proxy applies to the data it forwards.
#[derive(Debug, Clone, PartialEq)]
pub enum Toxic {
    /// Hold each chunk for `delay` plus a uniform random `-jitter..=jitter`.
    Latency {
        delay: Duration,
        jitter: Duration,
        direction: Direction,
    },
    /// Read data and drop it; forward nothing, not even the end of stream.
    Blackhole { direction: Direction },
    /// Forward at most `bits_per_second`.
    Bandwidth {
        bits_per_second: u64,
        direction: Direction,
    },
    /// Hold the end of the stream (the FIN) for `delay` after the data.
    SlowClose {
        delay: Duration,
        direction: Direction,
    },
    /// Drop the data and close the connection `timeout` after the toxic
    /// takes hold of it; a zero timeout keeps the connection open.
    Timeout {
        timeout: Duration,
        direction: Direction,
    },
    /// Reset the connection (TCP RST) `timeout` after the toxic takes hold
    /// of it.
    ResetPeer {
        timeout: Duration,
        direction: Direction,
    },
    /// Split the data into slices of `average_size` bytes, give or take
    /// `size_variation`, with `delay` between two slices.
    Slicer {
        average_size: usize,
        size_variation: usize,
        delay: Duration,
        direction: Direction,
    },
    /// Forward `bytes` bytes, then close the connection.
    LimitData { bytes: u64, direction: Direction },
    /// Act on the HTTP requests from the client that match.
    Http(HttpToxic),
}

impl Toxic {
    /// Returns the direction of the stream the toxic acts on; HTTP toxics
    /// act on requests, which flow upstream.
    pub fn direction(&self) -> Direction {
        match self {
            Toxic::Latency { direction, .. }
            | Toxic::Blackhole { direction }
            | Toxic::Bandwidth { direction, .. }
            | Toxic::SlowClose { direction, .. }
            | Toxic::Timeout { direction, .. }
            | Toxic::ResetPeer { direction, .. }
            | Toxic::Slicer { direction, .. }
            | Toxic::LimitData { direction, .. } => *direction,
            Toxic::Http(_) => Direction::Upstream,
        }
    }
}

/// A fault on the HTTP requests that match a method and a path prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpToxic {
    /// The request method to match, or `None` for any.
    pub method: Option<String>,
    /// The prefix the request target must start with; `/` matches all.
    pub path_prefix: String,
    pub action: HttpAction,
}

impl HttpToxic {
    /// Tells whether the toxic applies to a request.
    pub fn matches(&self, method: &str, target: &str) -> bool {
        let method_matches = self
            .method
            .as_deref()
            .is_none_or(|wanted| wanted.eq_ignore_ascii_case(method));
        method_matches && target.starts_with(&self.path_prefix)
    }
}

/// What an HTTP toxic does to a request it takes.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpAction {
    /// Answer with this status without forwarding the request, then close
    /// the connection.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
    },
    /// Close the connection without an answer.
    Abort,
    /// Forward the request after `delay`.
    Delay(Duration),
    /// Remove the `Authorization` and `Proxy-Authorization` headers, then
    /// forward the request.
    StripAuthorization,
}
