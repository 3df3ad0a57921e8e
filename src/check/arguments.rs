//! Rules on fault arguments and targets that the catalog's types cannot
//! express. The offset of a `time_skew` must be observable through a clock
//! with whole seconds, and its targets must have a `ready` address to read
//! that clock from. The HTTP faults respond only with statuses that match
//! the failure they inject. A `slicer` waits between slices, or nothing
//! could tell its slices apart.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{CheckError, Checker};
use crate::model::{TargetSpec, TypedValue};
use crate::syntax::{FaultCall, StepDecl};

/// The smallest offset `time_skew` accepts. The target's clock is read from
/// the `Date` header of HTTP responses, which has whole seconds, so a shift
/// between two readings is known within 3s plus the time both requests
/// took (see `docs/runtime.md`). A smaller offset could hardly be
/// distinguished from an unshifted clock.
pub const MIN_TIME_SKEW: Duration = Duration::from_secs(5);

/// The smallest delay between the slices of a `slicer`. Slices sent closer
/// together arrived in one read in the verification, so the fault could not
/// be observed.
const MIN_SLICE_DELAY: Duration = Duration::from_millis(1);

/// Tells why `offset` cannot be the offset of a `time_skew`, if it cannot.
pub fn time_skew_offset_problem(offset: Duration) -> Option<String> {
    if offset < MIN_TIME_SKEW {
        return Some(format!(
            "it is below {}s, the smallest shift chaosc can observe",
            MIN_TIME_SKEW.as_secs()
        ));
    }
    if offset.subsec_nanos() != 0 {
        return Some("it is not a whole number of seconds".to_owned());
    }
    None
}

/// Returns why `status` is invalid as the response status of the HTTP
/// fault `kind`, if it is: `http_error` responds with a client or server
/// error (400 to 599), `auth_failure` with 401 or 403.
pub fn http_status_problem(kind: &str, status: i64) -> Option<String> {
    match kind {
        "http_error" if !(400..=599).contains(&status) => {
            Some(format!("{status} is not an error status (400 to 599)"))
        }
        "auth_failure" if status != 401 && status != 403 => {
            Some(format!("`auth_failure` answers 401 or 403, not {status}"))
        }
        _ => None,
    }
}

impl Checker<'_> {
    /// Checks the arguments and targets of a step against the rules of its
    /// fault kind.
    pub(super) fn check_fault_rules(
        &mut self,
        decl: &StepDecl,
        params: Option<&BTreeMap<String, TypedValue>>,
        targets: Option<&[String]>,
    ) {
        match decl.fault.name.name.as_str() {
            "time_skew" => self.check_time_skew(decl, params, targets),
            kind @ ("http_error" | "auth_failure") => self.check_http_status(decl, kind, params),
            "slicer" => self.check_slicer_delay(decl, params),
            _ => {}
        }
    }

    fn check_http_status(
        &mut self,
        decl: &StepDecl,
        kind: &str,
        params: Option<&BTreeMap<String, TypedValue>>,
    ) {
        let Some(TypedValue::Integer(status)) = params.and_then(|params| params.get("status"))
        else {
            return;
        };
        if let Some(problem) = http_status_problem(kind, *status) {
            self.report(CheckError::InvalidValue {
                what: "HTTP status".to_owned(),
                reason: problem,
                span: argument_span(&decl.fault, "status", 0).into(),
                help: Some(match kind {
                    "auth_failure" => "write `status = 401` or `status = 403`".to_owned(),
                    _ => "write a status such as `503` or `429`; `http_abort` closes the \
                          connection without an answer"
                        .to_owned(),
                }),
            });
        }
    }

    fn check_slicer_delay(
        &mut self,
        decl: &StepDecl,
        params: Option<&BTreeMap<String, TypedValue>>,
    ) {
        let delay = params
            .and_then(|params| params.get("delay"))
            .and_then(TypedValue::as_duration);
        if delay.is_some_and(|delay| delay < MIN_SLICE_DELAY) {
            self.report(CheckError::InvalidValue {
                what: "slice delay".to_owned(),
                reason: "slices sent less than 1ms apart reach the peer as one read, so chaosc \
                         could not observe the fault"
                    .to_owned(),
                span: argument_span(&decl.fault, "delay", 2).into(),
                help: Some("write a delay of at least 1ms, such as `delay = 1ms`".to_owned()),
            });
        }
    }

    fn check_time_skew(
        &mut self,
        decl: &StepDecl,
        params: Option<&BTreeMap<String, TypedValue>>,
        targets: Option<&[String]>,
    ) {
        let offset = params
            .and_then(|params| params.get("offset"))
            .and_then(TypedValue::as_duration);
        if let Some(problem) = offset.and_then(time_skew_offset_problem) {
            let span = argument_span(&decl.fault, "offset", 0);
            self.report(CheckError::InvalidValue {
                what: "clock offset".to_owned(),
                reason: problem,
                span: span.into(),
                help: Some(format!(
                    "write a whole number of seconds of at least {}s, such as `30s` or `1h`",
                    MIN_TIME_SKEW.as_secs()
                )),
            });
        }
        for name in targets.unwrap_or_default() {
            let lacks_ready = self.target(name).is_some_and(
                |t| matches!(&t.spec, TargetSpec::Launched(spec) if spec.ready.is_none()),
            );
            if lacks_ready {
                self.report(CheckError::MissingField {
                    kind: "setting",
                    name: "ready".to_owned(),
                    span: decl.fault.name.span.into(),
                    help: Some(format!(
                        "`time_skew` reads the clock of `{name}` from the `Date` header of an \
                         HTTP response on its `ready` address; add `ready = ADDRESS` to `{name}`"
                    )),
                });
            }
        }
    }
}

/// Returns the span of the argument for parameter `name`, given by name or
/// at `position`, or the span of the whole call when it is not given.
fn argument_span(call: &FaultCall, name: &str, position: usize) -> crate::syntax::Span {
    let named = call
        .args
        .iter()
        .find(|argument| argument.name.as_ref().is_some_and(|n| n.name == name));
    let positional = call
        .args
        .get(position)
        .filter(|argument| argument.name.is_none());
    named
        .or(positional)
        .map_or(call.span, |argument| argument.value.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_status_ranges() {
        assert_eq!(http_status_problem("http_error", 503), None);
        assert_eq!(http_status_problem("http_error", 400), None);
        assert_eq!(http_status_problem("auth_failure", 403), None);
        assert!(http_status_problem("http_error", 0).is_some());
        assert!(http_status_problem("http_error", 200).is_some());
        assert!(http_status_problem("http_error", 600).is_some());
        assert!(http_status_problem("auth_failure", 500).is_some());
    }

    #[test]
    fn time_skew_offsets() {
        assert_eq!(time_skew_offset_problem(Duration::from_secs(5)), None);
        assert_eq!(time_skew_offset_problem(Duration::from_secs(3600)), None);
        assert_eq!(
            time_skew_offset_problem(Duration::from_secs(4)),
            Some("it is below 5s, the smallest shift chaosc can observe".to_owned())
        );
        assert_eq!(
            time_skew_offset_problem(Duration::from_millis(5500)),
            Some("it is not a whole number of seconds".to_owned())
        );
    }
}
