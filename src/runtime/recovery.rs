//! Executing a recovery plan as a dependency graph: every action whose
//! dependencies completed starts at once, higher priority first; a failed
//! action skips the actions that depend on it, and the execution ends
//! `partial`.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout};

use super::JournalHandle;
use super::actions;
use super::probe::{ProbeContext, sample_with};
use super::result::{ActionResult, RecoveryResult};
use super::targets::{ProcessTarget, Targets, restart_launched};
use crate::model::{ActionKind, Experiment, RecoveryAction, RecoveryPlan, RecoveryStatus};

/// How long a stopped target may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Runs `plan` to the end or until `deadline`.
pub async fn execute_plan(
    plan: &RecoveryPlan,
    experiment: &Experiment,
    targets: &Targets,
    journal: &JournalHandle,
    deadline: Instant,
) -> RecoveryResult {
    let started_at = Utc::now();
    let started = Instant::now();
    let mut results: BTreeMap<String, ActionResult> = plan
        .actions
        .iter()
        .map(|action| {
            let result = ActionResult {
                name: action.name.clone(),
                status: RecoveryStatus::Pending,
                attempts: 0,
                started_at: None,
                ended_at: None,
                output: None,
            };
            (action.name.clone(), result)
        })
        .collect();

    let mut running: JoinSet<(String, ActionResult)> = JoinSet::new();
    loop {
        skip_dependants_of_failures(plan, &mut results);
        let mut ready: Vec<&RecoveryAction> = plan
            .actions
            .iter()
            .filter(|action| results[&action.name].status == RecoveryStatus::Pending)
            .filter(|action| {
                action
                    .depends_on
                    .iter()
                    .all(|dependency| results[dependency].status == RecoveryStatus::Completed)
            })
            .collect();
        // Higher priority starts first when several actions become ready.
        ready.sort_by_key(|action| std::cmp::Reverse(action.priority));
        for action in ready {
            results.get_mut(&action.name).unwrap().status = RecoveryStatus::InProgress;
            let action = action.clone();
            let context = ActionContext::new(&action, experiment, targets, journal);
            running.spawn(async move {
                let result = run_action(&action, context, deadline).await;
                (action.name.clone(), result)
            });
        }

        match running.join_next().await {
            Some(Ok((name, result))) => {
                results.insert(name, result);
            }
            Some(Err(error)) => {
                tracing::error!(%error, "a recovery action task failed");
            }
            None => break,
        }
    }

    let actions: Vec<ActionResult> = plan
        .actions
        .iter()
        .map(|action| results.remove(&action.name).unwrap())
        .collect();
    let status = overall_status(&actions);
    let proxies = targets
        .proxies
        .iter()
        .map(|(name, proxy)| {
            let counts = proxy.admission_counts();
            let counts = super::result::ProxyCounts {
                shed: counts.shed,
                failed_fast: counts.failed_fast,
                upstream_failures: counts.upstream_failures,
            };
            (name.clone(), counts)
        })
        .collect();
    let recovery_time = started.elapsed();
    RecoveryResult {
        plan: plan.name.clone(),
        strategy: plan.strategy.name().to_owned(),
        status,
        started_at,
        ended_at: Utc::now(),
        recovery_time_seconds: recovery_time.as_secs_f64(),
        rto_seconds: plan.rto.map(|rto| rto.as_secs_f64()),
        rto_met: plan
            .rto
            .map(|rto| recovery_time <= rto && status == RecoveryStatus::Completed),
        actions,
        proxies,
    }
}

fn skip_dependants_of_failures(plan: &RecoveryPlan, results: &mut BTreeMap<String, ActionResult>) {
    loop {
        let mut changed = false;
        for action in &plan.actions {
            if results[&action.name].status != RecoveryStatus::Pending {
                continue;
            }
            let blocked = action.depends_on.iter().find(|dependency| {
                matches!(
                    results[*dependency].status,
                    RecoveryStatus::Failed | RecoveryStatus::Skipped
                )
            });
            if let Some(dependency) = blocked {
                let result = results.get_mut(&action.name).unwrap();
                result.status = RecoveryStatus::Skipped;
                result.output = Some(format!("skipped because `{dependency}` did not complete"));
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

fn overall_status(actions: &[ActionResult]) -> RecoveryStatus {
    let completed = actions
        .iter()
        .filter(|a| a.status == RecoveryStatus::Completed)
        .count();
    if completed == actions.len() {
        RecoveryStatus::Completed
    } else if completed == 0 {
        RecoveryStatus::Failed
    } else {
        RecoveryStatus::Partial
    }
}

/// What an action needs from the run, cloned so the action can run in its
/// own task.
struct ActionContext {
    process: Option<Arc<tokio::sync::Mutex<ProcessTarget>>>,
    proxy: Option<Arc<super::proxy::ProxyHandle>>,
    host: Option<crate::model::TargetSpec>,
    replicas: super::targets::Replicas,
    /// The copy of the target taken before the run, for `restore`.
    file_copy: Option<std::path::PathBuf>,
    probe: Option<crate::model::Probe>,
    probe_context: ProbeContext,
    journal: JournalHandle,
}

impl ActionContext {
    fn new(
        action: &RecoveryAction,
        experiment: &Experiment,
        targets: &Targets,
        journal: &JournalHandle,
    ) -> Self {
        let target = action.kind.target();
        let process = target.and_then(|name| targets.processes.get(name).cloned());
        let proxy = target.and_then(|name| actions::proxy_of(targets, name));
        let host = target.and_then(|name| targets.host.get(name).cloned());
        let probe = match &action.kind {
            ActionKind::Probe { probe } => experiment.probe(probe).cloned(),
            _ => None,
        };
        ActionContext {
            process,
            proxy,
            host,
            replicas: Arc::clone(&targets.replicas),
            file_copy: target.and_then(|name| targets.file_copies.get(name).cloned()),
            probe,
            probe_context: ProbeContext::new(targets),
            journal: journal.clone(),
        }
    }
}

async fn run_action(
    action: &RecoveryAction,
    context: ActionContext,
    deadline: Instant,
) -> ActionResult {
    let mut result = ActionResult {
        name: action.name.clone(),
        status: RecoveryStatus::InProgress,
        attempts: 0,
        started_at: Some(Utc::now()),
        ended_at: None,
        output: None,
    };
    for _ in 0..=action.retries {
        result.attempts += 1;
        let limit = action
            .timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        let outcome = match timeout(limit, perform(action, &context, limit)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("timed out after {limit:?}")),
        };
        match outcome {
            Ok(output) => {
                result.status = RecoveryStatus::Completed;
                result.output = Some(output);
                break;
            }
            Err(error) => {
                result.status = RecoveryStatus::Failed;
                result.output = Some(error);
            }
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    result.ended_at = Some(Utc::now());
    result
}

async fn perform(
    action: &RecoveryAction,
    context: &ActionContext,
    limit: Duration,
) -> Result<String, String> {
    match &action.kind {
        ActionKind::Wait { duration } => {
            sleep(*duration).await;
            Ok(format!("waited {duration:?}"))
        }
        ActionKind::Command { argv, expect_exit } => run_command(argv, *expect_exit).await,
        ActionKind::Probe { .. } => {
            let probe = context.probe.as_ref().ok_or("the probe is not declared")?;
            let deadline = Instant::now() + limit;
            loop {
                let observed = sample_with(probe, &context.probe_context).await;
                if observed.ok {
                    return Ok(format!("probe `{}` passed", probe.name));
                }
                if Instant::now() + probe.interval >= deadline {
                    return Err(format!(
                        "probe `{}` still fails: {}",
                        probe.name,
                        observed.error.unwrap_or_default()
                    ));
                }
                sleep(probe.interval.min(Duration::from_millis(500))).await;
            }
        }
        ActionKind::Restart { target } => {
            let process = context
                .process
                .as_ref()
                .ok_or_else(|| format!("`{target}` is not a process target"))?;
            let mut guard = process.lock().await;
            let ProcessTarget::Launched(launched) = &mut *guard else {
                return Err(format!(
                    "target `{target}` was not launched by chaosc and cannot be restarted"
                ));
            };
            launched.stop(STOP_GRACE).await;
            let pid = restart_launched(target, launched, &context.journal).await?;
            Ok(format!("restarted `{target}` as process {pid}"))
        }
        ActionKind::Redeploy {
            target,
            command,
            env,
        } => {
            let process = context
                .process
                .as_ref()
                .ok_or_else(|| format!("`{target}` is not a process target"))?;
            let changes = actions::Changes {
                command: command.clone(),
                env: env.clone(),
            };
            actions::redeploy(
                target,
                process,
                &context.replicas,
                &changes,
                &context.journal,
            )
            .await
        }
        ActionKind::Scale { target, replicas } => {
            let process = context
                .process
                .as_ref()
                .ok_or_else(|| format!("`{target}` is not a process target"))?;
            actions::scale(
                target,
                process,
                &context.replicas,
                *replicas,
                &context.journal,
            )
            .await
        }
        ActionKind::Restore { target, from } => {
            let spec = context
                .host
                .as_ref()
                .ok_or_else(|| format!("`{target}` is not a file target"))?;
            let from = match from {
                Some(path) => std::path::PathBuf::from(path),
                None => context
                    .file_copy
                    .clone()
                    .ok_or_else(|| format!("no copy of `{target}` was taken before the run"))?,
            };
            actions::restore(target, spec, &from)
        }
        ActionKind::SwitchTraffic { target, upstream } => {
            actions::switch_traffic(proxy_for(context, target)?, target, *upstream).await
        }
        ActionKind::ShedLoad {
            target,
            share,
            hold,
        } => Ok(actions::shed_load(proxy_for(context, target)?, target, *share, *hold).await),
        ActionKind::CircuitBreaker {
            target,
            failures,
            cooldown,
        } => Ok(actions::circuit_breaker(
            proxy_for(context, target)?,
            target,
            *failures,
            *cooldown,
        )),
    }
}

fn proxy_for<'a>(
    context: &'a ActionContext,
    target: &str,
) -> Result<&'a super::proxy::ProxyHandle, String> {
    context
        .proxy
        .as_deref()
        .ok_or_else(|| format!("`{target}` is not a proxy target"))
}

async fn run_command(argv: &[String], expect_exit: i32) -> Result<String, String> {
    let mut command = tokio::process::Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = command
        .output()
        .await
        .map_err(|error| format!("cannot run `{}`: {error}", argv[0]))?;
    let code = output.status.code().unwrap_or(-1);
    let text = String::from_utf8_lossy(&output.stdout)
        .trim()
        .chars()
        .take(500)
        .collect::<String>();
    if code == expect_exit {
        Ok(format!("exit code {code}: {text}"))
    } else {
        Err(format!("exit code {code}, expected {expect_exit}: {text}"))
    }
}
