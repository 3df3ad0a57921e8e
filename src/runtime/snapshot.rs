//! System snapshots taken before the first injection and after recovery:
//! which target processes run, which declared ports accept connections, the
//! hashes of file targets, and the probes' verdicts. The difference between
//! the two is what the experiment left changed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::probe::Sample;
use super::targets::{ProcessTarget, Targets};
use crate::model::TargetSpec;
use crate::plan::Plan;

/// The state of the system at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct SystemSnapshot {
    pub taken_at: DateTime<Utc>,
    /// The pid of each process target, or `None` when it does not run.
    pub processes: BTreeMap<String, Option<u32>>,
    /// Whether each address the scenario names accepts connections.
    pub listening: BTreeMap<String, bool>,
    /// The SHA-256 of each file target, or `None` when it is missing.
    pub files: BTreeMap<String, Option<String>>,
    /// Whether each steady-state probe passed.
    pub probes: BTreeMap<String, bool>,
}

/// Takes a snapshot of the targets of `plan`.
pub async fn take(plan: &Plan, targets: &Targets, probes: &[Sample]) -> SystemSnapshot {
    let mut processes = BTreeMap::new();
    for (name, process) in &targets.processes {
        let mut guard = process.lock().await;
        let pid = match &mut *guard {
            ProcessTarget::Launched(launched) => launched.is_running().then_some(launched.pid),
            ProcessTarget::Attached { pid, start_time } => {
                super::process::is_alive(*pid, *start_time).then_some(*pid)
            }
        };
        processes.insert(name.clone(), pid);
    }

    let mut listening = BTreeMap::new();
    for address in declared_addresses(plan) {
        let accepts = tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(address),
        )
        .await;
        listening.insert(address.to_string(), matches!(accepts, Ok(Ok(_))));
    }

    let files = plan
        .targets
        .iter()
        .filter_map(|target| match &target.spec {
            TargetSpec::File(file) => {
                // Hashed as a fault would open it: a link out of the root
                // or a device gets no hash rather than a read.
                let hash = crate::runtime::faults::confine::confine_file(file)
                    .ok()
                    .and_then(|path| crate::runtime::faults::confine::sha256_of(&path).ok());
                Some((file.path.display().to_string(), hash))
            }
            _ => None,
        })
        .collect();
    let probes = probes
        .iter()
        .map(|sample| (sample.probe.clone(), sample.ok))
        .collect();
    SystemSnapshot {
        taken_at: Utc::now(),
        processes,
        listening,
        files,
        probes,
    }
}

/// Lists what differs between two snapshots, one line per change. A target
/// restarted under a new pid counts as a change.
pub fn diff(before: &SystemSnapshot, after: &SystemSnapshot) -> Vec<String> {
    let mut changes = Vec::new();
    for (name, was) in &before.processes {
        let now = after.processes.get(name).copied().flatten();
        if *was != now {
            changes.push(format!(
                "process `{name}`: {} -> {}",
                pid_text(*was),
                pid_text(now)
            ));
        }
    }
    for (address, was) in &before.listening {
        let now = after.listening.get(address).copied().unwrap_or(false);
        if *was != now {
            changes.push(format!(
                "{address}: {} -> {}",
                listen_text(*was),
                listen_text(now)
            ));
        }
    }
    for (path, was) in &before.files {
        let now = after.files.get(path).cloned().flatten();
        if *was != now {
            changes.push(format!("file `{path}`: content changed"));
        }
    }
    for (probe, was) in &before.probes {
        let now = after.probes.get(probe).copied().unwrap_or(false);
        if *was != now {
            changes.push(format!(
                "probe `{probe}`: {} -> {}",
                pass_text(*was),
                pass_text(now)
            ));
        }
    }
    changes
}

/// Tells whether the files are as they were: no data was lost or changed.
pub fn files_intact(before: &SystemSnapshot, after: &SystemSnapshot) -> bool {
    before
        .files
        .iter()
        .all(|(path, hash)| after.files.get(path) == Some(hash))
}

fn declared_addresses(plan: &Plan) -> Vec<SocketAddr> {
    let mut addresses = Vec::new();
    for target in &plan.targets {
        match &target.spec {
            TargetSpec::Proxy(proxy) => addresses.push(proxy.listen),
            TargetSpec::Launched(spec) => addresses.extend(spec.ready),
            _ => {}
        }
    }
    addresses.sort();
    addresses.dedup();
    addresses
}

fn pid_text(pid: Option<u32>) -> String {
    pid.map_or("not running".to_owned(), |pid| format!("pid {pid}"))
}

fn listen_text(listening: bool) -> &'static str {
    if listening {
        "accepts connections"
    } else {
        "refuses connections"
    }
}

fn pass_text(ok: bool) -> &'static str {
    if ok { "passes" } else { "fails" }
}
