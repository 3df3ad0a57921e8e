//! The Chaos Toolkit experiment as the importer reads it: only the elements
//! the format defines, each with its JSON path and span in the input.

use super::node::{Node, StringSource};
use crate::syntax::Span;

/// A whole Chaos Toolkit experiment.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub title: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub tags: Vec<String>,
    /// `contributions`: how much the experiment contributes to each system
    /// property (`reliability`, `security`, ...), by rating.
    pub contributions: Vec<(String, String)>,
    pub configuration: Vec<ConfigEntry>,
    pub secrets: Vec<SecretEntry>,
    pub hypothesis: Option<Hypothesis>,
    pub method: Vec<ActivityEntry>,
    pub rollbacks: Vec<ActivityEntry>,
    /// `controls`, `extensions` and `runtime`, which have no equivalent.
    pub extras: Vec<Extra>,
}

/// A top-level element kept only as a placeholder comment.
#[derive(Debug, Clone)]
pub struct Extra {
    pub key: String,
    pub path: String,
    pub node: Node,
}

/// One `configuration` entry, referred to as `${name}` in strings.
#[derive(Debug, Clone)]
pub struct ConfigEntry {
    pub name: String,
    pub value: ConfigValue,
    pub path: String,
}

/// Where a configuration value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// A value written in the experiment, as text.
    Inline(String),
    /// An environment variable read when the experiment runs.
    Env {
        key: String,
        default: Option<String>,
    },
    /// Another source (`vault`, ...), with its type.
    Other(String),
}

/// One secret of a `secrets` scope, referred to as `${key}` in strings.
#[derive(Debug, Clone)]
pub struct SecretEntry {
    pub scope: String,
    pub key: String,
    pub source: SecretSource,
    pub span: Span,
}

/// Where a secret comes from; inline values are never kept.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    Inline,
    Env(String),
    Other(String),
}

/// The `steady-state-hypothesis`.
#[derive(Debug, Clone)]
pub struct Hypothesis {
    pub title: String,
    pub probes: Vec<ActivityEntry>,
    pub controls: Option<Extra>,
}

/// An entry of the hypothesis, the method or the rollbacks.
#[derive(Debug, Clone)]
pub enum ActivityEntry {
    Activity(Box<Activity>),
    /// `{"ref": "name"}`: runs the earlier activity of that name again.
    Ref {
        name: String,
        path: String,
        span: Span,
    },
}

/// Whether an activity observes (`probe`) or changes (`action`) the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Probe,
    Action,
}

impl ActivityKind {
    /// Returns the name used in the input format.
    pub fn name(self) -> &'static str {
        match self {
            ActivityKind::Probe => "probe",
            ActivityKind::Action => "action",
        }
    }
}

/// A probe or an action.
#[derive(Debug, Clone)]
pub struct Activity {
    pub kind: ActivityKind,
    pub name: String,
    pub provider: Provider,
    pub tolerance: Option<Tolerance>,
    /// Seconds to wait before the activity.
    pub pause_before: Option<f64>,
    /// Seconds to wait after the activity.
    pub pause_after: Option<f64>,
    pub background: bool,
    pub controls: Option<Extra>,
    pub path: String,
    pub span: Span,
    /// The activity as written, for placeholder comments.
    pub raw: Node,
}

/// What runs an activity.
#[derive(Debug, Clone)]
pub enum Provider {
    Http(HttpProvider),
    Process(ProcessProvider),
    Python(PythonProvider),
}

/// An `http` provider: one request.
#[derive(Debug, Clone)]
pub struct HttpProvider {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    /// The request body (or query, for `GET`).
    pub arguments: Option<Node>,
    /// Seconds; a `[connect, read]` pair is stored as its sum, which bounds
    /// the whole request.
    pub timeout: Option<f64>,
    /// The status older releases of the toolkit required.
    pub expected_status: Option<i64>,
    pub verify_tls: Option<bool>,
    pub max_retries: Option<i64>,
}

/// A `process` provider: one program run.
#[derive(Debug, Clone)]
pub struct ProcessProvider {
    pub path: String,
    pub arguments: ProcessArguments,
    /// Seconds.
    pub timeout: Option<f64>,
}

/// The `arguments` of a process provider.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessArguments {
    /// A list, passed as argv after the path.
    List(Vec<String>),
    /// A string, which the toolkit hands to a shell after the path.
    Shell(String),
}

/// A `python` provider: a function of an extension package.
#[derive(Debug, Clone)]
pub struct PythonProvider {
    pub module: String,
    pub func: String,
}

/// The `tolerance` of a probe.
#[derive(Debug, Clone)]
pub struct Tolerance {
    pub kind: ToleranceKind,
}

/// What a tolerance accepts.
#[derive(Debug, Clone)]
pub enum ToleranceKind {
    Integer(i64),
    /// A boolean, a fraction or a string, which the toolkit compares with
    /// the whole output object.
    OtherScalar,
    /// A list of accepted values.
    List(Vec<Node>),
    /// A pattern of Python's `re` module that must match somewhere in the
    /// output field `target`.
    Regex {
        pattern: String,
        pattern_source: StringSource,
        target: Option<String>,
    },
    /// A path of the `jsonpath2` Python package applied to the output field
    /// `target`, read as JSON. Without `expect` and `count`, the path must
    /// select at least one value.
    JsonPath {
        path: String,
        path_source: StringSource,
        target: Option<String>,
        /// The values the path must select: a list, or one value that
        /// stands for a list of one. It takes precedence over `count`.
        expect: Option<Node>,
        /// How many values the path must select.
        count: Option<Node>,
    },
    Range {
        low: f64,
        high: f64,
        target: Option<String>,
    },
    /// Another probe that judges the value.
    Probe,
}
