//! Checks over the whole plan that run before anything is journaled or
//! injected, so that a run that cannot finish never starts.

use crate::check::stdlib;
use crate::model::Privilege;
use crate::plan::Plan;

/// Returns the steps whose fault needs root, as "`step` (`fault`)".
pub fn steps_needing_root(plan: &Plan) -> Vec<String> {
    plan.experiment
        .steps
        .iter()
        .filter(|step| {
            stdlib::find_fault(&step.fault.kind)
                .is_some_and(|(_, def)| def.privilege == Privilege::Root)
        })
        .map(|step| format!("`{}` (`{}`)", step.name, step.fault.kind))
        .collect()
}

/// Tells whether this process runs as root.
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}
