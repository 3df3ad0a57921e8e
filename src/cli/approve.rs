//! `chaosc approve` and `chaosc approvals`: record an approval of a
//! scenario's exact content for one role, and list the roles an experiment
//! needs with the approvals that cover them.

use std::path::PathBuf;

use chrono::Utc;
use clap::Args;
use serde_json::json;

use super::gate::scenario_event;
use super::governed::{Context, load_under_policy, print_error};
use super::{OutputFormat, exit};
use crate::governance::GovernanceError;
use crate::governance::approval::{self, Approval, ApprovalStatus, approvals_of};
use crate::governance::assessment::Assessment;

/// Arguments of `chaosc approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The `.chaos` file to approve, as it is now.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The role the approval is given in, such as `security_officer`.
    #[arg(long, value_name = "ROLE")]
    pub role: String,

    /// Why, or on what condition, the approval is given.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,

    /// The experiment to approve, when the file declares several.
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,
}

/// Arguments of `chaosc approvals`.
#[derive(Debug, Args)]
pub struct ApprovalsArgs {
    /// The `.chaos` file whose approvals to list.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The experiment, when the file declares several.
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,

    /// Who requests the run, as `chaosc run --requested-by` would pass it.
    #[arg(long, value_name = "NAME")]
    pub requested_by: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

/// Runs `chaosc approve`.
pub fn execute_approve(args: &ApproveArgs, context: &Context) -> u8 {
    let Some(approver) = context.actor.clone() else {
        print_error(&GovernanceError::ApproverMissing);
        return exit::USAGE;
    };
    let (policy, checked) = match load_under_policy(context, &args.file, args.experiment.as_deref())
    {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let assessment = checked.assess(&policy, None);
    let requirement = &assessment.requirement;
    if !requirement.needs(&args.role) {
        let help = if requirement.roles.is_empty() {
            "the experiment needs no approval".to_owned()
        } else {
            format!("the experiment needs {}", requirement.role_list())
        };
        print_error(&GovernanceError::RoleNotRequired {
            role: args.role.clone(),
            experiment: assessment.experiment.clone(),
            help,
        });
        return exit::USAGE;
    }
    if !requirement.approvers.is_empty() && !requirement.approvers.contains(&approver) {
        print_error(&GovernanceError::ApproverNotAllowed {
            approver,
            experiment: assessment.experiment.clone(),
            allowed: approval::quoted_list(requirement.approvers.iter().map(String::as_str)),
        });
        return exit::USAGE;
    }

    let record = Approval {
        experiment: assessment.experiment.clone(),
        file: checked.plan.file.clone(),
        content_hash: assessment.content_hash.clone(),
        policy_hash: assessment.policy_hash.clone(),
        role: args.role.clone(),
        approver: approver.clone(),
        comment: args.comment.clone(),
        approved_at: Utc::now().to_rfc3339(),
    };
    let mut store = match context.store() {
        Ok(store) => store,
        Err(code) => return code,
    };
    if let Err(error) = approval::record(store.connection(), &record) {
        print_error(&error);
        return exit::USAGE;
    }
    let mut event = scenario_event(context, "approve", &assessment, None);
    event.details = json!({ "role": args.role, "comment": args.comment });
    context.audit(&assessment.policy_hash, &[event]);

    if requirement.requesters.contains(&approver) {
        eprintln!(
            "chaosc: `{approver}` requested the experiment; under the policy ({}) this \
             approval may not count on its own",
            requirement.self_approval
        );
    }
    println!(
        "approved `{}` as `{}` by `{approver}` for content {}",
        assessment.experiment, args.role, assessment.content_hash
    );
    exit::SUCCESS
}

/// Runs `chaosc approvals`.
pub fn execute_approvals(args: &ApprovalsArgs, context: &Context) -> u8 {
    let (policy, checked) = match load_under_policy(context, &args.file, args.experiment.as_deref())
    {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let assessment = checked.assess(&policy, args.requested_by.as_deref());
    let mut store = match context.store() {
        Ok(store) => store,
        Err(code) => return code,
    };
    let given = match approvals_of(store.connection(), &assessment.experiment) {
        Ok(given) => given,
        Err(error) => {
            print_error(&error);
            return exit::USAGE;
        }
    };
    let status =
        ApprovalStatus::evaluate(&assessment.requirement, &given, &assessment.content_hash);
    match args.format {
        OutputFormat::Json => {
            let document = json!({
                "experiment": assessment.experiment,
                "requirement": assessment.requirement,
                "status": status,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&document).expect("the status serializes")
            );
        }
        OutputFormat::Human => print!("{}", render_status(&assessment, &status)),
    }
    exit::SUCCESS
}

fn render_status(assessment: &Assessment, status: &ApprovalStatus) -> String {
    let mut out = format!(
        "experiment `{}`, content {}, risk {}\n",
        assessment.experiment, status.content_hash, assessment.risk.level
    );
    if status.roles.is_empty() {
        out.push_str("no approval required\n");
    }
    for role in &status.roles {
        let state = if role.approved_by.is_empty() {
            "missing".to_owned()
        } else {
            format!("present: {}", role.approved_by.join(", "))
        };
        out.push_str(&format!(
            "  {:<28} {state} (required by {})\n",
            role.role,
            role.required_by.join(", ")
        ));
        if let Some(note) = &role.note {
            out.push_str(&format!("  {:<28} note: {note}\n", ""));
        }
    }
    for void in &status.void {
        out.push_str(&format!(
            "  void: `{}` by `{}` at {} (the scenario changed since)\n",
            void.role, void.approver, void.approved_at
        ));
    }
    if status.missing.is_empty() {
        out.push_str("every required role has approved\n");
    } else {
        out.push_str(&format!("missing: {}\n", status.missing.join(", ")));
    }
    out
}
