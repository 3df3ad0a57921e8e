//! The recovery actions that act on targets: traffic actions on proxies
//! (switch, shed, circuit breaker), scaling and redeploying launched
//! targets, and restoring a file from a backup. Each one observes its own
//! effect before it reports success.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::time::sleep;

use super::JournalHandle;
use super::faults::confine::{self, Access, confine_file};
use super::process::LaunchedProcess;
use super::proxy::{ProxyHandle, measure_round_trip};
use super::targets::{ProcessTarget, Replicas, restart_launched};
use crate::model::TargetSpec;
use crate::store::Record;

/// How long a stopped instance may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The environment variable that holds the number of an extra instance.
pub const INSTANCE_VARIABLE: &str = "CHAOSC_INSTANCE";

/// Points a proxy at another upstream, then checks that a round trip
/// through it completes.
pub async fn switch_traffic(
    proxy: &ProxyHandle,
    target: &str,
    upstream: std::net::SocketAddr,
) -> Result<String, String> {
    let previous = proxy.switch_upstream(upstream);
    match measure_round_trip(proxy.listen_addr(), Duration::from_secs(5)).await {
        Some(took) => Ok(format!(
            "`{target}` now forwards to {upstream} (was {previous}); a round trip took {:.1}ms",
            took.as_secs_f64() * 1000.0
        )),
        None => Err(format!(
            "`{target}` now forwards to {upstream} (was {previous}), but no round trip completes"
        )),
    }
}

/// Sheds a share of new connections for `hold`, then stops shedding.
pub async fn shed_load(proxy: &ProxyHandle, target: &str, share: f64, hold: Duration) -> String {
    let before = proxy.admission_counts().shed;
    proxy.set_shed_share(share);
    sleep(hold).await;
    proxy.set_shed_share(0.0);
    let shed = proxy.admission_counts().shed - before;
    format!(
        "`{target}` shed {shed} connections over {hold:?} at {:.0}%",
        share * 100.0
    )
}

/// Arms the circuit breaker of a proxy for the rest of the run.
pub fn circuit_breaker(
    proxy: &ProxyHandle,
    target: &str,
    failures: u32,
    cooldown: Duration,
) -> String {
    proxy.arm_breaker(failures, cooldown);
    format!("`{target}` fails fast after {failures} upstream failures, for {cooldown:?} at a time")
}

/// Sets the number of running instances of a launched target. The first
/// instance is the target itself; extra ones get their number in
/// `CHAOSC_INSTANCE` so that they can pick their own ports or files.
pub async fn scale(
    target: &str,
    process: &tokio::sync::Mutex<ProcessTarget>,
    replicas: &Replicas,
    count: i64,
    journal: &JournalHandle,
) -> Result<String, String> {
    let mut primary = process.lock().await;
    let ProcessTarget::Launched(launched) = &mut *primary else {
        return Err(format!(
            "target `{target}` was not launched by chaosc and cannot be scaled"
        ));
    };
    let mut all = replicas.lock().await;
    let extra = all.entry(target.to_owned()).or_default();
    let extra_count = (count.max(1) - 1) as usize;

    while extra.len() > extra_count {
        let mut instance = extra.pop().expect("the list is longer than the count");
        instance.stop(STOP_GRACE).await;
        journal_append(
            journal,
            Record::Stop {
                target: target.to_owned(),
                pid: instance.pid,
            },
        )
        .await;
    }
    while extra.len() < extra_count {
        let mut spec = launched.spec.clone();
        spec.env
            .insert(INSTANCE_VARIABLE.to_owned(), (extra.len() + 1).to_string());
        // Extra instances share the target's readiness address, so only the
        // first instance is waited for.
        spec.ready = None;
        let spec = crate::store::journal::mark_launch(&spec);
        let launching = Record::Launching {
            target: target.to_owned(),
            spec: spec.clone(),
        };
        journal_append(journal, launching).await;
        let instance = LaunchedProcess::spawn(&spec, None)
            .await
            .map_err(|error| format!("cannot start another instance of `{target}`: {error}"))?;
        let record = Record::Launch {
            target: target.to_owned(),
            pid: instance.pid,
            start_time: instance.start_time,
            spec,
        };
        journal_append(journal, record).await;
        extra.push(instance);
    }

    if count == 0 {
        launched.stop(STOP_GRACE).await;
    } else if !launched.is_running() {
        restart_launched(target, launched, journal).await?;
    }
    let mut running: Vec<u32> = Vec::new();
    if launched.is_running() {
        running.push(launched.pid);
    }
    for instance in extra.iter_mut() {
        if instance.is_running() {
            running.push(instance.pid);
        }
    }
    if running.len() as i64 != count {
        return Err(format!(
            "`{target}` runs {} instances, not {count}",
            running.len()
        ));
    }
    Ok(format!("`{target}` runs {count} instances: {running:?}"))
}

/// The changes a redeploy makes to a launched target's definition.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub command: Option<Vec<String>>,
    pub env: std::collections::BTreeMap<String, String>,
}

/// Stops every instance of a launched target, then starts it once again
/// from its definition with `changes` applied. The new definition stays for
/// later restarts in the run.
pub async fn redeploy(
    target: &str,
    process: &tokio::sync::Mutex<ProcessTarget>,
    replicas: &Replicas,
    changes: &Changes,
    journal: &JournalHandle,
) -> Result<String, String> {
    if let Some(extra) = replicas.lock().await.get_mut(target) {
        for mut instance in extra.drain(..) {
            instance.stop(STOP_GRACE).await;
            journal_append(
                journal,
                Record::Stop {
                    target: target.to_owned(),
                    pid: instance.pid,
                },
            )
            .await;
        }
    }
    let mut primary = process.lock().await;
    let ProcessTarget::Launched(launched) = &mut *primary else {
        return Err(format!(
            "target `{target}` was not launched by chaosc and cannot be redeployed"
        ));
    };
    let old = launched.pid;
    launched.stop(STOP_GRACE).await;
    if let Some(command) = &changes.command {
        launched.spec.command = command.clone();
    }
    launched.spec.env.extend(changes.env.clone());
    let pid = restart_launched(target, launched, journal).await?;
    let changed = match (&changes.command, changes.env.len()) {
        (None, 0) => String::new(),
        (Some(command), count) => {
            format!(" as `{}` with {count} changed variables", command.join(" "))
        }
        (None, count) => format!(" with {count} changed variables"),
    };
    Ok(format!(
        "redeployed `{target}`{changed}: process {old} stopped, {pid} started and ready"
    ))
}

/// Copies every file target into `directory` before the first injection,
/// so that `restore` can put it back; returns the copies by target name.
pub fn copy_file_targets(
    targets: &super::Targets,
    directory: &Path,
) -> std::collections::BTreeMap<String, std::path::PathBuf> {
    let mut copies = std::collections::BTreeMap::new();
    for (name, spec) in &targets.host {
        let TargetSpec::File(file) = spec else {
            continue;
        };
        // Only a file that a fault could touch is read: one reached
        // through a link out of its root, or a device, is not copied.
        let source = match confine_file(file) {
            Ok(path) => path,
            Err(error) => {
                tracing::warn!(%error, target = %name, "file target not copied before the run");
                continue;
            }
        };
        let copy = directory.join(name);
        let copied = std::fs::create_dir_all(directory).and_then(|()| private_copy(&source, &copy));
        match copied {
            Ok(_) => {
                copies.insert(name.clone(), copy);
            }
            Err(error) => {
                tracing::warn!(%error, target = %name, "cannot copy a file target before the run");
            }
        }
    }
    copies
}

/// Copies the confined file `source` to a new file `copy` that only its
/// owner may read, since the original may hold secrets.
fn private_copy(source: &Path, copy: &Path) -> std::io::Result<u64> {
    let mut from = confine::open(source, Access::Read)?;
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(copy)?;
    std::io::copy(&mut from, &mut to)
}

/// Copies `from` over the file of a file target, replacing it in one rename,
/// and checks that the bytes now match.
pub fn restore(target: &str, spec: &TargetSpec, from: &Path) -> Result<String, String> {
    let TargetSpec::File(file) = spec else {
        return Err(format!("target `{target}` is not a file target"));
    };
    // The same confinement as a fault's: no link out of the root, and the
    // new bytes go to a file created here, never to one planted there.
    let path = confine_file(file).map_err(|error| error.to_string())?;
    let backup = std::fs::read(from)
        .map_err(|error| format!("cannot read `{}`: {error}", from.display()))?;
    let temporary = path.with_extension("chaosc-restore");
    let mut created = confine::open(&temporary, Access::CreateNew)
        .map_err(|error| format!("cannot create `{}`: {error}", temporary.display()))?;
    let written = created
        .write_all(&backup)
        .and_then(|()| created.sync_all())
        .and_then(|()| std::fs::rename(&temporary, &path));
    if let Err(error) = written {
        // The temporary file is this action's own, so it goes.
        let _ = std::fs::remove_file(&temporary);
        return Err(format!("cannot write `{}`: {error}", path.display()));
    }
    let written = std::fs::read(&path)
        .map_err(|error| format!("cannot read back `{}`: {error}", path.display()))?;
    let (expected, actual) = (Sha256::digest(&backup), Sha256::digest(&written));
    if expected != actual {
        return Err(format!(
            "`{}` does not match its backup after the restore",
            file.path.display()
        ));
    }
    let hex: String = actual.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!(
        "restored `{}` from `{}` ({} bytes, sha256 {hex})",
        file.path.display(),
        from.display(),
        backup.len()
    ))
}

async fn journal_append(journal: &JournalHandle, record: Record) {
    if let Err(error) = journal.append(&[record]).await {
        // The action itself worked; a missing record only means that
        // `chaosc recover` would not know about this process.
        tracing::warn!(%error, "cannot journal a recovery action");
    }
}

/// Returns a shared handle to a proxy, for actions that run in their own task.
pub fn proxy_of(targets: &super::Targets, name: &str) -> Option<Arc<ProxyHandle>> {
    targets.proxies.get(name).cloned()
}
