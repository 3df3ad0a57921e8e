//! The syntax tree of a `.chaos` file: what was written, with spans, before
//! any name is resolved or any value is typed.

use super::Span;

/// A name as written, with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A whole source file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `use "./common.chaos"`.
    Import(ImportDecl),
    Use(UseDecl),
    Service(ServiceDecl),
    Target(TargetDecl),
    Fault(FaultDecl),
    Experiment(ExperimentDecl),
    Alert(AlertDecl),
    Channel(ChannelDecl),
    Framework(FrameworkDecl),
    Template(TemplateDecl),
}

impl Item {
    /// Returns the span of the whole declaration.
    pub fn span(&self) -> Span {
        match self {
            Item::Import(decl) => decl.span,
            Item::Use(decl) => decl.span,
            Item::Service(decl) => decl.span,
            Item::Target(decl) => decl.span,
            Item::Fault(decl) => decl.span,
            Item::Experiment(decl) => decl.span,
            Item::Alert(decl) => decl.span,
            Item::Channel(decl) => decl.span,
            Item::Framework(decl) => decl.span,
            Item::Template(decl) => decl.span,
        }
    }
}

/// `use "./common.chaos"`: the declarations of another file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportDecl {
    /// The path as written, relative to the importing file.
    pub path: String,
    pub path_span: Span,
    pub span: Span,
}

/// `channel oncall = pagerduty { ... }`: a notification channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelDecl {
    pub name: Ident,
    pub kind: Ident,
    pub block: Block,
    pub span: Span,
}

/// `alert errors { ... }`: an alert rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertDecl {
    pub name: Ident,
    /// The settings of the rule (`severity`, `cooldown`, `channels`, ...).
    pub block: Block,
    pub thresholds: Vec<ThresholdDecl>,
    pub span: Span,
}

/// `threshold error_rate gt 5% for 1m severity critical`.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdDecl {
    /// A quoted metric name or a name such as `health.failure_rate`.
    pub metric: Value,
    pub op: CompareOp,
    /// The operator as written, `gt` or `>`.
    pub op_text: String,
    pub value: Value,
    /// How long the comparison must hold before the alert fires.
    pub hold: Option<Value>,
    pub severity: Option<Ident>,
    pub span: Span,
}

/// `framework pci_dss { ... }`: the policy data of a compliance framework.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameworkDecl {
    pub name: Ident,
    pub block: Block,
    pub span: Span,
}

/// `use std::faults::{latency, process_kill}`.
#[derive(Debug, Clone, PartialEq)]
pub struct UseDecl {
    /// The module path, `std::faults` above.
    pub module: Vec<Ident>,
    pub names: UseNames,
    pub span: Span,
}

/// What a `use` brings into scope from its module.
#[derive(Debug, Clone, PartialEq)]
pub enum UseNames {
    /// The listed names.
    Names(Vec<Ident>),
    /// Every item of the module (`::*`).
    Glob(Span),
}

/// `service checkout { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDecl {
    pub name: Ident,
    pub block: Block,
    pub span: Span,
}

/// `target web = process { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetDecl {
    pub name: Ident,
    pub kind: Ident,
    pub block: Block,
    pub span: Span,
}

/// `fault latency(delay: duration, jitter: duration = 0ms) { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub block: Block,
    /// The `///` lines written right above the declaration.
    pub doc: String,
    pub span: Span,
}

/// One parameter of a fault definition or recovery plan template.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeName,
    pub default: Option<Value>,
    pub span: Span,
}

/// A type as written in a parameter: `duration` or `[string]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeName {
    pub name: Ident,
    pub is_list: bool,
}

/// A braced list of properties and nested sections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub properties: Vec<Property>,
    pub sections: Vec<Section>,
    pub span: Span,
}

impl Block {
    /// Finds the property named `key`.
    pub fn property(&self, key: &str) -> Option<&Property> {
        self.properties
            .iter()
            .find(|property| property.key.name == key)
    }
}

/// `key = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub key: Ident,
    pub value: Value,
    pub span: Span,
}

/// `name { ... }` nested in a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: Ident,
    pub block: Block,
    pub span: Span,
}

/// A literal or a name in value position.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

/// The forms a value can take in the source.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    String(String),
    Bool(bool),
    /// A signal name such as `SIGKILL`.
    Signal(String),
    /// A socket address, kept as written.
    Address(String),
    Money {
        amount: f64,
        currency: String,
    },
    /// A number with the unit written after it, if any.
    Quantity {
        number: f64,
        text: String,
        unit: Option<String>,
    },
    List(Vec<Value>),
    Map(Vec<MapEntry>),
    /// A name or a dotted path such as `health.failures`.
    Name(Vec<Ident>),
    /// `env("NAME")`: a value computed from its arguments.
    Call {
        name: Ident,
        args: Vec<Value>,
    },
}

impl ValueKind {
    /// Names the form of this value for diagnostics, such as "a string".
    pub fn describe(&self) -> String {
        match self {
            ValueKind::String(_) => "a string".to_owned(),
            ValueKind::Bool(_) => "a boolean".to_owned(),
            ValueKind::Signal(_) => "a signal".to_owned(),
            ValueKind::Address(_) => "a socket address".to_owned(),
            ValueKind::Money { .. } => "an amount of money".to_owned(),
            ValueKind::Quantity { unit: None, .. } => "a number without a unit".to_owned(),
            ValueKind::Quantity {
                unit: Some(unit), ..
            } => format!("a quantity in `{unit}`"),
            ValueKind::List(_) => "a list".to_owned(),
            ValueKind::Map(_) => "a map".to_owned(),
            ValueKind::Name(path) => {
                let joined: Vec<&str> = path.iter().map(|part| part.name.as_str()).collect();
                format!("the name `{}`", joined.join("."))
            }
            ValueKind::Call { name, .. } => format!("a call of `{}`", name.name),
        }
    }
}

/// One `key = value` of a map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    pub key: String,
    pub key_span: Span,
    pub value: Value,
}

/// `experiment name { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentDecl {
    pub name: Ident,
    /// The settings written directly in the experiment (`severity = high`)
    /// and its nested sections (`safety { ... }`).
    pub block: Block,
    pub probes: Vec<ProbeDecl>,
    pub steps: Vec<StepDecl>,
    pub stop_conditions: Vec<Condition>,
    pub success: Vec<Condition>,
    /// The span of the `success { ... }` block, when there is one.
    pub success_span: Option<Span>,
    pub recovery_plans: Vec<RecoveryDecl>,
    pub span: Span,
}

/// `probe name = kind args expect ... within ... every ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeDecl {
    pub name: Ident,
    pub kind: Ident,
    pub args: Vec<Value>,
    pub expectations: Vec<Tolerance>,
    pub within: Option<Value>,
    pub every: Option<Value>,
    /// `with { ... }`: settings of the probe's request, such as headers.
    pub settings: Option<Block>,
    /// Whether the probe was declared inside `steady_state { ... }`.
    pub is_steady_state: bool,
    pub span: Span,
}

/// `status == 200`: an observed field compared with a value. The parser
/// writes a range `value in 1..5` as two tolerances, `>=` and `<=`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tolerance {
    pub field: Ident,
    /// `("$.status")` after the field: the string argument of a field such
    /// as `json`, as a string value with its span.
    pub argument: Option<Value>,
    pub op: CompareOp,
    pub value: Value,
    /// `=~`: the value is a regular expression the field must match, and
    /// `op` is `==`.
    pub regex: bool,
    pub span: Span,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// Returns the operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }

    /// Applies the operator to two numbers. Every comparison with an unknown
    /// value (NaN) is false, `!=` included, because a rate over no samples
    /// is not different from a threshold but unknown.
    pub fn holds(self, left: f64, right: f64) -> bool {
        if left.is_nan() || right.is_nan() {
            return false;
        }
        match self {
            CompareOp::Eq => left == right,
            CompareOp::Ne => left != right,
            CompareOp::Lt => left < right,
            CompareOp::Le => left <= right,
            CompareOp::Gt => left > right,
            CompareOp::Ge => left >= right,
        }
    }
}

/// `step name = inject fault(args) on target for 2m after other`.
#[derive(Debug, Clone, PartialEq)]
pub struct StepDecl {
    pub name: Ident,
    pub fault: FaultCall,
    pub selector: Selector,
    pub hold: Option<Value>,
    pub after: Vec<Ident>,
    pub probability: Option<Value>,
    /// `ramp 30s`: gradual injection reaching full strength after this long.
    pub ramp: Option<Value>,
    /// `rate 2/s`: injections per second in gradual mode.
    pub rate: Option<Value>,
    /// The span of `irreversible`, when the step accepts an irreversible fault.
    pub irreversible: Option<Span>,
    pub span: Span,
}

/// A fault with its arguments, as used by a step.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultCall {
    pub name: Ident,
    pub args: Vec<Argument>,
    pub span: Span,
}

/// A named or positional argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Argument {
    pub name: Option<Ident>,
    pub value: Value,
    pub span: Span,
}

/// Which targets a step acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// One target by name.
    Name(Ident),
    /// Every target whose labels match, optionally only a count or share.
    Labels {
        matches: Vec<LabelMatch>,
        pick: Option<Value>,
        span: Span,
    },
}

/// `app == "web"` in a label selector.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelMatch {
    pub label: Ident,
    pub is_equal: bool,
    pub value: String,
    pub span: Span,
}

/// A condition: comparisons joined by `and`, and those groups by `or`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The condition holds when every comparison of any one group holds.
    pub any_of: Vec<Vec<Comparison>>,
    pub span: Span,
}

/// `health.failures > 3 in 30s`. The parser writes `alert.NAME STATE` as
/// the name `alert.NAME` compared with `==` to the name `STATE`; since
/// `alert` is a keyword, no probe can have that name.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub left: Value,
    pub op: CompareOp,
    pub right: Value,
    pub window: Option<Value>,
    pub span: Span,
}

/// `recovery plan name (strategy = ..., rto = 5m) { ... }`, or `recovery
/// plan name = template(args)`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryDecl {
    pub name: Ident,
    pub settings: Vec<Argument>,
    pub actions: Vec<ActionDecl>,
    /// The template the plan is made from; its settings and actions are
    /// then empty until the checker instantiates the template.
    pub template: Option<TemplateCall>,
    pub span: Span,
}

/// `restart_and_verify(app = web, health = home)`: a template with the
/// arguments of one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateCall {
    pub name: Ident,
    pub args: Vec<Argument>,
    pub span: Span,
}

/// `template plan name(app: target, rto: duration = 5m) (strategy = ...) {
/// action ... }`: a recovery plan with parameters. A parameter's name used
/// as a value in the settings or actions stands for the argument.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub settings: Vec<Argument>,
    pub actions: Vec<ActionDecl>,
    /// The `///` lines written right above the declaration.
    pub doc: String,
    pub span: Span,
}

/// `action name = kind args timeout 30s priority 2 retries 1 after other`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionDecl {
    pub name: Ident,
    pub kind: Ident,
    pub args: Vec<Value>,
    pub timeout: Option<Value>,
    pub priority: Option<Value>,
    pub retries: Option<Value>,
    pub after: Vec<Ident>,
    pub span: Span,
}
