//! The diagnostics of the checker. Every variant has a stable code; codes are
//! never reused, and `docs/diagnostics.md` has a page for each.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

/// A finding of the checker about one file.
#[derive(Debug, Clone, Error, Diagnostic)]
pub enum CheckError {
    #[error("unknown {kind} `{name}`")]
    #[diagnostic(code(chaos::E0101))]
    UnknownName {
        kind: &'static str,
        name: String,
        #[label("not declared")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("{kind} `{name}` is declared twice")]
    #[diagnostic(
        code(chaos::E0102),
        help("rename one of them; names must be unique within a file")
    )]
    Duplicate {
        kind: &'static str,
        name: String,
        #[label("declared again here")]
        span: SourceSpan,
        #[label("first declared here")]
        first: SourceSpan,
    },

    #[error("unknown module `{module}`")]
    #[diagnostic(code(chaos::E0103))]
    UnknownModule {
        module: String,
        #[label("no such module")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("module `{module}` has no item `{name}`")]
    #[diagnostic(code(chaos::E0104))]
    UnknownImport {
        module: String,
        name: String,
        #[label("not in `{module}`")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("fault `{name}` is not imported")]
    #[diagnostic(code(chaos::E0105))]
    FaultNotImported {
        name: String,
        #[label("not in scope")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("unknown {kind} `{name}`")]
    #[diagnostic(code(chaos::E0201))]
    UnknownField {
        kind: &'static str,
        name: String,
        #[label("not a {kind}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("missing {kind} `{name}`")]
    #[diagnostic(code(chaos::E0202))]
    MissingField {
        kind: &'static str,
        name: String,
        #[label("`{name}` is required here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(chaos::E0203))]
    TypeMismatch {
        expected: String,
        found: String,
        #[label("expected {expected}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("`{text}` has no unit, but {expected} needs one")]
    #[diagnostic(code(chaos::E0204))]
    MissingUnit {
        text: String,
        expected: String,
        #[label("unit missing")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("unknown unit `{unit}` for {expected}")]
    #[diagnostic(code(chaos::E0205))]
    UnknownUnit {
        unit: String,
        expected: String,
        #[label("unknown unit")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("`{name}` is not a {enumeration}")]
    #[diagnostic(code(chaos::E0206))]
    UnknownMember {
        name: String,
        enumeration: String,
        #[label("not a {enumeration}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("fault `{fault}` cannot act on {target_kind} target `{target}`")]
    #[diagnostic(code(chaos::E0207))]
    FaultNotApplicable {
        fault: String,
        target: String,
        target_kind: String,
        #[label("a {target_kind} target")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("invalid {what}: {reason}")]
    #[diagnostic(code(chaos::E0208))]
    InvalidValue {
        what: String,
        reason: String,
        #[label("invalid {what}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("template `{template}` has no parameter `{name}`")]
    #[diagnostic(code(chaos::E0212))]
    UnknownTemplateParameter {
        template: String,
        name: String,
        #[label("not a parameter of `{template}`")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("template `{template}` needs an argument for `{name}`")]
    #[diagnostic(code(chaos::E0213))]
    MissingTemplateArgument {
        template: String,
        name: String,
        #[label("`{name}` missing")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("argument `{name}` of template `{template}` expects {expected}, found {found}")]
    #[diagnostic(code(chaos::E0214))]
    TemplateArgumentType {
        template: String,
        name: String,
        expected: String,
        found: String,
        #[label("expected {expected}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("cycle in the {graph} graph: {path}")]
    #[diagnostic(
        code(chaos::E0301),
        help("remove one of the `after` dependencies on this path")
    )]
    Cycle {
        graph: &'static str,
        path: String,
        #[label("part of the cycle")]
        span: SourceSpan,
    },

    #[error(
        "step `{name}` holds its fault until the end of the experiment, so no step can run after it"
    )]
    #[diagnostic(code(chaos::E0302))]
    AfterOpenStep {
        name: String,
        #[label("waits for `{name}`")]
        span: SourceSpan,
        #[label("`{name}` has no `for` duration")]
        step: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("the steps act on {count} targets, more than the blast radius limit of {limit}")]
    #[diagnostic(code(chaos::E0401))]
    BlastRadiusExceeded {
        count: usize,
        limit: u32,
        #[label("{count} targets")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("duration {duration} is above the maximum of 480m")]
    #[diagnostic(
        code(chaos::E0402),
        help("split the experiment into shorter ones; no experiment may run longer than 8 hours")
    )]
    DurationTooLong {
        duration: String,
        #[label("longer than 480m")]
        span: SourceSpan,
    },

    #[error("the steps take {timeline}, longer than the experiment's duration of {duration}")]
    #[diagnostic(code(chaos::E0403))]
    TimelineTooLong {
        timeline: String,
        duration: String,
        #[label("ends after {timeline}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("severity `{severity}` needs an emergency stop and at least one stop condition")]
    #[diagnostic(code(chaos::E0404))]
    EmergencyStopRequired {
        severity: String,
        #[label("severity `{severity}`")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("recovery plan `{plan}` may take {critical_path}, more than its RTO of {rto}")]
    #[diagnostic(code(chaos::E0405))]
    RecoveryOverRto {
        plan: String,
        critical_path: String,
        rto: String,
        #[label("critical path: {path}")]
        span: SourceSpan,
        path: String,
        #[help]
        help: Option<String>,
    },

    #[error("rollback is turned off, but step `{step}` injects a fault")]
    #[diagnostic(
        code(chaos::E0406),
        help("set `rollback = true` in `safety`; chaosc never leaves a fault in place")
    )]
    RollbackDisabled {
        step: String,
        #[label("`rollback = false`")]
        span: SourceSpan,
    },

    #[error("{kind} `{name}` is never used")]
    #[diagnostic(code(chaos::W0001), severity(Warning))]
    Unused {
        kind: &'static str,
        name: String,
        #[label("declared here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("imported file `{path}` not found")]
    #[diagnostic(code(chaos::E0106))]
    ImportNotFound {
        path: String,
        #[label("no such file")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("cannot import `{path}`: {reason}")]
    #[diagnostic(code(chaos::E0109))]
    ImportUnreadable {
        path: String,
        reason: String,
        #[label("imported here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("import cycle: {cycle}")]
    #[diagnostic(
        code(chaos::E0107),
        help("move the shared declarations into a file that imports neither of them")
    )]
    ImportCycle {
        cycle: String,
        #[label("imports a file that imports this one")]
        span: SourceSpan,
    },

    #[error("imported file `{path}` has {count} {errors}")]
    #[diagnostic(code(chaos::E0108))]
    ImportHasErrors {
        path: String,
        count: usize,
        errors: &'static str,
        #[label("imported here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("a secret is written as a literal string")]
    #[diagnostic(code(chaos::E0209))]
    SecretLiteral {
        #[label("secret in the file")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("{what} of {value} is outside (0%, 100%]")]
    #[diagnostic(code(chaos::E0210))]
    ShareOutOfRange {
        what: &'static str,
        value: String,
        #[label("not above 0% and at most 100%")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("invalid JSON path `{path}`: {reason}")]
    #[diagnostic(code(chaos::E0211))]
    InvalidJsonPath {
        path: String,
        reason: String,
        #[label("here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("step `{step}` touches service `{service}`, which the blast radius does not declare")]
    #[diagnostic(code(chaos::E0410))]
    ServiceOutsideBlastRadius {
        step: String,
        service: String,
        #[label("acts on a target of `{service}`")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("fault `{fault}` cannot be undone on target `{target}`")]
    #[diagnostic(code(chaos::E0411))]
    IrreversibleFault {
        fault: String,
        target: String,
        /// The label under the fault: that it needs an opt-in, or that it
        /// cannot act on the target at all.
        reason: &'static str,
        #[label("{reason}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("the pinned policy `{pinned}` differs from the policy in force `{actual}`")]
    #[diagnostic(code(chaos::E0412))]
    PolicyMismatch {
        pinned: String,
        actual: String,
        #[label("pinned here")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("no recovery action covers target `{target}`, which step `{step}` leaves degraded")]
    #[diagnostic(code(chaos::E0413))]
    TargetNotRecovered {
        target: String,
        step: String,
        #[label("degrades `{target}`")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("recovery plan `{plan}` has {what} {value}, above the {limit} of service `{service}`")]
    #[diagnostic(code(chaos::E0414))]
    RecoveryAboveService {
        plan: String,
        what: &'static str,
        value: String,
        limit: String,
        service: String,
        #[label("{what} {value}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("{framework} forbids fault `{fault}` on {data_class} data")]
    #[diagnostic(code(chaos::E0501))]
    ForbiddenFault {
        framework: String,
        fault: String,
        data_class: String,
        #[label("`{fault}` on a service holding {data_class} data")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("{framework} requires approval by `{role}`, which the experiment does not list")]
    #[diagnostic(code(chaos::E0502))]
    ApprovalRoleMissing {
        framework: String,
        role: String,
        #[label("`{role}` missing")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("{framework} requires an audit trail, but the experiment turns it off")]
    #[diagnostic(
        code(chaos::E0503),
        help("remove `audit_trail_required = false` from `compliance`")
    )]
    AuditRequired {
        framework: String,
        #[label("audit trail turned off")]
        span: SourceSpan,
    },

    #[error("the experiment starts at {start}, inside the {framework} blackout window `{window}`")]
    #[diagnostic(code(chaos::E0504))]
    BlackoutWindow {
        framework: String,
        window: String,
        start: String,
        #[label("scheduled in a blackout window")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("{reason}, but `approval_required` is false")]
    #[diagnostic(code(chaos::E0505))]
    ApprovalRequired {
        reason: String,
        #[label("approval turned off")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("{subject} in region `{region}`, where {framework} does not allow {data_class} data")]
    #[diagnostic(code(chaos::E0506))]
    RegionNotAllowed {
        subject: String,
        region: String,
        framework: String,
        data_class: String,
        #[label("not a region for {data_class} data")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error(
        "{subject} has no declared region, but {framework} restricts where {data_class} data may be"
    )]
    #[diagnostic(code(chaos::E0507))]
    RegionUndeclared {
        subject: String,
        framework: String,
        data_class: String,
        #[label("no region declared")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("the selector matches no target")]
    #[diagnostic(code(chaos::E0601))]
    SelectorMatchesNothing {
        #[label("matches nothing")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("the stop condition can never fire: {reason}")]
    #[diagnostic(code(chaos::W0002), severity(Warning))]
    StopNeverFires {
        reason: String,
        #[label("never true")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    #[error("the file declares nothing")]
    #[diagnostic(
        code(chaos::W0003),
        severity(Warning),
        help("declare targets and an `experiment`, or import them with `use`")
    )]
    EmptyFile {
        #[label("empty")]
        span: SourceSpan,
    },
}
