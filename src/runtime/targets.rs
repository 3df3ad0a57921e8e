//! The targets of a run as live objects: launched processes, attached
//! processes and proxies.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use super::process::LaunchedProcess;
use super::proxy::ProxyHandle;
use crate::model::TargetSpec;

/// A process target during a run.
#[derive(Debug)]
pub enum ProcessTarget {
    Launched(Box<LaunchedProcess>),
    /// A process chaosc did not start, read from a pid file.
    Attached {
        pid: u32,
        start_time: u64,
    },
}

impl ProcessTarget {
    /// Returns the pid and start time of the current process.
    pub fn identity(&self) -> (u32, u64) {
        match self {
            ProcessTarget::Launched(process) => (process.pid, process.start_time),
            ProcessTarget::Attached { pid, start_time } => (*pid, *start_time),
        }
    }
}

/// A live target that a fault is bound to.
#[derive(Debug, Clone)]
pub enum TargetHandle {
    Process {
        name: String,
        process: Arc<Mutex<ProcessTarget>>,
    },
    Proxy {
        name: String,
        proxy: Arc<ProxyHandle>,
    },
    /// A file, directory or interface: nothing runs for it, faults act on
    /// what its spec names.
    Host { name: String, spec: TargetSpec },
}

impl TargetHandle {
    /// Returns the target's name.
    pub fn name(&self) -> &str {
        match self {
            TargetHandle::Process { name, .. }
            | TargetHandle::Proxy { name, .. }
            | TargetHandle::Host { name, .. } => name,
        }
    }
}

/// Every live target of a run, by name.
#[derive(Debug, Default)]
pub struct Targets {
    pub processes: BTreeMap<String, Arc<Mutex<ProcessTarget>>>,
    pub proxies: BTreeMap<String, Arc<ProxyHandle>>,
    /// Files, directories and interfaces, by name.
    pub host: BTreeMap<String, TargetSpec>,
    /// Extra instances of launched targets started by `scale` actions.
    pub replicas: Replicas,
    /// The copy of each file target taken before the first injection, by
    /// target name, for `restore` actions without a backup path.
    pub file_copies: BTreeMap<String, std::path::PathBuf>,
}

/// The extra instances of each launched target, shared with the tasks of
/// recovery actions.
pub type Replicas = Arc<Mutex<BTreeMap<String, Vec<LaunchedProcess>>>>;

impl Targets {
    /// Returns the handle of the target `name`.
    pub fn handle(&self, name: &str) -> Option<TargetHandle> {
        if let Some(process) = self.processes.get(name) {
            return Some(TargetHandle::Process {
                name: name.to_owned(),
                process: Arc::clone(process),
            });
        }
        if let Some(spec) = self.host.get(name) {
            return Some(TargetHandle::Host {
                name: name.to_owned(),
                spec: spec.clone(),
            });
        }
        let proxy = self.proxies.get(name)?;
        Some(TargetHandle::Proxy {
            name: name.to_owned(),
            proxy: Arc::clone(proxy),
        })
    }
}

/// How long a launched target may take to exit on SIGTERM before a restart
/// sends SIGKILL.
const RESTART_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Starts a launched target again from its command, after stopping it if
/// it still runs, waits until it is ready, and journals the swap of
/// processes. `process` is replaced by the new process even when it fails
/// to become ready, so that teardown stops whatever was started.
pub async fn restart_launched(
    target: &str,
    process: &mut LaunchedProcess,
    journal: &super::JournalHandle,
) -> Result<u32, String> {
    let spec = process.spec.clone();
    replace_launched(target, process, &spec, journal).await
}

/// Stops a launched target if it still runs, starts it again from `spec`,
/// waits until it is ready, and journals the swap of processes. `process`
/// is replaced by the new process even when it fails to become ready, so
/// that teardown stops whatever was started.
pub async fn replace_launched(
    target: &str,
    process: &mut LaunchedProcess,
    spec: &crate::model::LaunchSpec,
    journal: &super::JournalHandle,
) -> Result<u32, String> {
    let old_pid = process.pid;
    process.stop(RESTART_GRACE).await;
    let spec = &crate::store::journal::mark_launch(spec);
    let launching = crate::store::Record::Launching {
        target: target.to_owned(),
        spec: spec.clone(),
    };
    if let Err(error) = journal.append(&[launching]).await {
        return Err(format!(
            "cannot restart target `{target}`: cannot write the journal: {error}"
        ));
    }
    let mut restarted = LaunchedProcess::spawn(spec, None)
        .await
        .map_err(|error| format!("cannot restart target `{target}`: {error}"))?;
    let records = [
        crate::store::Record::Stop {
            target: target.to_owned(),
            pid: old_pid,
        },
        crate::store::Record::Launch {
            target: target.to_owned(),
            pid: restarted.pid,
            start_time: restarted.start_time,
            spec: spec.clone(),
        },
    ];
    if let Err(error) = journal.append(&records).await {
        // The restart itself worked; a missing record only means that
        // `chaosc recover` would not know to stop this process.
        tracing::warn!(%error, target, "cannot journal a restarted target");
    }
    let ready = restarted.wait_ready().await;
    let pid = restarted.pid;
    *process = restarted;
    ready.map_err(|error| format!("restarted target `{target}`: {error}"))?;
    Ok(pid)
}
