//! Stream faults of the proxy, after Toxiproxy's toxics: bandwidth, slow
//! close, timeout, reset peer, slicer and limit data. Each is verified, and
//! checked gone after revert, by sending bytes through the proxy's listener
//! to a peer of the verifier's own and observing what arrives and when.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::observe::{confirm_removed, until_observed};
use super::peer::{Observed, Peer, Script, exchange, payload};
use crate::model::{Direction, FaultSpec, TypedValue};
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::proxy::{ProxyHandle, Toxic};
use crate::runtime::revert::RevertAction;

/// The most connections a verification opens when a toxic holds only a
/// share of them.
const MAX_ATTEMPTS: u32 = 30;

/// Timer slack allowed below a requested delay.
const SLACK: Duration = Duration::from_millis(5);

/// The time a bandwidth check's transfer takes at the limited rate. The
/// check after removal expects the transfer to take under 70% of it, so a
/// longer transfer leaves more room for the time a loaded host needs to
/// connect and start the transfer.
const BANDWIDTH_CHECK_TIME: Duration = Duration::from_millis(200);

/// The largest transfer of a bandwidth check. The verification peer keeps
/// it in memory twice, as sent and as received.
const BANDWIDTH_CHECK_MAX_BYTES: u64 = 2 << 20;

/// A stream toxic put in force on a proxy.
pub struct StreamFault {
    kind: &'static str,
    proxy: Arc<ProxyHandle>,
    toxic: Toxic,
    toxicity: f64,
    toxic_id: Option<u64>,
}

impl StreamFault {
    /// Builds the fault `spec.kind` from its arguments.
    pub fn new(
        spec: &FaultSpec,
        proxy: Arc<ProxyHandle>,
        toxicity: f64,
    ) -> Result<Self, FaultError> {
        let (kind, toxic) = toxic_of(spec)?;
        Ok(StreamFault {
            kind,
            proxy,
            toxic,
            toxicity,
            toxic_id: None,
        })
    }
}

fn size_param(spec: &FaultSpec, name: &str) -> u64 {
    match spec.params.get(name) {
        Some(TypedValue::Size(bytes)) => *bytes,
        _ => 0,
    }
}

fn direction_of(spec: &FaultSpec, default: Direction) -> Direction {
    spec.text("direction")
        .and_then(Direction::from_name)
        .unwrap_or(default)
}

/// Maps a catalog entry to its toxic.
fn toxic_of(spec: &FaultSpec) -> Result<(&'static str, Toxic), FaultError> {
    let direction = direction_of(spec, Direction::Downstream);
    let timeout = spec.duration("timeout").unwrap_or_default();
    let toxic = match spec.kind.as_str() {
        "bandwidth" => {
            let bits_per_second = match spec.params.get("rate") {
                Some(TypedValue::Bandwidth(rate)) => *rate,
                _ => 0,
            };
            if bits_per_second == 0 {
                return Err(FaultError(
                    "`bandwidth` needs a rate above 0bit/s".to_owned(),
                ));
            }
            (
                "bandwidth",
                Toxic::Bandwidth {
                    bits_per_second,
                    direction,
                },
            )
        }
        "slow_close" => {
            let delay = spec.duration("delay").unwrap_or_default();
            ("slow_close", Toxic::SlowClose { delay, direction })
        }
        "timeout" => ("timeout", Toxic::Timeout { timeout, direction }),
        "reset_peer" => ("reset_peer", Toxic::ResetPeer { timeout, direction }),
        "slicer" => {
            let average_size = size_param(spec, "average_size").max(1) as usize;
            let size_variation = size_param(spec, "size_variation") as usize;
            let delay = spec.duration("delay").unwrap_or_default();
            (
                "slicer",
                Toxic::Slicer {
                    average_size,
                    size_variation,
                    delay,
                    direction,
                },
            )
        }
        "limit_data" => (
            "limit_data",
            Toxic::LimitData {
                bytes: size_param(spec, "bytes"),
                direction,
            },
        ),
        other => return Err(FaultError(format!("`{other}` is not a stream fault"))),
    };
    Ok(toxic)
}

/// How many connections a verification tries: enough that a toxic holding
/// a share `toxicity` of them is missed with a chance under 0.1%, up to
/// [`MAX_ATTEMPTS`].
pub fn attempts_for(toxicity: f64, max: u32) -> u32 {
    if toxicity >= 1.0 {
        return 1;
    }
    if toxicity <= 0.0 {
        return max;
    }
    let needed = (0.001f64.ln() / (1.0 - toxicity).ln()).ceil();
    (needed as u32).clamp(1, max)
}

#[async_trait]
impl Fault for StreamFault {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::EndsWithRun
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        self.toxic_id = Some(self.proxy.add_toxic(self.toxic.clone(), self.toxicity));
        Ok(())
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let attempts = attempts_for(self.toxicity, MAX_ATTEMPTS);
        let (proxy, toxic) = (&self.proxy, &self.toxic);
        until_observed(
            self.kind,
            proxy.listen_addr(),
            attempts,
            "connection",
            || observe(proxy, toxic),
        )
        .await
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        if let Some(id) = self.toxic_id.take() {
            self.proxy.remove_toxic(id);
        }
        confirm_removed(self.kind, observe(&self.proxy, &self.toxic).await)
    }
}

/// The direction a verification sends bytes in: downstream when the toxic
/// acts on it, since that needs nothing from the client.
fn observed_direction(toxic: &Toxic) -> Direction {
    if toxic.direction().covers(Direction::Downstream) {
        Direction::Downstream
    } else {
        Direction::Upstream
    }
}

/// Sends `size` bytes through the proxy in `direction` and returns what the
/// receiving end observed, and what the client observed.
async fn transfer(
    proxy: &ProxyHandle,
    direction: Direction,
    size: usize,
    hold_open: bool,
    limit: Duration,
) -> Result<(Observed, Observed), String> {
    let script = match (direction, hold_open) {
        (Direction::Upstream, _) => Script::Receive,
        (_, true) => Script::SendAndHold(size),
        (_, false) => Script::Send(size),
    };
    let peer = Peer::start(script, limit)
        .await
        .map_err(|error| error.to_string())?;
    let send = if direction == Direction::Upstream {
        payload(size)
    } else {
        Vec::new()
    };
    let client = exchange(proxy, &peer, &send, !hold_open, limit)
        .await
        .map_err(|error| format!("cannot connect through the proxy: {error}"))?;
    // Dropping the client above closed the connection, so the peer ends.
    let server = peer
        .observed()
        .await
        .ok_or("the proxy did not reach the verification peer")?;
    let receiver = if direction == Direction::Upstream {
        server.clone()
    } else {
        client.clone()
    };
    Ok((receiver, client))
}

fn millis(duration: Duration) -> String {
    format!("{:.1}ms", duration.as_secs_f64() * 1000.0)
}

/// Runs one observation; `Ok` describes the toxic's effect, `Err` what was
/// seen instead.
async fn observe(proxy: &ProxyHandle, toxic: &Toxic) -> Result<String, String> {
    let direction = observed_direction(toxic);
    match *toxic {
        Toxic::Bandwidth {
            bits_per_second, ..
        } => {
            let bytes_in_check_time =
                bits_per_second as f64 / 8.0 * BANDWIDTH_CHECK_TIME.as_secs_f64();
            let size = (bytes_in_check_time as u64).clamp(2048, BANDWIDTH_CHECK_MAX_BYTES) as usize;
            let expected = Duration::from_secs_f64(size as f64 * 8.0 / bits_per_second as f64);
            let limit = expected * 3 + Duration::from_secs(2);
            let (receiver, _) = transfer(proxy, direction, size, false, limit).await?;
            let took = receiver.time_to_end().ok_or("the transfer did not end")?;
            let rate = size as f64 * 8.0 / took.as_secs_f64().max(1e-6);
            let seen = format!(
                "{size} bytes {direction} took {} ({:.0} bit/s, limit {bits_per_second} bit/s)",
                millis(took),
                rate
            );
            if took.as_secs_f64() >= expected.as_secs_f64() * 0.7 {
                Ok(seen)
            } else {
                Err(seen)
            }
        }
        Toxic::SlowClose { delay, .. } => {
            let limit = delay + Duration::from_secs(3);
            let (receiver, _) = transfer(proxy, direction, 16, false, limit).await?;
            let (Some(first), Some(ended)) = (receiver.first_byte, receiver.ended) else {
                return Err("the stream did not end with data before it".to_owned());
            };
            let held = ended - first;
            let seen = format!(
                "the end of stream {direction} came {} after the data",
                millis(held)
            );
            if held + SLACK >= delay {
                Ok(seen)
            } else {
                Err(seen)
            }
        }
        Toxic::Timeout { timeout, .. } => {
            let wait = if timeout.is_zero() {
                Duration::from_millis(500)
            } else {
                timeout + Duration::from_secs(1)
            };
            let (receiver, client) = transfer(proxy, direction, 16, true, wait).await?;
            let dropped = receiver.received.is_empty();
            let closed_at = client.time_to_end();
            let seen = format!(
                "{} of 16 bytes {direction} arrived; connection {}",
                receiver.received.len(),
                closed_at.map_or("stayed open".to_owned(), |at| format!(
                    "closed after {}",
                    millis(at)
                ))
            );
            let closed_in_time = match closed_at {
                None => timeout.is_zero(),
                Some(at) => !timeout.is_zero() && at + SLACK >= timeout,
            };
            if dropped && closed_in_time {
                Ok(seen)
            } else {
                Err(seen)
            }
        }
        Toxic::ResetPeer { timeout, .. } => {
            let wait = timeout + Duration::from_secs(1);
            let (_, client) = transfer(proxy, Direction::Upstream, 0, true, wait).await?;
            let seen = match (client.reset, client.time_to_end()) {
                (true, Some(at)) => format!("the connection was reset after {}", millis(at)),
                (false, Some(at)) => {
                    format!("the connection closed without a reset after {}", millis(at))
                }
                (_, None) => format!("the connection stayed open for {}", millis(wait)),
            };
            let in_time = client.time_to_end().is_some_and(|at| at + SLACK >= timeout);
            if client.reset && in_time {
                Ok(seen)
            } else {
                Err(seen)
            }
        }
        Toxic::Slicer {
            average_size,
            size_variation,
            ..
        } => {
            // One write that fits in one read of the proxy, so that more than
            // one read on the other side comes from the slicer.
            let size = (average_size * 3).clamp(16, 30_000);
            if average_size >= size {
                return Err(format!(
                    "slices of {average_size} bytes are too large to observe"
                ));
            }
            let (receiver, _) =
                transfer(proxy, direction, size, false, Duration::from_secs(10)).await?;
            let largest = receiver.reads.iter().copied().max().unwrap_or_default();
            let seen = format!(
                "{size} bytes {direction} arrived in {} reads of at most {largest} bytes (slices of {average_size}±{size_variation})",
                receiver.reads.len()
            );
            let complete = receiver.received.len() == size;
            if complete && receiver.reads.len() >= 2 {
                Ok(seen)
            } else {
                Err(seen)
            }
        }
        Toxic::LimitData { bytes, .. } => {
            let size = usize::try_from(bytes)
                .unwrap_or(usize::MAX)
                .saturating_add(1024)
                .min(64 << 20);
            let (receiver, _) =
                transfer(proxy, direction, size, false, Duration::from_secs(10)).await?;
            let got = receiver.received.len();
            let seen =
                format!("{got} of {size} bytes {direction} arrived before the connection ended");
            if got as u64 == bytes && receiver.ended.is_some() {
                Ok(seen)
            } else {
                Err(seen)
            }
        }
        Toxic::Latency { .. } | Toxic::Blackhole { .. } | Toxic::Http(_) => {
            Err("observed by its own fault".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::attempts_for;

    #[test]
    fn attempts_grow_as_toxicity_falls() {
        assert_eq!(attempts_for(1.0, 30), 1);
        assert_eq!(attempts_for(0.5, 30), 10);
        assert_eq!(attempts_for(0.9, 30), 3);
        assert_eq!(attempts_for(0.01, 30), 30);
        assert_eq!(attempts_for(0.0, 30), 30);
    }
}
