//! Rules for the compute faults (`cpu_stress`, `memory_stress`,
//! `io_stress`, `cgroup_limit`) that their parameter types cannot express.
//! A worker count must be in range, a load and sizes above zero, and at
//! least one limit set. `with probability` is rejected, because these
//! faults act on a whole host or process rather than on a share of
//! traffic.

use std::collections::BTreeMap;

use super::{CheckError, Checker};
use crate::model::TypedValue;
use crate::syntax::{FaultCall, StepDecl};

/// The maximum number of workers one stress fault may start.
pub const MAX_STRESS_WORKERS: i64 = 64;

/// The compute faults.
const COMPUTE_FAULTS: &[&str] = &["cpu_stress", "memory_stress", "io_stress", "cgroup_limit"];

impl Checker<'_> {
    /// Checks the arguments and clauses of a step that injects a compute
    /// fault. Steps of other faults are left alone.
    pub(super) fn check_compute_step(
        &mut self,
        decl: &StepDecl,
        params: &BTreeMap<String, TypedValue>,
    ) {
        let fault = decl.fault.name.name.as_str();
        if !COMPUTE_FAULTS.contains(&fault) {
            return;
        }
        if let Some(probability) = &decl.probability {
            self.report(CheckError::InvalidValue {
                what: "probability".to_owned(),
                reason: format!(
                    "`{fault}` acts on a whole host or process, not on a share of traffic"
                ),
                span: probability.span.into(),
                help: Some("remove `with probability`".to_owned()),
            });
        }
        if let Some(TypedValue::Integer(workers)) = params.get("workers")
            && !(1..=MAX_STRESS_WORKERS).contains(workers)
        {
            self.report(CheckError::InvalidValue {
                what: "worker count".to_owned(),
                reason: format!(
                    "`{fault}` takes from 1 to {MAX_STRESS_WORKERS} workers, not {workers}"
                ),
                span: argument_span(&decl.fault, "workers", 0).into(),
                help: Some(format!(
                    "write `workers = N` with N from 1 to {MAX_STRESS_WORKERS}"
                )),
            });
        }
        let zero = |name: &str| match params.get(name) {
            Some(TypedValue::Size(bytes)) => *bytes == 0,
            Some(TypedValue::Percent(share)) => *share <= 0.0,
            Some(TypedValue::Bandwidth(bits)) => *bits == 0,
            _ => true,
        };
        match fault {
            "cpu_stress" if zero("load") => self.report(CheckError::InvalidValue {
                what: "load".to_owned(),
                reason: "`cpu_stress` needs a load above 0%".to_owned(),
                span: argument_span(&decl.fault, "load", 1).into(),
                help: Some("write a load above 0%, such as `load = 50%`".to_owned()),
            }),
            "memory_stress" | "io_stress" if zero("size") => {
                let position = if fault == "memory_stress" { 0 } else { 1 };
                self.report(CheckError::InvalidValue {
                    what: "size".to_owned(),
                    reason: format!("`{fault}` needs a size above 0B"),
                    span: argument_span(&decl.fault, "size", position).into(),
                    help: Some("write a size such as `size = 64MiB`".to_owned()),
                });
            }
            "cgroup_limit" if zero("cpu") && zero("memory") && zero("io_bandwidth") => {
                self.report(CheckError::InvalidValue {
                    what: "limits".to_owned(),
                    reason: "`cgroup_limit` sets no limit because `cpu`, `memory` and `io_bandwidth` are all 0"
                        .to_owned(),
                    span: decl.fault.span.into(),
                    help: Some(
                        "set at least one of `cpu`, `memory` and `io_bandwidth`, such as `cgroup_limit(cpu = 20%)`"
                            .to_owned(),
                    ),
                });
            }
            _ => {}
        }
    }
}

/// Returns the span of the argument for `name` (named, or at `position`),
/// or of the whole call when the default was taken.
fn argument_span(call: &FaultCall, name: &str, position: usize) -> crate::syntax::Span {
    call.args
        .iter()
        .enumerate()
        .find(|(index, argument)| match &argument.name {
            Some(ident) => ident.name == name,
            None => *index == position,
        })
        .map_or(call.span, |(_, argument)| argument.value.span)
}
