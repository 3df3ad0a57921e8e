//! Locks on the targets of a run, kept in the store so that two runs on one
//! machine never act on the same target at once. A lock names the process
//! that holds it by pid and start time; a lock whose process is gone (a run
//! killed by SIGKILL, say) is stale and taken over.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::GovernanceError;
use crate::model::{Attach, Target, TargetSpec};
use crate::runtime::process::{is_alive, proc_stat};
use crate::store::StoreError;

/// A target to lock: its name in the scenario and the resource it stands
/// for, which two scenarios may name differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockKey {
    pub target: String,
    pub key: String,
}

impl LockKey {
    /// Identifies the resource behind a target: the address a proxy listens
    /// on, the address a launched process serves (else its command line),
    /// or the pid file of an attached process.
    pub fn of(target: &Target) -> LockKey {
        let key = match &target.spec {
            TargetSpec::Proxy(proxy) => format!("proxy {}", proxy.listen),
            TargetSpec::Launched(spec) => match spec.ready {
                Some(address) => format!("process {address}"),
                None => format!("process {}", spec.command.join(" ")),
            },
            TargetSpec::Attached(Attach::PidFile(pid_file)) => {
                format!("pid file {}", canonical(pid_file).display())
            }
            TargetSpec::Attached(attach) => attach.to_string(),
            // Canonical paths, so that `./`, `..` or a link in the path does
            // not make one file look like two.
            TargetSpec::File(file) => format!("file {}", canonical(&file.path).display()),
            TargetSpec::Directory(directory) => {
                format!("directory {}", canonical(&directory.path).display())
            }
            TargetSpec::Interface(interface) => format!(
                "interface {} in {}",
                interface.name,
                interface.netns.as_deref().unwrap_or("the host namespace")
            ),
        };
        LockKey {
            target: target.name.clone(),
            key,
        }
    }
}

/// The process that holds locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub start_time: u64,
}

impl Holder {
    /// Returns this process.
    pub fn current() -> Holder {
        let pid = std::process::id();
        let start_time = proc_stat(pid).map_or(0, |stat| stat.start_time);
        Holder { pid, start_time }
    }
}

/// Why locks could not be taken.
#[derive(Debug)]
pub enum LockError {
    Held(GovernanceError),
    Store(StoreError),
}

impl From<rusqlite::Error> for LockError {
    fn from(error: rusqlite::Error) -> Self {
        LockError::Store(error.into())
    }
}

/// Takes every lock for `run_id` in one transaction, or none. A lock held
/// by a live process fails the whole acquisition; one held by a dead
/// process is taken over. Returns the keys taken over from dead runs.
pub fn acquire(
    connection: &mut Connection,
    keys: &[LockKey],
    run_id: &str,
    holder: Holder,
) -> Result<Vec<String>, LockError> {
    // An immediate transaction takes the write lock first, so two runs
    // checking the same key cannot both find it free.
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut taken_over = Vec::new();
    for key in keys {
        let existing: Option<(String, u32, i64, String)> = transaction
            .query_row(
                "SELECT run_id, pid, start_time, acquired_at FROM target_locks WHERE key = ?1",
                [&key.key],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()?;
        if let Some((other_run, pid, start_time, since)) = existing {
            let is_ours = other_run == run_id;
            if !is_ours && is_alive(pid, start_time as u64) {
                return Err(LockError::Held(GovernanceError::TargetLocked {
                    target: key.target.clone(),
                    key: key.key.clone(),
                    run_id: other_run,
                    pid,
                    since,
                }));
            }
            if !is_ours {
                taken_over.push(key.key.clone());
            }
        }
        transaction.execute(
            "INSERT OR REPLACE INTO target_locks
             (key, target, run_id, pid, start_time, acquired_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                key.key,
                key.target,
                run_id,
                holder.pid,
                holder.start_time as i64,
                Utc::now().to_rfc3339()
            ],
        )?;
    }
    transaction.commit()?;
    Ok(taken_over)
}

/// Releases every lock of `run_id`.
pub fn release(connection: &Connection, run_id: &str) -> Result<(), StoreError> {
    connection.execute("DELETE FROM target_locks WHERE run_id = ?1", [run_id])?;
    Ok(())
}

/// Returns `path` with links, `.` and `..` resolved, or as written when it
/// does not exist.
fn canonical(path: &std::path::Path) -> std::path::PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> LockKey {
        LockKey {
            target: name.to_owned(),
            key: format!("proxy 127.0.0.1:{name}"),
        }
    }

    #[test]
    fn second_holder_is_rejected_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::store::Store::open(&dir.path().join("chaosc.db")).unwrap();
        let me = Holder::current();
        acquire(store.connection(), &[key("1")], "a", me).unwrap();
        let second = acquire(store.connection(), &[key("2"), key("1")], "b", me);
        assert!(matches!(second, Err(LockError::Held(_))));
        // The failed acquisition took nothing, not even the free key.
        acquire(store.connection(), &[key("2")], "c", me).unwrap();

        release(store.connection(), "a").unwrap();
        acquire(store.connection(), &[key("1")], "b", me).unwrap();
    }

    #[test]
    fn stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::store::Store::open(&dir.path().join("chaosc.db")).unwrap();
        let dead = Holder {
            pid: std::process::id(),
            start_time: 1,
        };
        acquire(store.connection(), &[key("1")], "dead", dead).unwrap();
        let taken = acquire(store.connection(), &[key("1")], "b", Holder::current()).unwrap();
        assert_eq!(taken, ["proxy 127.0.0.1:1"]);
    }
}
