//! Reverting a fault from outside the run that applied it: what the journal
//! records for each fault, and how the guardian and `chaosc recover` undo it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use super::process::{end_with_env, is_alive, proc_stat, signal, spawn_detached};
use crate::model::LaunchSpec;
use crate::runtime::faults::{CreatedCgroup, FileBackup, WorkerProcess};

/// How to undo one fault without the process that applied it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RevertAction {
    /// The fault lives inside the `chaosc run` process (a proxy fault) and
    /// ended with it.
    EndsWithRun,
    /// Nothing: the step accepted that the fault in `description` cannot be
    /// undone.
    Accepted { description: String },
    /// Continue a process stopped with SIGSTOP.
    Continue { pid: u32, start_time: u64 },
    /// Write a file's original bytes back from its backup.
    RestoreFile(FileBackup),
    /// Remove a file that a fault created.
    RemoveFile { path: PathBuf },
    /// Delete the root qdisc of an interface if it is of kind `qdisc`.
    DeleteQdisc {
        netns: Option<String>,
        interface: String,
        qdisc: String,
    },
    /// Delete an nftables table of family `inet`.
    DeleteNftTable {
        netns: Option<String>,
        table: String,
    },
    /// Start a killed launched target again if it no longer runs.
    Restart {
        target: String,
        pid: u32,
        start_time: u64,
        spec: LaunchSpec,
    },
    /// End the processes of a launched target that run with a shifted
    /// clock, found by the `marker` entry (`NAME=value`) of their
    /// environment, and start the target again from its unshifted `spec`.
    Unskew {
        target: String,
        marker: String,
        spec: LaunchSpec,
    },
    /// End the stress workers of a compute fault and remove the files they
    /// wrote. A worker is signalled only if its start time matches and its
    /// command line carries `marker`.
    EndWorkers {
        marker: String,
        workers: Vec<WorkerProcess>,
        files: Vec<PathBuf>,
    },
    /// Move the processes of cgroups that `cgroup_limit` created back to
    /// their original cgroups, and remove the created cgroups.
    RemoveCgroups { cgroups: Vec<CreatedCgroup> },
}

/// How long a process with a shifted clock may take to exit on SIGTERM
/// before it gets SIGKILL.
const UNSKEW_GRACE: Duration = Duration::from_secs(5);

/// The outcome of reverting a journal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevertOutcome {
    /// The fault was undone now.
    Reverted(String),
    /// Nothing was left to undo.
    NothingLeft(String),
}

impl RevertOutcome {
    /// Joins the outcomes of two parts of one revert: something was
    /// reverted when either part reverted something.
    fn and(self, next: RevertOutcome) -> RevertOutcome {
        let reverted = matches!(self, RevertOutcome::Reverted(_))
            || matches!(next, RevertOutcome::Reverted(_));
        let detail = format!("{}; {}", self.detail(), next.detail());
        if reverted {
            RevertOutcome::Reverted(detail)
        } else {
            RevertOutcome::NothingLeft(detail)
        }
    }

    fn detail(&self) -> &str {
        match self {
            RevertOutcome::Reverted(detail) | RevertOutcome::NothingLeft(detail) => detail,
        }
    }
}

impl RevertAction {
    /// Undoes the fault. Each case is safe to repeat.
    pub fn execute(&self) -> Result<RevertOutcome, String> {
        self.undo(true)
    }

    /// Undoes the fault when every target of the run is stopped right
    /// after, as the guardian and `chaosc recover --stop-targets` do. A
    /// clock skew then only ends the processes with the shifted clock, and
    /// a killed target is not started again, because either would outlive
    /// the recovery.
    pub fn execute_before_stopping_targets(&self) -> Result<RevertOutcome, String> {
        self.undo(false)
    }

    fn undo(&self, restart: bool) -> Result<RevertOutcome, String> {
        match self {
            RevertAction::EndsWithRun => Ok(RevertOutcome::NothingLeft(
                "the fault ended with its run".to_owned(),
            )),
            RevertAction::Accepted { description } => Ok(RevertOutcome::NothingLeft(format!(
                "{description}; the step accepted that it cannot be undone"
            ))),
            RevertAction::Continue { pid, start_time } => continue_process(*pid, *start_time),
            RevertAction::RestoreFile(backup) => backup.restore(),
            RevertAction::RemoveFile { path } => remove_file(path),
            RevertAction::DeleteQdisc {
                netns,
                interface,
                qdisc,
            } => crate::runtime::faults::delete_qdisc(netns.as_deref(), interface, qdisc),
            RevertAction::DeleteNftTable { netns, table } => {
                crate::runtime::faults::delete_table(netns.as_deref(), table)
            }
            // A target started again here would be in no journal, so
            // nothing would stop it once the run's targets are stopped.
            RevertAction::Restart { target, .. } if !restart => Ok(RevertOutcome::NothingLeft(
                format!("`{target}` not restarted, because the run's targets are being stopped"),
            )),
            RevertAction::Restart {
                target,
                pid,
                start_time,
                spec,
            } => restart_target(target, *pid, *start_time, spec),
            RevertAction::Unskew {
                target,
                marker,
                spec,
            } => unskew(target, marker, spec, restart),
            RevertAction::EndWorkers {
                marker,
                workers,
                files,
            } => crate::runtime::faults::end_workers(marker, workers, files),
            RevertAction::RemoveCgroups { cgroups } => {
                crate::runtime::faults::remove_cgroups(cgroups)
            }
        }
    }
}

fn continue_process(pid: u32, start_time: u64) -> Result<RevertOutcome, String> {
    if !is_alive(pid, start_time) {
        return Ok(RevertOutcome::NothingLeft(format!(
            "process {pid} no longer exists"
        )));
    }
    signal(pid, Signal::SIGCONT)
        .map_err(|error| format!("cannot continue process {pid}: {error}"))?;
    // SIGCONT takes effect asynchronously; confirm it by observation.
    for _ in 0..100 {
        if proc_stat(pid).is_none_or(|stat| stat.state != 'T') {
            return Ok(RevertOutcome::Reverted(format!("continued process {pid}")));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!("process {pid} is still stopped after SIGCONT"))
}

fn restart_target(
    target: &str,
    pid: u32,
    start_time: u64,
    spec: &LaunchSpec,
) -> Result<RevertOutcome, String> {
    if is_alive(pid, start_time) {
        return Ok(RevertOutcome::NothingLeft(format!(
            "target `{target}` still runs as {pid}"
        )));
    }
    start_unless_answering(target, spec)
}

/// Starts a launched target from `spec`, detached, unless something
/// already accepts connections on its `ready` address.
fn start_unless_answering(target: &str, spec: &LaunchSpec) -> Result<RevertOutcome, String> {
    if let Some(address) = spec.ready
        && std::net::TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
    {
        return Ok(RevertOutcome::NothingLeft(format!(
            "something already accepts connections on {address} for target `{target}`"
        )));
    }
    let new_pid = spawn_detached(spec)
        .map_err(|error| format!("cannot restart target `{target}`: {error}"))?;
    Ok(RevertOutcome::Reverted(format!(
        "restarted target `{target}` as process {new_pid}"
    )))
}

fn unskew(
    target: &str,
    marker: &str,
    spec: &LaunchSpec,
    restart: bool,
) -> Result<RevertOutcome, String> {
    let ended = end_with_env(marker, UNSKEW_GRACE).map_err(|survivors| {
        format!("processes {survivors:?} of target `{target}` still run with a shifted clock")
    })?;
    for pid in &ended {
        crate::runtime::faults::remove_libfaketime_shm(*pid);
    }
    let outcome = if ended.is_empty() {
        RevertOutcome::NothingLeft(format!(
            "no process of `{target}` runs with a shifted clock"
        ))
    } else {
        RevertOutcome::Reverted(format!(
            "ended processes {ended:?} of `{target}`, which ran with a shifted clock"
        ))
    };
    if !restart {
        return Ok(outcome);
    }
    Ok(outcome.and(start_unless_answering(target, spec)?))
}

fn remove_file(path: &Path) -> Result<RevertOutcome, String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(RevertOutcome::Reverted(format!(
            "removed `{}`",
            path.display()
        ))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(
            RevertOutcome::NothingLeft(format!("`{}` does not exist", path.display())),
        ),
        Err(error) => Err(format!("cannot remove `{}`: {error}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Record;

    /// A journal reader skips lines it cannot parse, so every action must
    /// come back from JSON inside an `Apply` record unchanged.
    #[test]
    fn actions_round_trip_through_journal() {
        let backup = FileBackup {
            path: PathBuf::from("/srv/app.json"),
            backup: PathBuf::from("/state/backups/run/one"),
            sha256: "ab".repeat(32),
            modified_ns: Some(1_700_000_000_123_456_789),
        };
        let actions = [
            RevertAction::EndsWithRun,
            RevertAction::Accepted {
                description: "process 7 of `app` was killed".to_owned(),
            },
            RevertAction::Continue {
                pid: 7,
                start_time: 9,
            },
            RevertAction::RestoreFile(backup),
            RevertAction::RemoveFile {
                path: PathBuf::from("/tmp/fill"),
            },
            RevertAction::Unskew {
                target: "web".to_owned(),
                marker: "CHAOSC_TIME_SKEW=run/web".to_owned(),
                spec: LaunchSpec {
                    command: vec!["python3".to_owned(), "app.py".to_owned()],
                    env: [("PORT".to_owned(), "8080".to_owned())].into(),
                    cwd: None,
                    ready: Some("127.0.0.1:8080".parse().unwrap()),
                    ready_timeout: Duration::from_secs(10),
                },
            },
            RevertAction::EndWorkers {
                marker: "chaosc-1234abcd-0000000000000007".to_owned(),
                workers: vec![WorkerProcess {
                    pid: 42,
                    start_time: 4242,
                }],
                files: vec![PathBuf::from("/srv/scratch/.chaosc-io-x-0")],
            },
            RevertAction::RemoveCgroups {
                cgroups: vec![CreatedCgroup {
                    path: PathBuf::from("/sys/fs/cgroup/cpu/chaosc-run-00000001"),
                    original: PathBuf::from("/sys/fs/cgroup/cpu"),
                }],
            },
        ];
        for action in actions {
            let record = Record::Apply {
                id: 1,
                step: "s".to_owned(),
                fault: "f".to_owned(),
                target: "t".to_owned(),
                revert: action.clone(),
                expires_at: chrono::Utc::now(),
                at: None,
            };
            let line = serde_json::to_string(&record).unwrap();
            let read: Record =
                serde_json::from_str(&line).unwrap_or_else(|error| panic!("{line}: {error}"));
            assert_eq!(read, record);
        }
    }
}
