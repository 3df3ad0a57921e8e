//! Targets, experiments and their parts, after checking.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::enums::*;
use super::governance::{ComplianceSpec, FrameworkPolicy, Metadata, Service};
use super::json_path::JsonPath;
use super::monitoring::{AlertRule, Channel};
use super::value::TypedValue;
use crate::syntax::CompareOp;

/// Everything a checked file declares that a run needs.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub targets: Vec<Target>,
    pub services: Vec<Service>,
    pub channels: Vec<Channel>,
    pub alert_rules: Vec<AlertRule>,
    pub frameworks: Vec<FrameworkPolicy>,
    pub experiments: Vec<Experiment>,
}

impl Model {
    /// Finds a target by name.
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|target| target.name == name)
    }

    /// Finds a service of the catalog by name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|service| service.name == name)
    }
}

/// Something an experiment acts on.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The service of the catalog the target belongs to.
    pub service: Option<String>,
    /// The region the target runs in, such as `eu-west-1`, if the file
    /// declares one.
    pub region: Option<String>,
    pub spec: TargetSpec,
}

impl Target {
    /// Returns the kind of the target.
    pub fn kind(&self) -> TargetKind {
        match self.spec {
            TargetSpec::Launched(_) | TargetSpec::Attached(_) => TargetKind::Process,
            TargetSpec::Proxy(_) => TargetKind::Proxy,
            TargetSpec::File(_) => TargetKind::File,
            TargetSpec::Directory(_) => TargetKind::Directory,
            TargetSpec::Interface(_) => TargetKind::Interface,
        }
    }
}

/// The way chaosc finds a process that already runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attach {
    /// The pid written in this file.
    PidFile(PathBuf),
    Pid(u32),
    /// The one process with this name, as `/proc/PID/comm` gives it.
    Name(String),
}

impl std::fmt::Display for Attach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attach::PidFile(path) => write!(f, "pid file {}", path.display()),
            Attach::Pid(pid) => write!(f, "pid {pid}"),
            Attach::Name(name) => write!(f, "process name `{name}`"),
        }
    }
}

/// The way chaosc gets hold of a target.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// A process that chaosc starts before the run and stops after it.
    Launched(LaunchSpec),
    /// A process that already runs, found when the run starts.
    Attached(Attach),
    /// A TCP proxy that chaosc runs for the length of the run.
    Proxy(ProxySpec),
    /// A file that faults may change, confined to a root directory.
    File(FileSpec),
    /// A directory that faults may write files into.
    Directory(DirectorySpec),
    /// A network interface that kernel network faults act on.
    Interface(InterfaceSpec),
}

/// A file target: the file and the directory it must stay inside.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileSpec {
    /// An absolute path under `root`.
    pub path: PathBuf,
    /// The directory that faults may not leave, through `..` or symlinks.
    pub root: PathBuf,
}

/// A directory target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectorySpec {
    /// An absolute path.
    pub path: PathBuf,
}

/// A network interface target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InterfaceSpec {
    /// The interface name, such as `veth0`.
    pub name: String,
    /// The network namespace (a name under `/run/netns`) that holds the
    /// interface; `None` for the namespace chaosc runs in.
    pub netns: Option<String>,
    /// An address reached through the interface, which verification
    /// connects to from the interface's namespace to measure round trips.
    /// Nothing needs to listen there: a refused connection takes one round
    /// trip too.
    pub peer: Option<SocketAddr>,
}

/// The command line and environment of a launched process.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LaunchSpec {
    /// The program and its arguments, run without a shell.
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
    /// An address that accepts connections once the process is ready.
    pub ready: Option<SocketAddr>,
    /// How long to wait for `ready` after a start.
    pub ready_timeout: Duration,
}

/// The two addresses of a proxy target.
#[derive(Debug, Clone, Copy)]
pub struct ProxySpec {
    pub listen: SocketAddr,
    pub upstream: SocketAddr,
}

/// One experiment.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub name: String,
    pub category: Category,
    pub severity: Severity,
    /// The maximum time the experiment runs before every fault is reverted.
    pub duration: Duration,
    pub blast_radius: BlastRadius,
    pub safety: SafetyNet,
    pub probes: Vec<Probe>,
    pub steps: Vec<Step>,
    pub stop_conditions: Vec<Condition>,
    pub success: Vec<Condition>,
    pub recovery_plans: Vec<RecoveryPlan>,
    pub metadata: Metadata,
    pub compliance: ComplianceSpec,
    /// The alert rules watched during the run.
    pub alerts: Vec<String>,
    /// Channels that receive every alert of the run, besides each rule's own.
    pub alert_channels: Vec<String>,
}

impl Experiment {
    /// Finds a probe by name.
    pub fn probe(&self, name: &str) -> Option<&Probe> {
        self.probes.iter().find(|probe| probe.name == name)
    }
}

/// How much of the system an experiment may touch.
#[derive(Debug, Clone)]
pub struct BlastRadius {
    /// The maximum number of targets the experiment may act on.
    pub limit: u32,
    /// The services the experiment declares it touches.
    pub services: Vec<String>,
}

/// The guardrails of an experiment.
#[derive(Debug, Clone)]
pub struct SafetyNet {
    pub rollback: bool,
    /// The maximum time the rollback of all faults may take.
    pub rollback_timeout: Duration,
    pub emergency_stop: bool,
    pub business_hours_only: bool,
    pub monitoring: bool,
    pub alerting: bool,
}

/// A probe of the system's behaviour.
#[derive(Debug, Clone)]
pub struct Probe {
    pub name: String,
    pub kind: ProbeKind,
    pub expectations: Vec<Expectation>,
    /// The maximum time one sample may take before it counts as failed.
    pub timeout: Duration,
    /// How often the probe is sampled during the run.
    pub interval: Duration,
    /// Whether the probe defines the steady state, checked before and after.
    pub is_steady_state: bool,
}

/// What an HTTP probe sends besides its method and URL.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    /// Header names and values, in the order written.
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// A process whose liveness a `process` probe observes.
#[derive(Debug, Clone)]
pub enum ProcessRef {
    /// A process target of the run, found again after each restart.
    Target(String),
    /// A file that holds the pid, read at every sample.
    PidFile(PathBuf),
}

/// A Prometheus series selector: a metric name and label matchers, as in
/// `http_requests_total{code="500", path=~"/api/.*"}`.
#[derive(Debug, Clone)]
pub struct SeriesSelector {
    pub metric: String,
    pub matchers: Vec<LabelMatcher>,
}

/// One label matcher of a series selector.
#[derive(Debug, Clone)]
pub struct LabelMatcher {
    pub label: String,
    pub op: LabelMatchOp,
    pub value: String,
    /// The compiled pattern of `=~` and `!~`, anchored at both ends.
    pub pattern: Option<regex::Regex>,
}

/// How a label matcher compares: `=`, `!=`, `=~` or `!~`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelMatchOp {
    Equal,
    NotEqual,
    Matches,
    NotMatches,
}

/// The action a probe takes for one sample.
#[derive(Debug, Clone)]
pub enum ProbeKind {
    Http {
        method: HttpMethod,
        url: String,
        request: HttpRequest,
    },
    Tcp {
        address: SocketAddr,
    },
    /// A program and its arguments, run without a shell.
    Command {
        argv: Vec<String>,
    },
    /// Whether a process is alive (and not a zombie).
    Process {
        process: ProcessRef,
    },
    /// One series scraped from a Prometheus text-format endpoint.
    Metric {
        url: String,
        selector: SeriesSelector,
    },
    /// An instant query against a Prometheus server's HTTP API.
    Promql {
        /// The server's base URL, such as `http://127.0.0.1:9090`.
        server: String,
        query: String,
    },
}

impl ProbeKind {
    /// Returns the name the kind is written with.
    pub fn name(&self) -> &'static str {
        match self {
            ProbeKind::Http { .. } => "http",
            ProbeKind::Tcp { .. } => "tcp",
            ProbeKind::Command { .. } => "command",
            ProbeKind::Process { .. } => "process",
            ProbeKind::Metric { .. } => "metric",
            ProbeKind::Promql { .. } => "promql",
        }
    }
}

/// One condition a sample must meet.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub field: ProbeField,
    pub op: CompareOp,
    pub value: TypedValue,
    /// For `=~`: the compiled regular expression the field must match
    /// somewhere; `op` and `value` then hold `==` and the pattern's text.
    pub pattern: Option<regex::Regex>,
    /// For `json(PATH)` and `json_count(PATH)`: the path that selects values
    /// from the body or output, read as JSON.
    pub json_path: Option<JsonPath>,
}

impl Expectation {
    /// Returns the observed field as written, such as `status` or
    /// `json("$.status")`.
    pub fn subject(&self) -> String {
        match &self.json_path {
            Some(path) => format!("{}({:?})", self.field.name(), path.as_str()),
            None => self.field.name().to_owned(),
        }
    }
}

/// What a sample observes, for expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeField {
    /// The HTTP status code.
    Status,
    /// The time from the start of the sample to its answer.
    Latency,
    /// The exit code of a command.
    Exit,
    /// The standard output of a command, trimmed.
    Output,
    /// The body of an HTTP response.
    Body,
    /// The number a `metric` or `promql` probe read.
    Value,
    /// The values a JSON path selects in the body or output: one value for
    /// a path without wildcards, otherwise the list of every value selected.
    Json,
    /// How many values a JSON path selects in the body or output.
    JsonCount,
}

impl ProbeField {
    /// Returns the name the field is written with.
    pub fn name(self) -> &'static str {
        match self {
            ProbeField::Status => "status",
            ProbeField::Latency => "latency",
            ProbeField::Exit => "exit",
            ProbeField::Output => "output",
            ProbeField::Body => "body",
            ProbeField::Value => "value",
            ProbeField::Json => "json",
            ProbeField::JsonCount => "json_count",
        }
    }
}

/// One step of an experiment: a fault on its targets.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub fault: FaultSpec,
    /// The names of the targets the step acts on.
    pub targets: Vec<String>,
    /// How long the fault is held; `None` holds it to the end of the run.
    pub hold: Option<Duration>,
    /// The steps that must end before this one starts.
    pub after: Vec<String>,
    /// The share of traffic or time the fault affects, from 0 to 1.
    pub probability: f64,
    /// Gradual injection: the time to reach full strength.
    pub ramp: Option<Duration>,
    /// Gradual injection: injections per second.
    pub rate: Option<f64>,
    /// Whether the author accepted a fault that cannot be fully undone.
    pub irreversible: bool,
}

/// A fault kind with its typed arguments, defaults filled in.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FaultSpec {
    pub kind: String,
    #[serde(skip)]
    pub params: BTreeMap<String, TypedValue>,
}

impl FaultSpec {
    /// Returns the duration argument `name`.
    pub fn duration(&self, name: &str) -> Option<Duration> {
        self.params.get(name).and_then(TypedValue::as_duration)
    }

    /// Returns the enumeration or string argument `name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(TypedValue::as_str)
    }
}

/// A condition over measures of the run; it holds when every comparison of
/// any one group holds.
#[derive(Debug, Clone)]
pub struct Condition {
    pub any_of: Vec<Vec<Comparison>>,
    /// The condition as written, for reports.
    pub text: String,
}

/// One comparison of a condition.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub left: Operand,
    pub op: CompareOp,
    pub right: Operand,
    /// Only samples from this trailing window count.
    pub window: Option<Duration>,
}

/// A side of a comparison.
#[derive(Debug, Clone)]
pub enum Operand {
    /// A measure over the samples of a probe.
    Probe {
        probe: String,
        measure: ProbeMeasure,
    },
    /// A measure of the run itself.
    Run(RunMeasure),
    /// 1 while the latest alert of the rule is in `state` during the run,
    /// else 0.
    Alert { rule: String, state: AlertStatus },
    /// A constant, as a number in the measure's base unit.
    Constant(f64),
}

/// A measure over a probe's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeMeasure {
    Samples,
    Successes,
    Failures,
    ConsecutiveFailures,
    /// Successes divided by samples, as a fraction of one.
    SuccessRate,
    FailureRate,
    /// Latencies in seconds.
    LatencyP50,
    LatencyP99,
    LatencyMax,
    /// The value of the latest sample that read one (`metric`, `promql`).
    Value,
    ValueMin,
    ValueMax,
    ValueAvg,
    /// Nearest-rank percentiles of the values read.
    ValueP50,
    ValueP99,
}

impl ProbeMeasure {
    /// Every measure with its name.
    pub const ALL: &'static [(&'static str, ProbeMeasure)] = &[
        ("samples", ProbeMeasure::Samples),
        ("successes", ProbeMeasure::Successes),
        ("failures", ProbeMeasure::Failures),
        ("consecutive_failures", ProbeMeasure::ConsecutiveFailures),
        ("success_rate", ProbeMeasure::SuccessRate),
        ("failure_rate", ProbeMeasure::FailureRate),
        ("latency_p50", ProbeMeasure::LatencyP50),
        ("latency_p99", ProbeMeasure::LatencyP99),
        ("latency_max", ProbeMeasure::LatencyMax),
        ("value", ProbeMeasure::Value),
        ("value_min", ProbeMeasure::ValueMin),
        ("value_max", ProbeMeasure::ValueMax),
        ("value_avg", ProbeMeasure::ValueAvg),
        ("value_p50", ProbeMeasure::ValueP50),
        ("value_p99", ProbeMeasure::ValueP99),
    ];

    /// Finds a measure by name.
    pub fn from_name(name: &str) -> Option<ProbeMeasure> {
        Self::ALL
            .iter()
            .find(|(text, _)| *text == name)
            .map(|(_, measure)| *measure)
    }
}

/// A measure of the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMeasure {
    /// Seconds from the last fault reverted to every recovery probe passing.
    RecoveryTime,
    /// Seconds since the run started.
    Elapsed,
}

/// A recovery plan: actions run as a dependency graph.
#[derive(Debug, Clone)]
pub struct RecoveryPlan {
    pub name: String,
    pub strategy: RecoveryStrategy,
    /// Recovery time objective.
    pub rto: Option<Duration>,
    /// Recovery point objective.
    pub rpo: Option<Duration>,
    pub actions: Vec<RecoveryAction>,
    /// The template the plan was instantiated from, if any.
    pub template: Option<String>,
}

/// One action of a recovery plan.
#[derive(Debug, Clone)]
pub struct RecoveryAction {
    pub name: String,
    pub kind: ActionKind,
    pub timeout: Duration,
    /// Higher runs first when several actions are ready.
    pub priority: i64,
    pub retries: u32,
    pub depends_on: Vec<String>,
}

/// What a recovery action does.
#[derive(Debug, Clone)]
pub enum ActionKind {
    /// Stops a launched target if it runs, then starts it again.
    Restart { target: String },
    /// Samples a probe until it passes or the timeout ends.
    Probe { probe: String },
    /// Runs a program without a shell; it must exit with `expect_exit`.
    Command { argv: Vec<String>, expect_exit: i32 },
    /// Waits.
    Wait { duration: Duration },
    /// Sets the number of instances of a target.
    Scale { target: String, replicas: i64 },
    /// Deploys a target again from its definition.
    Redeploy {
        target: String,
        /// A new command line, replacing the target's.
        command: Option<Vec<String>>,
        /// Variables added to the target's environment, or changed.
        env: BTreeMap<String, String>,
    },
    /// Restores a file target from a backup file, or from the copy taken
    /// before the first injection when `from` is `None`.
    Restore {
        target: String,
        from: Option<String>,
    },
    /// Points a proxy target at another upstream address.
    SwitchTraffic {
        target: String,
        upstream: SocketAddr,
    },
    /// Makes a proxy target reject a share of new connections for a while.
    ShedLoad {
        target: String,
        /// The share rejected, from 0 to 1.
        share: f64,
        hold: Duration,
    },
    /// Makes a proxy target fail fast after `failures` upstream failures in
    /// a row, for `cooldown`, then let one connection try again.
    CircuitBreaker {
        target: String,
        failures: u32,
        cooldown: Duration,
    },
}

impl ActionKind {
    /// Returns the name the kind is written with.
    pub fn name(&self) -> &'static str {
        match self {
            ActionKind::Restart { .. } => "restart",
            ActionKind::Probe { .. } => "probe",
            ActionKind::Command { .. } => "command",
            ActionKind::Wait { .. } => "wait",
            ActionKind::Scale { .. } => "scale",
            ActionKind::Redeploy { .. } => "redeploy",
            ActionKind::Restore { .. } => "restore",
            ActionKind::SwitchTraffic { .. } => "switch_traffic",
            ActionKind::ShedLoad { .. } => "shed_load",
            ActionKind::CircuitBreaker { .. } => "circuit_breaker",
        }
    }

    /// Returns the target the action acts on, if it acts on one.
    pub fn target(&self) -> Option<&str> {
        match self {
            ActionKind::Restart { target }
            | ActionKind::Scale { target, .. }
            | ActionKind::Redeploy { target, .. }
            | ActionKind::Restore { target, .. }
            | ActionKind::SwitchTraffic { target, .. }
            | ActionKind::ShedLoad { target, .. }
            | ActionKind::CircuitBreaker { target, .. } => Some(target),
            ActionKind::Probe { .. } | ActionKind::Command { .. } | ActionKind::Wait { .. } => None,
        }
    }
}
