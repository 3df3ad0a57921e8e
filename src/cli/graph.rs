//! `chaosc graph`: the step graph and the recovery graphs of an experiment
//! as Graphviz DOT or Mermaid, with each plan's critical path marked.

use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

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

/// Names a recovery plan, and the template it was made from, if any.
fn plan_title(plan: &RecoveryPlan) -> String {
    match &plan.template {
        Some(template) => format!("{} from template {template}", plan.name),
        None => plan.name.clone(),
    }
}

/// Labels a recovery plan's group with its strategy, RTO and critical path.
fn plan_label(plan: &RecoveryPlan, critical_path: Duration) -> String {
    let rto = plan.rto.map_or("no RTO".to_owned(), |rto| {
        format!("RTO {}", format_duration(rto))
    });
    format!(
        "recovery plan {} ({}, {rto}, critical path {})",
        plan_title(plan),
        plan.strategy,
        format_duration(critical_path)
    )
}

/// The writer of one graph format, called part by part by `render`.
trait Syntax {
    fn start(&mut self, out: &mut String, experiment: &str);
    fn open_group(&mut self, out: &mut String, id: &str, label: &str);
    fn close_group(&mut self, out: &mut String);
    fn node(&mut self, out: &mut String, id: &str, label: &str, critical: bool);
    fn edge(&mut self, out: &mut String, from: &str, to: &str, critical: bool);
    fn finish(&mut self, out: &mut String);
}

/// Draws the step graph and each recovery graph of `plan` in `syntax`.
fn render(plan: &Plan, syntax: &mut dyn Syntax) -> String {
    let experiment = &plan.experiment;
    let mut out = String::new();
    syntax.start(&mut out, &experiment.name);

    syntax.open_group(&mut out, "steps", "steps");
    for (index, step) in experiment.steps.iter().enumerate() {
        let label = step_label(plan, index);
        syntax.node(&mut out, &node("step", &step.name), &label, false);
    }
    for step in &experiment.steps {
        for before in &step.after {
            let (from, to) = (node("step", before), node("step", &step.name));
            syntax.edge(&mut out, &from, &to, false);
        }
    }
    syntax.close_group(&mut out);

    for (number, recovery) in experiment.recovery_plans.iter().enumerate() {
        let (total, path) = critical_path(recovery);
        let prefix = format!("plan{number}");
        syntax.open_group(&mut out, &prefix, &plan_label(recovery, total));
        for action in &recovery.actions {
            let critical = path.contains(&action.name);
            let id = node(&prefix, &action.name);
            syntax.node(&mut out, &id, &action_label(action), critical);
        }
        for action in &recovery.actions {
            for before in &action.depends_on {
                let critical = is_critical_edge(&path, before, &action.name);
                let (from, to) = (node(&prefix, before), node(&prefix, &action.name));
                syntax.edge(&mut out, &from, &to, critical);
            }
        }
        syntax.close_group(&mut out);
    }
    syntax.finish(&mut out);
    out
}

/// Graphviz DOT: critical nodes bold and red, critical edges red and wide.
struct Dot;

impl Syntax for Dot {
    fn start(&mut self, out: &mut String, experiment: &str) {
        let _ = writeln!(
            out,
            "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];",
            escape_dot(experiment)
        );
    }

    fn open_group(&mut self, out: &mut String, id: &str, label: &str) {
        let _ = writeln!(
            out,
            "  subgraph cluster_{id} {{\n    label=\"{}\";",
            escape_dot(label)
        );
    }

    fn close_group(&mut self, out: &mut String) {
        out.push_str("  }\n");
    }

    fn node(&mut self, out: &mut String, id: &str, label: &str, critical: bool) {
        let style = if critical {
            ", style=bold, color=red"
        } else {
            ""
        };
        let _ = writeln!(out, "    {id} [label=\"{}\"{style}];", escape_dot(label));
    }

    fn edge(&mut self, out: &mut String, from: &str, to: &str, critical: bool) {
        let style = if critical {
            " [color=red, penwidth=2]"
        } else {
            ""
        };
        let _ = writeln!(out, "    {from} -> {to}{style};");
    }

    fn finish(&mut self, out: &mut String) {
        out.push_str("}\n");
    }
}

/// A Mermaid flowchart: critical edges thick, critical nodes in one class.
#[derive(Default)]
struct Mermaid {
    critical_nodes: Vec<String>,
}

impl Syntax for Mermaid {
    fn start(&mut self, out: &mut String, _experiment: &str) {
        out.push_str("flowchart LR\n");
    }

    fn open_group(&mut self, out: &mut String, id: &str, label: &str) {
        let _ = writeln!(out, "  subgraph {id}[\"{}\"]", escape_mermaid(label));
    }

    fn close_group(&mut self, out: &mut String) {
        out.push_str("  end\n");
    }

    fn node(&mut self, out: &mut String, id: &str, label: &str, critical: bool) {
        let _ = writeln!(out, "    {id}[\"{}\"]", escape_mermaid(label));
        if critical {
            self.critical_nodes.push(id.to_owned());
        }
    }

    fn edge(&mut self, out: &mut String, from: &str, to: &str, critical: bool) {
        let arrow = if critical { "==>" } else { "-->" };
        let _ = writeln!(out, "    {from} {arrow} {to}");
    }

    fn finish(&mut self, out: &mut String) {
        if !self.critical_nodes.is_empty() {
            out.push_str("  classDef critical stroke:#d00,stroke-width:3px\n");
            let _ = writeln!(out, "  class {} critical", self.critical_nodes.join(","));
        }
    }
}

/// Renders the graphs as Graphviz DOT.
pub fn render_dot(plan: &Plan) -> String {
    render(plan, &mut Dot)
}

/// Renders the graphs as a Mermaid flowchart.
pub fn render_mermaid(plan: &Plan) -> String {
    render(plan, &mut Mermaid::default())
}

/// Escapes text for a quoted DOT string.
fn escape_dot(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Escapes text for a quoted Mermaid label, where `"` must be an entity.
fn escape_mermaid(text: &str) -> String {
    text.replace('"', "#quot;")
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
