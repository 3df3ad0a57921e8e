//! `chaosc graph`: the step graph and the recovery graphs of an experiment
//! as Graphviz DOT or Mermaid, with each plan's critical path marked.

use std::fmt::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::exit;
use crate::check::critical_path;
use crate::model::{RecoveryAction, RecoveryPlan};
use crate::plan::{Plan, describe_action_kind, format_duration};

/// Arguments of `chaosc graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The `.chaos` file to draw.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The experiment to draw, when the file declares several.
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// The formats of `chaosc graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

/// Runs `chaosc graph`.
pub fn execute(args: &GraphArgs) -> u8 {
    let plan = match super::run::load_plan(&args.file, args.experiment.as_deref()) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let text = match args.format {
        GraphFormat::Dot => render_dot(&plan),
        GraphFormat::Mermaid => render_mermaid(&plan),
    };
    print!("{text}");
    exit::SUCCESS
}

/// A node id safe in both formats.
fn node(prefix: &str, name: &str) -> String {
    format!("{prefix}_{name}")
}

fn step_label(plan: &Plan, index: usize) -> String {
    let step = &plan.experiment.steps[index];
    let hold = step.hold.map_or("to the end".to_owned(), format_duration);
    format!(
        "{}: {} on {} for {hold}",
        step.name,
        step.fault.kind,
        step.targets.join(", ")
    )
}

/// Renders the graphs as Graphviz DOT.
pub fn render_dot(plan: &Plan) -> String {
    let experiment = &plan.experiment;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];",
        experiment.name
    );
    let _ = writeln!(out, "  subgraph cluster_steps {{\n    label=\"steps\";");
    for (index, step) in experiment.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "    {} [label=\"{}\"];",
            node("step", &step.name),
            step_label(plan, index)
        );
    }
    for step in &experiment.steps {
        for before in &step.after {
            let _ = writeln!(
                out,
                "    {} -> {};",
                node("step", before),
                node("step", &step.name)
            );
        }
    }
    out.push_str("  }\n");

    for (number, recovery) in experiment.recovery_plans.iter().enumerate() {
        let (total, path) = critical_path(recovery);
        let rto = recovery.rto.map_or("no RTO".to_owned(), |rto| {
            format!("RTO {}", format_duration(rto))
        });
        let _ = writeln!(
            out,
            "  subgraph cluster_plan{number} {{\n    label=\"recovery plan {} ({}, {rto}, critical path {})\";",
            plan_title(recovery),
            recovery.strategy,
            format_duration(total)
        );
        let prefix = format!("plan{number}");
        for action in &recovery.actions {
            let critical = path.contains(&action.name);
            let style = if critical {
                ", style=bold, color=red"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    {} [label=\"{}\"{style}];",
                node(&prefix, &action.name),
                escape_dot(&action_label(action))
            );
        }
        for action in &recovery.actions {
            for before in &action.depends_on {
                let critical = is_critical_edge(&path, before, &action.name);
                let style = if critical {
                    " [color=red, penwidth=2]"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "    {} -> {}{style};",
                    node(&prefix, before),
                    node(&prefix, &action.name)
                );
            }
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

/// Labels an action with its name, what it does and its timeout, such as
/// `restart: restart web (10s)`. The arguments show what a template's
/// parameters were replaced by.
fn action_label(action: &RecoveryAction) -> String {
    format!(
        "{}: {} ({})",
        action.name,
        describe_action_kind(&action.kind),
        format_duration(action.timeout)
    )
}

/// Escapes text for a quoted DOT string.
fn escape_dot(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Escapes text for a quoted Mermaid label, where `"` must be an entity.
fn escape_mermaid(text: &str) -> String {
    text.replace('"', "#quot;")
}

/// Names a recovery plan, and the template it was made from, if any.
fn plan_title(plan: &RecoveryPlan) -> String {
    match &plan.template {
        Some(template) => format!("{} from template {template}", plan.name),
        None => plan.name.clone(),
    }
}

/// Renders the graphs as a Mermaid flowchart.
pub fn render_mermaid(plan: &Plan) -> String {
    let experiment = &plan.experiment;
    let mut out = String::from("flowchart LR\n  subgraph steps\n");
    for (index, step) in experiment.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "    {}[\"{}\"]",
            node("step", &step.name),
            step_label(plan, index)
        );
    }
    for step in &experiment.steps {
        for before in &step.after {
            let _ = writeln!(
                out,
                "    {} --> {}",
                node("step", before),
                node("step", &step.name)
            );
        }
    }
    out.push_str("  end\n");

    let mut critical_nodes = Vec::new();
    for (number, recovery) in experiment.recovery_plans.iter().enumerate() {
        let (total, path) = critical_path(recovery);
        let prefix = format!("plan{number}");
        let _ = writeln!(
            out,
            "  subgraph {prefix}[\"recovery plan {}, critical path {}\"]",
            plan_title(recovery),
            format_duration(total)
        );
        for action in &recovery.actions {
            let _ = writeln!(
                out,
                "    {}[\"{}\"]",
                node(&prefix, &action.name),
                escape_mermaid(&action_label(action))
            );
            if path.contains(&action.name) {
                critical_nodes.push(node(&prefix, &action.name));
            }
        }
        for action in &recovery.actions {
            for before in &action.depends_on {
                let arrow = if is_critical_edge(&path, before, &action.name) {
                    "==>"
                } else {
                    "-->"
                };
                let _ = writeln!(
                    out,
                    "    {} {arrow} {}",
                    node(&prefix, before),
                    node(&prefix, &action.name)
                );
            }
        }
        out.push_str("  end\n");
    }
    if !critical_nodes.is_empty() {
        out.push_str("  classDef critical stroke:#d00,stroke-width:3px\n");
        let _ = writeln!(out, "  class {} critical", critical_nodes.join(","));
    }
    out
}

/// Tells whether `from -> to` lies on the critical path.
fn is_critical_edge(path: &[String], from: &str, to: &str) -> bool {
    path.windows(2).any(|pair| pair[0] == from && pair[1] == to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_escape_quotes() {
        let label = "run: command [\"sh\", \"a\\b\"] (5s)";
        assert_eq!(
            escape_dot(label),
            "run: command [\\\"sh\\\", \\\"a\\\\b\\\"] (5s)"
        );
        assert_eq!(
            escape_mermaid(label),
            "run: command [#quot;sh#quot;, #quot;a\\b#quot;] (5s)"
        );
    }
}
