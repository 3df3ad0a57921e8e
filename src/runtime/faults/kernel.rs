//! Kernel network faults on an interface target: `netem` and `tbf` root
//! queueing disciplines set with `tc`, and a partition made of nftables
//! rules in a table named `chaosc_<run>_<fault>`. They need root (or
//! `CAP_NET_ADMIN`). Deleting the qdisc or the table reverts them, which
//! `chaosc recover` can do from another process.

use std::time::Duration;

use async_trait::async_trait;

use super::FaultContext;
use crate::model::{Direction, FaultSpec, InterfaceSpec, TypedValue};
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::netns::{self, Connect, connect_from, fastest_round_trip};
use crate::runtime::revert::{RevertAction, RevertOutcome};

/// How long a round trip to the peer may take before it counts as lost.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How many round trips a measurement takes; the fastest counts.
const SAMPLES: usize = 3;

fn millis(duration: Duration) -> String {
    format!("{:.1}ms", duration.as_secs_f64() * 1000.0)
}

fn percent(spec: &FaultSpec, name: &str) -> f64 {
    match spec.params.get(name) {
        Some(TypedValue::Percent(share)) => *share,
        _ => 0.0,
    }
}

/// Runs blocking host tools off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, FaultError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| FaultError(format!("a host tool task failed: {error}")))?
        .map_err(FaultError)
}

/// A root qdisc (`netem` or `tbf`) on an interface.
pub struct Qdisc {
    kind: &'static str,
    interface: InterfaceSpec,
    /// `netem` or `tbf`.
    qdisc: &'static str,
    /// The arguments after `tc qdisc add dev IF root`.
    arguments: Vec<String>,
    /// The delay a round trip should gain, for verification.
    added_delay: Duration,
    baseline: Option<Duration>,
}

impl Qdisc {
    /// Builds a `netem` fault from delay, jitter, loss, corruption,
    /// duplication and reordering.
    pub fn netem(spec: &FaultSpec, interface: &InterfaceSpec) -> Result<Self, FaultError> {
        let delay = spec.duration("delay").unwrap_or_default();
        let jitter = spec.duration("jitter").unwrap_or_default();
        let mut arguments = vec!["netem".to_owned()];
        if !delay.is_zero() {
            arguments.extend(["delay".to_owned(), format!("{}us", delay.as_micros())]);
            if !jitter.is_zero() {
                arguments.push(format!("{}us", jitter.as_micros()));
            }
        }
        for (name, option) in [
            ("loss", "loss"),
            ("corrupt", "corrupt"),
            ("duplicate", "duplicate"),
            ("reorder", "reorder"),
        ] {
            let share = percent(spec, name);
            if share > 0.0 {
                arguments.extend([option.to_owned(), format!("{:.4}%", share * 100.0)]);
            }
        }
        if percent(spec, "reorder") > 0.0 && delay.is_zero() {
            return Err(FaultError(
                "`netem` reordering needs a `delay` above 0ms".to_owned(),
            ));
        }
        if arguments.len() == 1 {
            return Err(FaultError(
                "`netem` needs a delay, loss, corruption, duplication or reordering".to_owned(),
            ));
        }
        let added_delay = delay.saturating_sub(jitter);
        Ok(Qdisc {
            kind: "netem",
            interface: interface.clone(),
            qdisc: "netem",
            arguments,
            added_delay,
            baseline: None,
        })
    }

    /// Builds a `tbf` rate limit.
    pub fn tbf(spec: &FaultSpec, interface: &InterfaceSpec) -> Result<Self, FaultError> {
        let rate = match spec.params.get("rate") {
            Some(TypedValue::Bandwidth(rate)) if *rate > 0 => *rate,
            _ => {
                return Err(FaultError(
                    "`link_bandwidth` needs a rate above 0bit/s".to_owned(),
                ));
            }
        };
        let burst = match spec.params.get("burst") {
            Some(TypedValue::Size(bytes)) if *bytes > 0 => *bytes,
            _ => 32 * 1024,
        };
        let latency = spec
            .duration("latency")
            .unwrap_or(Duration::from_millis(400));
        let arguments = vec![
            "tbf".to_owned(),
            "rate".to_owned(),
            format!("{rate}bit"),
            "burst".to_owned(),
            format!("{burst}b"),
            "latency".to_owned(),
            format!("{}ms", latency.as_millis().max(1)),
        ];
        Ok(Qdisc {
            kind: "link_bandwidth",
            interface: interface.clone(),
            qdisc: "tbf",
            arguments,
            added_delay: Duration::ZERO,
            baseline: None,
        })
    }

    fn netns(&self) -> Option<String> {
        self.interface.netns.clone()
    }
}

/// Returns the root qdisc line of an interface as `tc` shows it.
fn root_qdisc(netns: Option<&str>, interface: &str) -> Result<String, String> {
    netns::run(netns, &["tc", "qdisc", "show", "dev", interface, "root"])
}

#[async_trait]
impl Fault for Qdisc {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::DeleteQdisc {
            netns: self.netns(),
            interface: self.interface.name.clone(),
            qdisc: self.qdisc.to_owned(),
        }
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        let netns = self.netns();
        if let Some(peer) = self.interface.peer {
            let at = netns.clone();
            self.baseline =
                blocking(move || fastest_round_trip(at.as_deref(), peer, SAMPLES, CONNECT_TIMEOUT))
                    .await?;
        }
        let name = self.interface.name.clone();
        let arguments = self.arguments.clone();
        blocking(move || {
            let mut argv = vec!["tc", "qdisc", "add", "dev", &name, "root"];
            argv.extend(arguments.iter().map(String::as_str));
            netns::run(netns.as_deref(), &argv)
                .map(drop)
                .map_err(|error| {
                    if error.contains("unknown") {
                        format!(
                            "{error}; this kernel lacks the `{}` qdisc (see `chaosc doctor`)",
                            arguments[0]
                        )
                    } else {
                        error
                    }
                })
        })
        .await
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let (netns, name, qdisc) = (self.netns(), self.interface.name.clone(), self.qdisc);
        let shown = blocking(move || root_qdisc(netns.as_deref(), &name)).await?;
        if !shown.contains(&format!("qdisc {qdisc} ")) {
            return Err(FaultError(format!(
                "`tc` shows no {qdisc} root qdisc: {}",
                shown.trim()
            )));
        }
        let mut seen = format!("`tc` shows `{}`", shown.trim());
        if let (Some(peer), false) = (self.interface.peer, self.added_delay.is_zero()) {
            let netns = self.netns();
            let measured = blocking(move || {
                fastest_round_trip(netns.as_deref(), peer, SAMPLES, CONNECT_TIMEOUT)
            })
            .await?;
            let baseline = self.baseline.unwrap_or_default();
            let Some(measured) = measured else {
                return Err(FaultError(format!("no round trip to {peer} completed")));
            };
            let gain = measured.saturating_sub(baseline);
            if gain + Duration::from_millis(1) < self.added_delay {
                return Err(FaultError(format!(
                    "round trip to {peer} grew by {} (from {} to {}), expected at least {}",
                    millis(gain),
                    millis(baseline),
                    millis(measured),
                    millis(self.added_delay)
                )));
            }
            seen.push_str(&format!(
                "; round trip to {peer} grew from {} to {}",
                millis(baseline),
                millis(measured)
            ));
        }
        Ok(seen)
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        let action = self.revert_action();
        let detail = blocking(move || action.execute()).await?;
        let (netns, name, qdisc) = (self.netns(), self.interface.name.clone(), self.qdisc);
        let shown = blocking(move || root_qdisc(netns.as_deref(), &name)).await?;
        if shown.contains(&format!("qdisc {qdisc} ")) {
            return Err(FaultError(format!(
                "the {qdisc} qdisc is still there: {}",
                shown.trim()
            )));
        }
        Ok(match detail {
            RevertOutcome::Reverted(text) | RevertOutcome::NothingLeft(text) => text,
        })
    }
}

/// Deletes the root qdisc of an interface if it is of kind `qdisc`, so
/// that a qdisc someone else set is never removed.
pub fn delete_qdisc(
    netns: Option<&str>,
    interface: &str,
    qdisc: &str,
) -> Result<RevertOutcome, String> {
    let shown = match root_qdisc(netns, interface) {
        Ok(shown) => shown,
        Err(error)
            if error.contains("Cannot find device")
                || error.contains("Cannot open network namespace") =>
        {
            return Ok(RevertOutcome::NothingLeft(format!(
                "interface `{interface}` no longer exists"
            )));
        }
        Err(error) => return Err(error),
    };
    if !shown.contains(&format!("qdisc {qdisc} ")) {
        return Ok(RevertOutcome::NothingLeft(format!(
            "no {qdisc} root qdisc on `{interface}`"
        )));
    }
    netns::run(netns, &["tc", "qdisc", "del", "dev", interface, "root"])?;
    Ok(RevertOutcome::Reverted(format!(
        "deleted the {qdisc} root qdisc of `{interface}`"
    )))
}

/// Drops the traffic of an interface with nftables rules.
pub struct Partition {
    interface: InterfaceSpec,
    table: String,
    direction: Direction,
    baseline: Option<Connect>,
}

impl Partition {
    /// Names the table after the run and the fault.
    pub fn new(spec: &FaultSpec, interface: &InterfaceSpec, context: &FaultContext) -> Self {
        let run: String = context
            .run_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        let table = format!("chaosc_{run}_{:04x}", context.seed as u16);
        let direction = spec
            .text("direction")
            .and_then(Direction::from_name)
            .unwrap_or(Direction::Both);
        Partition {
            interface: interface.clone(),
            table,
            direction,
            baseline: None,
        }
    }

    /// Returns the nftables script that creates the table: packets leaving
    /// through the interface are upstream, arriving ones downstream.
    fn script(&self) -> String {
        let name = &self.interface.name;
        let mut chains = String::new();
        if self.direction.covers(Direction::Downstream) {
            chains.push_str(&format!(
                "  chain input {{ type filter hook input priority -200; iifname \"{name}\" drop; }}\n\
                   chain forward_in {{ type filter hook forward priority -200; iifname \"{name}\" drop; }}\n"
            ));
        }
        if self.direction.covers(Direction::Upstream) {
            chains.push_str(&format!(
                "  chain output {{ type filter hook output priority -200; oifname \"{name}\" drop; }}\n\
                   chain forward_out {{ type filter hook forward priority -200; oifname \"{name}\" drop; }}\n"
            ));
        }
        format!("table inet {} {{\n{chains}}}\n", self.table)
    }
}

#[async_trait]
impl Fault for Partition {
    fn kind(&self) -> &'static str {
        "partition"
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::DeleteNftTable {
            netns: self.interface.netns.clone(),
            table: self.table.clone(),
        }
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        let netns = self.interface.netns.clone();
        // nftables matches interfaces by name, so a rule for a missing one
        // loads fine and drops nothing.
        let (at, name) = (netns.clone(), self.interface.name.clone());
        blocking(move || {
            netns::run(at.as_deref(), &["ip", "link", "show", "dev", &name])
                .map(drop)
                .map_err(|error| format!("interface `{name}` not found: {error}"))
        })
        .await?;
        if let Some(peer) = self.interface.peer {
            let at = netns.clone();
            self.baseline =
                Some(blocking(move || connect_from(at.as_deref(), peer, CONNECT_TIMEOUT)).await?);
        }
        let script = self.script();
        blocking(move || {
            netns::run_with_input(netns.as_deref(), &["nft", "-f", "-"], Some(&script)).map(drop)
        })
        .await
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let (netns, table) = (self.interface.netns.clone(), self.table.clone());
        blocking(move || netns::run(netns.as_deref(), &["nft", "list", "table", "inet", &table]))
            .await?;
        let traffic = match self.direction {
            Direction::Upstream => "outgoing",
            Direction::Downstream => "incoming",
            Direction::Both => "all",
        };
        let mut seen = format!(
            "nftables table `{}` drops {traffic} traffic of `{}`",
            self.table, self.interface.name
        );
        if let Some(peer) = self.interface.peer {
            let netns = self.interface.netns.clone();
            let now =
                blocking(move || connect_from(netns.as_deref(), peer, Duration::from_secs(1)))
                    .await?;
            if now != Connect::Silent {
                return Err(FaultError(format!(
                    "{peer} still answers through `{}`",
                    self.interface.name
                )));
            }
            seen.push_str(&format!(
                "; {peer} no longer answers (it did before: {:?})",
                self.baseline
            ));
        }
        Ok(seen)
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        let action = self.revert_action();
        let detail = blocking(move || action.execute()).await?;
        if let (Some(peer), Some(Connect::Answered(_))) = (self.interface.peer, self.baseline) {
            let netns = self.interface.netns.clone();
            let now =
                blocking(move || connect_from(netns.as_deref(), peer, CONNECT_TIMEOUT)).await?;
            if now == Connect::Silent {
                return Err(FaultError(format!(
                    "{peer} still does not answer after the table was deleted"
                )));
            }
        }
        Ok(match detail {
            RevertOutcome::Reverted(text) | RevertOutcome::NothingLeft(text) => text,
        })
    }
}

/// Deletes an nftables table if it exists.
pub fn delete_table(netns: Option<&str>, table: &str) -> Result<RevertOutcome, String> {
    match netns::run(netns, &["nft", "delete", "table", "inet", table]) {
        Ok(_) => Ok(RevertOutcome::Reverted(format!(
            "deleted nftables table `{table}`"
        ))),
        Err(error)
            if error.contains("No such file")
                || error.contains("Cannot open network namespace") =>
        {
            Ok(RevertOutcome::NothingLeft(format!(
                "no nftables table `{table}`"
            )))
        }
        Err(error) => Err(error),
    }
}
