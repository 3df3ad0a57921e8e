//! Lints over stop conditions: a condition that no run can make true.

use std::time::Duration;

use super::CheckError;
use crate::model::{Comparison, Condition, Experiment, Operand, ProbeMeasure};
use crate::syntax::{self, CompareOp};

/// Warns about stop conditions that can never fire: a measure compared
/// with a value outside its range, or a count above the samples a probe can
/// take in the experiment or the window.
pub fn check_stop_conditions(
    diagnostics: &mut Vec<CheckError>,
    experiment: &Experiment,
    decls: &[syntax::Condition],
) {
    for (condition, decl) in experiment.stop_conditions.iter().zip(decls) {
        if let Some(reason) = never_fires(condition, experiment) {
            diagnostics.push(CheckError::StopNeverFires {
                reason,
                span: decl.span.into(),
                help: Some(
                    "compare with a value the measure can reach, or widen the window".to_owned(),
                ),
            });
        }
    }
}

/// Returns why a condition can never hold, when every group of it has a
/// comparison that cannot hold.
fn never_fires(condition: &Condition, experiment: &Experiment) -> Option<String> {
    let mut reasons = Vec::new();
    for group in &condition.any_of {
        let reason = group
            .iter()
            .find_map(|comparison| impossible(comparison, experiment))?;
        reasons.push(reason);
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// Returns why one comparison can never hold, if it cannot.
fn impossible(comparison: &Comparison, experiment: &Experiment) -> Option<String> {
    let (measure, probe, op, constant) = match (&comparison.left, &comparison.right) {
        (Operand::Probe { probe, measure }, Operand::Constant(value)) => {
            (*measure, probe, comparison.op, *value)
        }
        (Operand::Constant(value), Operand::Probe { probe, measure }) => {
            (*measure, probe, flip(comparison.op), *value)
        }
        _ => return None,
    };
    let (low, high) = range(measure, probe, comparison.window, experiment)?;
    let holds_somewhere = match op {
        CompareOp::Gt => high > constant,
        CompareOp::Ge => high >= constant,
        CompareOp::Lt => low < constant,
        CompareOp::Le => low <= constant,
        CompareOp::Eq => (low..=high).contains(&constant),
        CompareOp::Ne => true,
    };
    (!holds_somewhere).then(|| {
        format!(
            "`{probe}.{}` stays within {} and {}",
            measure_name(measure),
            format_bound(measure, low),
            format_bound(measure, high)
        )
    })
}

/// Returns the range a measure can take. Counts are bounded by the samples a
/// probe can take in the window (or the whole experiment).
fn range(
    measure: ProbeMeasure,
    probe: &str,
    window: Option<Duration>,
    experiment: &Experiment,
) -> Option<(f64, f64)> {
    match measure {
        ProbeMeasure::SuccessRate | ProbeMeasure::FailureRate => Some((0.0, 1.0)),
        ProbeMeasure::Samples
        | ProbeMeasure::Successes
        | ProbeMeasure::Failures
        | ProbeMeasure::ConsecutiveFailures => {
            let interval = experiment.probe(probe)?.interval;
            let span = window
                .unwrap_or(experiment.duration)
                .min(experiment.duration);
            if interval.is_zero() || span.is_zero() {
                return None;
            }
            // One sample at the start, then one per interval.
            let samples = (span.as_secs_f64() / interval.as_secs_f64()).floor() + 1.0;
            Some((0.0, samples))
        }
        ProbeMeasure::LatencyP50 | ProbeMeasure::LatencyP99 | ProbeMeasure::LatencyMax => {
            Some((0.0, f64::INFINITY))
        }
        // A value read from a metric may be any number.
        ProbeMeasure::Value
        | ProbeMeasure::ValueMin
        | ProbeMeasure::ValueMax
        | ProbeMeasure::ValueAvg
        | ProbeMeasure::ValueP50
        | ProbeMeasure::ValueP99 => None,
    }
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Ge => CompareOp::Le,
        CompareOp::Le => CompareOp::Ge,
        other => other,
    }
}

fn measure_name(measure: ProbeMeasure) -> &'static str {
    ProbeMeasure::ALL
        .iter()
        .find(|(_, m)| *m == measure)
        .map_or("", |(name, _)| name)
}

fn format_bound(measure: ProbeMeasure, value: f64) -> String {
    match measure {
        ProbeMeasure::SuccessRate | ProbeMeasure::FailureRate => format!("{}%", value * 100.0),
        _ if value.is_infinite() => "no limit".to_owned(),
        _ => format!("{value}"),
    }
}
