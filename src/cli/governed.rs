//! The parts the governed commands share: the state directory, store,
//! policy file and actor given on the command line, loading a checked
//! scenario under the policy in force, and writing audit records.

use std::path::{Path, PathBuf};

use miette::Diagnostic;

use super::exit;
use super::render::{Style, render_human};
use super::source::read_source;
use crate::check::{self, is_error};
use crate::governance::assessment::Assessment;
use crate::governance::audit::{self, AuditEvent};
use crate::governance::policy::Policy;
use crate::model::Model;
use crate::plan::{self, Plan};
use crate::store::{Store, StoreError};

/// The global settings every command gets.
#[derive(Debug, Clone)]
pub struct Context {
    pub state_dir: PathBuf,
    pub db: PathBuf,
    /// The local policy file given with `--policy`.
    pub policy_file: Option<PathBuf>,
    /// The name given with `--as`.
    pub actor: Option<String>,
}

impl Context {
    /// Returns who acts: `--as`, else `$USER`, else `unknown`.
    pub fn actor(&self) -> String {
        self.actor.clone().unwrap_or_else(user_name)
    }

    /// Loads the policy in force, printing why it cannot be loaded.
    pub fn policy(&self) -> Result<Policy, u8> {
        Policy::load(self.policy_file.as_deref(), &self.state_dir).map_err(|error| {
            print_error(&error);
            exit::USAGE
        })
    }

    /// Opens the store, printing why it cannot be opened.
    pub fn store(&self) -> Result<Store, u8> {
        Store::open(&self.db).map_err(|error| {
            print_error(&error);
            exit::USAGE
        })
    }

    /// Appends events to the audit trail.
    pub fn try_audit(&self, policy_hash: &str, events: &[AuditEvent]) -> Result<(), StoreError> {
        let mut store = Store::open(&self.db)?;
        audit::append(store.connection(), policy_hash, events)
    }

    /// Appends events to the audit trail; a failure is reported but does not
    /// change the outcome of the command.
    pub fn audit(&self, policy_hash: &str, events: &[AuditEvent]) {
        if let Err(error) = self.try_audit(policy_hash, events) {
            eprintln!("chaosc: the audit trail was not written");
            print_error(&error);
        }
    }

    /// Creates an event of this actor about a scenario.
    pub fn event(&self, action: &str, details: serde_json::Value) -> AuditEvent {
        AuditEvent::now(&self.actor(), action, details)
    }
}

/// Prints a diagnostic on standard error.
pub fn print_error(error: &dyn Diagnostic) {
    eprint!("{}", render_human(error, None, Style::for_stderr()));
}

/// A scenario that passed the checker, with its model and plan.
#[derive(Debug)]
pub struct Checked {
    pub path: PathBuf,
    pub source: String,
    pub model: Model,
    pub plan: Plan,
}

impl Checked {
    /// Assesses the checked scenario under `policy`: hashes, risk, the
    /// approvals it needs, its window and its business impact.
    pub fn assess(&self, policy: &Policy, requested_by: Option<&str>) -> Assessment {
        Assessment::of(
            &self.path,
            &self.source,
            &self.model,
            &self.plan,
            policy,
            requested_by,
        )
    }
}

/// Reads the policy in force, then checks and lowers `file` under it; on
/// failure returns the exit code.
pub fn load_under_policy(
    context: &Context,
    file: &Path,
    experiment: Option<&str>,
) -> Result<(Policy, Checked), u8> {
    let policy = context.policy()?;
    let checked = load_checked(file, experiment, &policy)?;
    Ok((policy, checked))
}

/// Reads, checks under `policy` and lowers a file, printing diagnostics;
/// on failure returns the exit code.
pub fn load_checked(file: &Path, experiment: Option<&str>, policy: &Policy) -> Result<Checked, u8> {
    let style = Style::for_stderr();
    let source = read_source(file).map_err(|error| {
        eprint!("{}", render_human(&error, None, style));
        exit::USAGE
    })?;
    let name = source.display_name();
    let output = check::check_file_under_policy(file, &source.text, &policy.identity_text())
        .map_err(|errors| {
            for error in &errors {
                eprint!(
                    "{}",
                    render_human(error, Some((&name, &source.text)), style)
                );
            }
            exit::CHECK_FAILED
        })?;
    for diagnostic in &output.diagnostics {
        eprint!(
            "{}",
            render_human(diagnostic, Some((&name, &source.text)), style)
        );
    }
    let errors = output.diagnostics.iter().filter(|d| is_error(d)).count();
    let Some(model) = output.model.filter(|_| errors == 0) else {
        eprintln!(
            "{name}: {errors} {} found; nothing was run",
            super::check::plural(errors, "error", "errors")
        );
        return Err(exit::CHECK_FAILED);
    };
    let plan = plan::lower(&model, experiment, &name).map_err(|error| {
        eprint!("{}", render_human(&error, None, style));
        // Choosing no experiment, or one the file lacks, is a usage error;
        // a file without any experiment is the file's.
        match error {
            plan::PlanError::NoExperiment => exit::CHECK_FAILED,
            _ => exit::USAGE,
        }
    })?;
    Ok(Checked {
        path: file.to_owned(),
        source: source.text,
        model,
        plan,
    })
}

/// Names the user running chaosc: `$USER`, else the account of the user id
/// (containers often run without `$USER`), else the id itself.
pub fn user_name() -> String {
    if let Ok(user) = std::env::var("USER")
        && !user.is_empty()
    {
        return user;
    }
    let uid = nix::unistd::Uid::current();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(account)) => account.name,
        _ => format!("uid {uid}"),
    }
}
