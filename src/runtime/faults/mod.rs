//! The registry of fault kinds: one injector for each entry of the stdlib
//! fault catalog, and a test that keeps the two lists equal.

mod backup;
mod cgroup;
mod cgroup_layout;
mod clock;
mod config_format;
pub mod confine;
mod corrupt;
mod drift;
mod fill;
mod http;
mod kernel;
mod observe;
mod peer;
mod process;
mod procfs;
mod proxy;
mod stream;
mod stress;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::fault::{Fault, FaultError};
use super::targets::TargetHandle;
use crate::model::FaultSpec;
use crate::model::TargetSpec;
use crate::runtime::JournalHandle;

pub use backup::FileBackup;
pub use cgroup::{CreatedCgroup, remove_cgroups};
pub use clock::{find_libfaketime, is_skewed, remove_libfaketime_shm};
pub use kernel::{delete_qdisc, delete_table};
pub use stress::{WorkerProcess, end_workers};
pub use worker::{WorkerJob, run as run_worker};

/// The fault kinds the runtime can inject.
pub const KINDS: &[&str] = &[
    "latency",
    "blackhole",
    "bandwidth",
    "slow_close",
    "timeout",
    "reset_peer",
    "slicer",
    "limit_data",
    "http_error",
    "http_abort",
    "http_delay",
    "auth_failure",
    "process_kill",
    "process_pause",
    "corrupt_file",
    "config_drift",
    "disk_fill",
    "netem",
    "link_bandwidth",
    "partition",
    "time_skew",
    "cpu_stress",
    "memory_stress",
    "io_stress",
    "cgroup_limit",
];

/// The stream faults of the proxy, built by [`stream::StreamFault`].
const STREAM_KINDS: &[&str] = &[
    "bandwidth",
    "slow_close",
    "timeout",
    "reset_peer",
    "slicer",
    "limit_data",
];

/// The HTTP faults of the proxy, built by [`http::HttpFault`].
const HTTP_KINDS: &[&str] = &["http_error", "http_abort", "http_delay", "auth_failure"];

/// What an injector may need besides its target.
#[derive(Clone)]
pub struct FaultContext {
    /// The share of traffic or time the fault affects, from 0 to 1.
    pub probability: f64,
    pub journal: JournalHandle,
    /// The seed of the fault's random choices, derived from the run's seed.
    pub seed: u64,
    pub run_id: String,
    /// The run's state directory, where faults keep backups.
    pub state_dir: PathBuf,
    /// When the fault must be gone whatever happens.
    pub expires_at: DateTime<Utc>,
    /// Whether the step accepts a fault that cannot be undone.
    pub irreversible: bool,
}

/// Builds the injector for `spec` bound to `target`.
pub async fn build(
    spec: &FaultSpec,
    target: &TargetHandle,
    context: FaultContext,
) -> Result<Box<dyn Fault>, FaultError> {
    let mismatch = || {
        FaultError(format!(
            "fault `{}` cannot act on target `{}`",
            spec.kind,
            target.name()
        ))
    };
    match (spec.kind.as_str(), target) {
        ("latency", TargetHandle::Proxy { proxy, .. }) => Ok(Box::new(proxy::Latency::new(
            spec,
            Arc::clone(proxy),
            context.probability,
        ))),
        ("blackhole", TargetHandle::Proxy { proxy, .. }) => Ok(Box::new(proxy::Blackhole::new(
            spec,
            Arc::clone(proxy),
            context.probability,
        ))),
        (kind, TargetHandle::Proxy { proxy, .. }) if STREAM_KINDS.contains(&kind) => Ok(Box::new(
            stream::StreamFault::new(spec, Arc::clone(proxy), context.probability)?,
        )),
        (kind, TargetHandle::Proxy { proxy, .. }) if HTTP_KINDS.contains(&kind) => Ok(Box::new(
            http::HttpFault::new(spec, Arc::clone(proxy), context.probability)?,
        )),
        (
            "corrupt_file",
            TargetHandle::Host {
                spec: TargetSpec::File(file),
                ..
            },
        ) => Ok(Box::new(corrupt::CorruptFile::new(spec, file, &context)?)),
        (
            "config_drift",
            TargetHandle::Host {
                spec: TargetSpec::File(file),
                ..
            },
        ) => Ok(Box::new(drift::ConfigDrift::new(spec, file, &context)?)),
        (
            "disk_fill",
            TargetHandle::Host {
                spec: TargetSpec::Directory(directory),
                ..
            },
        ) => Ok(Box::new(fill::DiskFill::new(spec, directory, &context)?)),
        (
            "netem",
            TargetHandle::Host {
                spec: TargetSpec::Interface(interface),
                ..
            },
        ) => Ok(Box::new(kernel::Qdisc::netem(spec, interface)?)),
        (
            "link_bandwidth",
            TargetHandle::Host {
                spec: TargetSpec::Interface(interface),
                ..
            },
        ) => Ok(Box::new(kernel::Qdisc::tbf(spec, interface)?)),
        (
            "partition",
            TargetHandle::Host {
                spec: TargetSpec::Interface(interface),
                ..
            },
        ) => Ok(Box::new(kernel::Partition::new(spec, interface, &context))),
        ("process_kill", TargetHandle::Process { name, process }) => Ok(Box::new(
            process::Kill::new(spec, name, Arc::clone(process), context).await?,
        )),
        ("process_pause", TargetHandle::Process { name, process }) => Ok(Box::new(
            process::Pause::new(name, Arc::clone(process)).await,
        )),
        ("time_skew", TargetHandle::Process { name, process }) => Ok(Box::new(
            clock::TimeSkew::new(spec, name, Arc::clone(process), context).await?,
        )),
        ("cpu_stress", TargetHandle::Process { .. }) => {
            Ok(Box::new(stress::Stress::cpu(spec, &context).await?))
        }
        ("memory_stress", TargetHandle::Process { .. }) => {
            Ok(Box::new(stress::Stress::memory(spec, &context).await?))
        }
        (
            "io_stress",
            TargetHandle::Host {
                spec: TargetSpec::Directory(directory),
                ..
            },
        ) => Ok(Box::new(
            stress::Stress::io(spec, directory, &context).await?,
        )),
        ("cgroup_limit", TargetHandle::Process { name, process }) => Ok(Box::new(
            cgroup::CgroupLimit::new(spec, name, Arc::clone(process), &context).await?,
        )),
        (kind, _) if KINDS.contains(&kind) => Err(mismatch()),
        (kind, _) => Err(FaultError(format!("unknown fault kind `{kind}`"))),
    }
}

/// Returns why a compute fault (`cpu_stress`, `memory_stress`, `io_stress`,
/// `cgroup_limit`) cannot run on this host, as reasons with fixes for
/// `chaosc doctor`. Other kinds get an empty list.
pub fn compute_problems(fault: &str) -> Vec<(String, String)> {
    match fault {
        "cpu_stress" | "memory_stress" | "io_stress" => stress::host_problems(fault),
        "cgroup_limit" => cgroup_layout::host_problems(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::KINDS;
    use crate::check::stdlib;

    #[test]
    fn registry_matches_catalog() {
        let mut catalog: Vec<&str> = stdlib::all_faults()
            .map(|fault| fault.name.as_str())
            .collect();
        let mut registry = KINDS.to_vec();
        catalog.sort_unstable();
        registry.sort_unstable();
        assert_eq!(catalog, registry);
    }
}
