//! Recovery drills: running one recovery plan of a scenario on its real
//! targets, without injecting anything.

use std::time::Duration;

use chrono::Utc;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use tokio::time::Instant;

use super::guardian::Guardian;
use super::interpreter::{RunOptions, RunSetupError, set_up_targets, tear_down};
use super::progress::ProgressEvent;
use super::recovery::execute_plan;
use super::result::RecoveryResult;
use super::{JournalHandle, process::proc_stat};
use crate::check::critical_path;
use crate::plan::Plan;
use crate::store::{Journal, Record};

/// How much longer than its critical path a drill may take before it is cut
/// short; it covers the setup of the targets.
const DRILL_MARGIN: Duration = Duration::from_secs(30);

/// Why a drill could not run.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DrillError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setup(#[from] RunSetupError),

    #[error("no recovery plan `{name}` in experiment `{experiment}`")]
    #[diagnostic(code(chaos::E0916), help("the experiment declares {known}"))]
    UnknownPlan {
        name: String,
        experiment: String,
        known: String,
    },

    #[error("the targets could not be set up: {reason}")]
    #[diagnostic(
        code(chaos::E0917),
        help("check the targets' commands, pid files and addresses")
    )]
    Targets { reason: String },
}

/// Sets up the targets of `plan`, runs its recovery plan `name`, and tears
/// the targets down again.
pub async fn drill(
    plan: &Plan,
    name: &str,
    options: RunOptions,
) -> Result<RecoveryResult, DrillError> {
    let experiment = &plan.experiment;
    let Some(recovery) = experiment.recovery_plans.iter().find(|p| p.name == name) else {
        let known: Vec<String> = experiment
            .recovery_plans
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect();
        let known = if known.is_empty() {
            "no recovery plan".to_owned()
        } else {
            known.join(", ")
        };
        return Err(DrillError::UnknownPlan {
            name: name.to_owned(),
            experiment: experiment.name.clone(),
            known,
        });
    };

    let header = Record::Run {
        run_id: options.run_id.clone(),
        pid: std::process::id(),
        start_time: proc_stat(std::process::id()).map_or(0, |stat| stat.start_time),
        file: plan.file.clone(),
        experiment: experiment.name.clone(),
        seed: options.seed,
        started_at: Utc::now(),
        audit: None,
    };
    let journal =
        Journal::create(&options.state_dir, &options.run_id, &header).map_err(|error| {
            RunSetupError::Journal {
                path: options.state_dir.display().to_string(),
                reason: error.to_string(),
            }
        })?;
    let guardian = if options.guardian {
        Some(
            Guardian::spawn(journal.path()).map_err(|error| RunSetupError::Guardian {
                reason: error.to_string(),
            })?,
        )
    } else {
        None
    };
    let journal = JournalHandle::new(journal);
    let progress = options.progress.clone();
    progress.emit(ProgressEvent::DrillStarted {
        plan: name.to_owned(),
        experiment: experiment.name.clone(),
    });

    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let targets = match set_up_targets(plan, &options, &journal, &mut rng, &progress).await {
        Ok(targets) => targets,
        Err((targets, reason)) => {
            tear_down(targets, &journal, guardian, &progress, true).await;
            return Err(DrillError::Targets { reason });
        }
    };
    let mut targets = targets;
    let copies_dir = options
        .state_dir
        .join("runs")
        .join(&options.run_id)
        .join("copies");
    targets.file_copies = super::actions::copy_file_targets(&targets, &copies_dir);
    let (critical, _) = critical_path(recovery);
    let deadline = Instant::now() + critical + DRILL_MARGIN;
    let result = execute_plan(recovery, experiment, &targets, &journal, deadline).await;
    progress.emit(ProgressEvent::RecoveryEnded {
        plan: name.to_owned(),
        status: result.status.to_string(),
        seconds: result.recovery_time_seconds,
    });
    tear_down(targets, &journal, guardian, &progress, true).await;
    Ok(result)
}
