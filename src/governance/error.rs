//! The errors of governance: the policy file, approvals, time windows,
//! target locks and the audit trail. Codes run from `E1000` to `E1099`.

use miette::Diagnostic;
use thiserror::Error;

/// A governance rule that forbids an action, or a policy that cannot be read.
#[derive(Debug, Error, Diagnostic)]
pub enum GovernanceError {
    #[error("cannot read the policy file `{path}`: {reason}")]
    #[diagnostic(
        code(chaos::E1000),
        help(
            "check the path given with `--policy`, or remove `policy.toml` from the state directory"
        )
    )]
    PolicyUnreadable { path: String, reason: String },

    #[error("invalid policy file `{path}`: {reason}")]
    #[diagnostic(
        code(chaos::E1001),
        help("compare it with `stdlib/policy.toml`, which lists every key and its meaning")
    )]
    PolicyInvalid { path: String, reason: String },

    #[error("experiment `{experiment}` is missing approvals for {missing}")]
    #[diagnostic(code(chaos::E1002))]
    ApprovalsMissing {
        experiment: String,
        missing: String,
        #[help]
        help: String,
    },

    #[error("role `{role}` is not required by experiment `{experiment}`")]
    #[diagnostic(code(chaos::E1003))]
    RoleNotRequired {
        role: String,
        experiment: String,
        #[help]
        help: String,
    },

    #[error("`{approver}` is not among the approvers of experiment `{experiment}`")]
    #[diagnostic(
        code(chaos::E1004),
        help(
            "the experiment's `compliance {{ approvers = [...] }}` lists who may approve: {allowed}"
        )
    )]
    ApproverNotAllowed {
        approver: String,
        experiment: String,
        allowed: String,
    },

    #[error("an approval needs the approver's name")]
    #[diagnostic(code(chaos::E1005), help("pass `--as NAME`, the person who approves"))]
    ApproverMissing,

    #[error("`--now` is not allowed by the policy in force")]
    #[diagnostic(
        code(chaos::E1010),
        help(
            "set `allow_clock_override = true` in a local policy file, for tests and drills only"
        )
    )]
    ClockOverrideForbidden,

    #[error("invalid time `{text}`: {reason}")]
    #[diagnostic(
        code(chaos::E1011),
        help("write an RFC 3339 time such as `2026-03-02T10:00:00+01:00`")
    )]
    InvalidTime { text: String, reason: String },

    #[error(
        "experiment `{experiment}` cannot start during the blackout window `{window}` of the {source_name}"
    )]
    #[diagnostic(code(chaos::E1012))]
    InBlackout {
        experiment: String,
        window: String,
        source_name: String,
        #[help]
        help: String,
    },

    #[error(
        "experiment `{experiment}` may run only in business hours ({hours}, {zone}), and it is {now}"
    )]
    #[diagnostic(code(chaos::E1013))]
    OutsideBusinessHours {
        experiment: String,
        hours: String,
        zone: String,
        now: String,
        #[help]
        help: String,
    },

    #[error("invalid {what} `{text}`: {reason}")]
    #[diagnostic(code(chaos::E1014))]
    InvalidWindow {
        what: &'static str,
        text: String,
        reason: String,
    },

    #[error("target `{target}` ({key}) is in use by run `{run_id}` (pid {pid}) since {since}")]
    #[diagnostic(
        code(chaos::E1020),
        help("wait until that run ends; two experiments on one target would confound each other")
    )]
    TargetLocked {
        target: String,
        key: String,
        run_id: String,
        pid: u32,
        since: String,
    },

    #[error("the audit trail is broken at record {sequence}: {reason}")]
    #[diagnostic(
        code(chaos::E1030),
        help("the store was changed outside chaosc; keep a copy of it and investigate")
    )]
    AuditChainBroken { sequence: i64, reason: String },

    #[error("unknown compliance framework `{name}`")]
    #[diagnostic(code(chaos::E1031), help("the frameworks are {known}"))]
    UnknownFramework { name: String, known: String },

    #[error("invalid date `{text}`")]
    #[diagnostic(
        code(chaos::E1032),
        help("write a date such as `2026-01-31`, or an RFC 3339 time")
    )]
    InvalidDate { text: String },
}
