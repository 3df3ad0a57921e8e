//! Checking probes and the conditions written over their results.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use super::CheckError;
use super::schema::{Field, check_properties, check_section_names, known_names_help};
use super::types::type_value;
use crate::model::{
    AlertStatus, Comparison, Condition, Expectation, HttpMethod, HttpRequest, LabelMatchOp,
    LabelMatcher, Operand, Probe, ProbeField, ProbeKind, ProbeMeasure, ProcessRef, RunMeasure,
    SeriesSelector, TypedValue, ValueType,
};
use crate::syntax::{self, CompareOp, ProbeDecl, Span, Value, ValueKind};

/// How long one probe sample may take when the file does not say.
const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How often probes are sampled during a run when the file does not say.
const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// The probes declared in an experiment and which of them are referenced.
#[derive(Default)]
pub struct ProbeScope {
    pub declared: BTreeMap<String, Span>,
    pub used: BTreeSet<String>,
}

/// Checks every probe of an experiment.
pub fn check_probes(
    diagnostics: &mut Vec<CheckError>,
    decls: &[ProbeDecl],
    scope: &mut ProbeScope,
) -> Vec<Probe> {
    let mut probes = Vec::new();
    for decl in decls {
        if let Some(first) = scope.declared.get(&decl.name.name) {
            diagnostics.push(CheckError::Duplicate {
                kind: "probe",
                name: decl.name.name.clone(),
                span: decl.name.span.into(),
                first: (*first).into(),
            });
            continue;
        }
        scope
            .declared
            .insert(decl.name.name.clone(), decl.name.span);
        if let Some(probe) = check_probe(diagnostics, decl) {
            probes.push(probe);
        }
    }
    probes
}

fn check_probe(diagnostics: &mut Vec<CheckError>, decl: &ProbeDecl) -> Option<Probe> {
    let before = diagnostics.len();
    let kind = match decl.kind.name.as_str() {
        "http" => check_http_args(diagnostics, decl),
        "tcp" => {
            let address = single_arg(diagnostics, decl, &ValueType::Address, "an address")?;
            let TypedValue::Address(address) = address else {
                return None;
            };
            Some(ProbeKind::Tcp { address })
        }
        "command" => check_command_args(diagnostics, decl),
        "process" => check_process_args(diagnostics, decl),
        "metric" => check_metric_args(diagnostics, decl),
        "promql" => check_promql_args(diagnostics, decl),
        other => {
            diagnostics.push(CheckError::UnknownName {
                kind: "probe kind",
                name: other.to_owned(),
                span: decl.kind.span.into(),
                help: Some(known_names_help(other, PROBE_KINDS)),
            });
            None
        }
    }?;
    if !matches!(kind, ProbeKind::Http { .. })
        && let Some(settings) = &decl.settings
    {
        diagnostics.push(CheckError::InvalidValue {
            what: "`with` block".to_owned(),
            reason: format!("a `{}` probe takes no settings", kind.name()),
            span: settings.span.into(),
            help: Some(
                "only `http` probes take `with { headers = {...}, body = \"...\" }`".to_owned(),
            ),
        });
    }

    let expectations = decl
        .expectations
        .iter()
        .filter_map(|tolerance| check_expectation(diagnostics, &kind, tolerance))
        .collect();
    let timeout = optional_duration(diagnostics, decl.within.as_ref(), DEFAULT_PROBE_TIMEOUT);
    let interval = optional_duration(diagnostics, decl.every.as_ref(), DEFAULT_PROBE_INTERVAL);

    (diagnostics.len() == before).then(|| Probe {
        name: decl.name.name.clone(),
        kind,
        expectations,
        timeout,
        interval,
        is_steady_state: decl.is_steady_state,
    })
}

/// The kinds of probe, as written.
const PROBE_KINDS: [&str; 6] = ["http", "tcp", "command", "process", "metric", "promql"];

fn check_command_args(diagnostics: &mut Vec<CheckError>, decl: &ProbeDecl) -> Option<ProbeKind> {
    let argv_type = ValueType::List(Box::new(ValueType::String));
    let argv = single_arg(
        diagnostics,
        decl,
        &argv_type,
        "a command as a list of strings",
    )?;
    let argv: Vec<String> = match argv {
        TypedValue::List(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => return None,
    };
    if argv.is_empty() {
        diagnostics.push(CheckError::InvalidValue {
            what: "command".to_owned(),
            reason: "it is empty".to_owned(),
            span: decl.args[0].span.into(),
            help: Some("name the program to run, as in `[\"curl\", \"-f\", URL]`".to_owned()),
        });
        return None;
    }
    Some(ProbeKind::Command { argv })
}

/// `process web` (a process target) or `process "/run/app.pid"`.
fn check_process_args(diagnostics: &mut Vec<CheckError>, decl: &ProbeDecl) -> Option<ProbeKind> {
    let expected = "a process target or a pid file, as in `process web` or \
                    `process \"/run/app.pid\"`";
    let [arg] = decl.args.as_slice() else {
        diagnostics.push(arity_error(decl, expected));
        return None;
    };
    let process = match &arg.kind {
        ValueKind::Name(path) if path.len() == 1 => ProcessRef::Target(path[0].name.clone()),
        ValueKind::String(path) => ProcessRef::PidFile(path.into()),
        _ => {
            diagnostics.push(arity_error(decl, expected));
            return None;
        }
    };
    Some(ProbeKind::Process { process })
}

/// `metric "http://127.0.0.1:9100/metrics" "name{label=\"value\"}"`.
fn check_metric_args(diagnostics: &mut Vec<CheckError>, decl: &ProbeDecl) -> Option<ProbeKind> {
    let [url, selector] = decl.args.as_slice() else {
        diagnostics.push(arity_error(
            decl,
            "the URL of a Prometheus endpoint and a series selector, as in \
             `\"http://127.0.0.1:9100/metrics\" \"up{job=\\\"api\\\"}\"`",
        ));
        return None;
    };
    let url = http_url(diagnostics, url)?;
    let text = string_arg(diagnostics, selector)?;
    match parse_selector(&text) {
        Ok(selector) => Some(ProbeKind::Metric { url, selector }),
        Err(reason) => {
            diagnostics.push(CheckError::InvalidValue {
                what: "series selector".to_owned(),
                reason,
                span: decl.args[1].span.into(),
                help: Some(
                    "write a metric name and optional matchers, as in \
                     `http_requests_total{code=\"500\", path=~\"/api/.*\"}`"
                        .to_owned(),
                ),
            });
            None
        }
    }
}

/// `promql "http://127.0.0.1:9090" "sum(rate(errors_total[1m]))"`.
fn check_promql_args(diagnostics: &mut Vec<CheckError>, decl: &ProbeDecl) -> Option<ProbeKind> {
    let [server, query] = decl.args.as_slice() else {
        diagnostics.push(arity_error(
            decl,
            "the URL of a Prometheus server and a query, as in \
             `\"http://127.0.0.1:9090\" \"sum(up)\"`",
        ));
        return None;
    };
    let server = http_url(diagnostics, server)?;
    let query = string_arg(diagnostics, query)?;
    if query.trim().is_empty() {
        diagnostics.push(CheckError::InvalidValue {
            what: "PromQL query".to_owned(),
            reason: "it is empty".to_owned(),
            span: decl.args[1].span.into(),
            help: Some("write a query that returns one number, such as `sum(up)`".to_owned()),
        });
        return None;
    }
    Some(ProbeKind::Promql {
        server: server.trim_end_matches('/').to_owned(),
        query,
    })
}

fn string_arg(diagnostics: &mut Vec<CheckError>, value: &Value) -> Option<String> {
    let typed = type_value(value, &ValueType::String)
        .map_err(|error| diagnostics.push(error))
        .ok()?;
    typed.as_str().map(str::to_owned)
}

/// Types a string that must be an `http://IP:PORT/...` URL.
fn http_url(diagnostics: &mut Vec<CheckError>, value: &Value) -> Option<String> {
    let text = string_arg(diagnostics, value)?;
    if parse_http_url(&text).is_none() {
        diagnostics.push(CheckError::InvalidValue {
            what: "URL".to_owned(),
            reason: format!("`{text}` is not an `http://` URL with an IP address and port"),
            span: value.span.into(),
            help: Some("write a URL such as `http://127.0.0.1:8080/health`".to_owned()),
        });
        return None;
    }
    Some(text)
}

/// Parses a Prometheus series selector such as `up{job="api",code!="200"}`.
pub fn parse_selector(text: &str) -> Result<SeriesSelector, String> {
    let text = text.trim();
    let (metric, rest) = match text.find('{') {
        Some(brace) => (text[..brace].trim(), Some(&text[brace + 1..])),
        None => (text, None),
    };
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    if metric.is_empty()
        || metric.starts_with(|c: char| c.is_ascii_digit())
        || !metric.chars().all(is_name_char)
    {
        return Err(format!("`{metric}` is not a metric name"));
    }
    let mut matchers = Vec::new();
    if let Some(rest) = rest {
        let body = rest
            .trim_end()
            .strip_suffix('}')
            .ok_or_else(|| "the `{` is never closed".to_owned())?;
        let mut chars = body.trim().chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
                chars.next();
            }
            if chars.peek().is_none() {
                break;
            }
            matchers.push(parse_matcher(&mut chars)?);
        }
    }
    Ok(SeriesSelector {
        metric: metric.to_owned(),
        matchers,
    })
}

fn parse_matcher(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<LabelMatcher, String> {
    let mut label = String::new();
    while let Some(&c) = chars.peek() {
        if !(c.is_ascii_alphanumeric() || c == '_') {
            break;
        }
        label.push(c);
        chars.next();
    }
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
    let mut op = String::new();
    while let Some(&c) = chars.peek() {
        if !matches!(c, '=' | '!' | '~') {
            break;
        }
        op.push(c);
        chars.next();
    }
    let op = match op.as_str() {
        "=" => LabelMatchOp::Equal,
        "!=" => LabelMatchOp::NotEqual,
        "=~" => LabelMatchOp::Matches,
        "!~" => LabelMatchOp::NotMatches,
        _ if label.is_empty() => return Err("a label name is missing".to_owned()),
        other => {
            return Err(format!(
                "`{other}` after `{label}` is not `=`, `!=`, `=~` or `!~`"
            ));
        }
    };
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
    if chars.next() != Some('"') {
        return Err(format!(
            "the value of `{label}` is not a double-quoted string"
        ));
    }
    let mut value = String::new();
    loop {
        match chars.next() {
            None => return Err(format!("the value of `{label}` is never closed")),
            Some('"') => break,
            Some('\\') => match chars.next() {
                Some('n') => value.push('\n'),
                Some(other) => value.push(other),
                None => return Err(format!("the value of `{label}` is never closed")),
            },
            Some(other) => value.push(other),
        }
    }
    let pattern = match op {
        LabelMatchOp::Matches | LabelMatchOp::NotMatches => Some(
            regex::Regex::new(&format!("^(?:{value})$"))
                .map_err(|error| format!("the pattern of `{label}` is invalid: {error}"))?,
        ),
        _ => None,
    };
    Ok(LabelMatcher {
        label,
        op,
        value,
        pattern,
    })
}

fn check_http_args(diagnostics: &mut Vec<CheckError>, decl: &ProbeDecl) -> Option<ProbeKind> {
    let (method, url) = match decl.args.as_slice() {
        [url] => (HttpMethod::Get, url),
        [method, url] => {
            let method_type =
                ValueType::enumeration("HTTP method", HttpMethod::ALL, HttpMethod::name);
            let typed = type_value(method, &method_type)
                .map_err(|e| diagnostics.push(e))
                .ok()?;
            (HttpMethod::from_name(typed.as_str()?)?, url)
        }
        _ => {
            diagnostics.push(arity_error(
                decl,
                "an optional method and a URL, as in `GET \"http://127.0.0.1:8080/\"`",
            ));
            return None;
        }
    };
    let url_text = type_value(url, &ValueType::String)
        .map_err(|e| diagnostics.push(e))
        .ok()?;
    let url_text = url_text.as_str()?.to_owned();
    if parse_http_url(&url_text).is_none() {
        diagnostics.push(CheckError::InvalidValue {
            what: "URL".to_owned(),
            reason: format!("`{url_text}` is not an `http://` URL with an IP address and port"),
            span: url.span.into(),
            help: Some("write a URL such as `http://127.0.0.1:8080/health`".to_owned()),
        });
        return None;
    }
    let request = match &decl.settings {
        Some(block) => check_http_request(diagnostics, block)?,
        None => HttpRequest::default(),
    };
    Some(ProbeKind::Http {
        method,
        url: url_text,
        request,
    })
}

/// Checks the `with { headers = {...}, body = "..." }` of an HTTP probe.
fn check_http_request(
    diagnostics: &mut Vec<CheckError>,
    block: &syntax::Block,
) -> Option<HttpRequest> {
    let before = diagnostics.len();
    check_section_names(diagnostics, &block.sections, &[]);
    let fields = [
        Field::optional("headers", ValueType::StringMap),
        Field::optional("body", ValueType::String),
    ];
    let settings = check_properties(
        diagnostics,
        &block.properties,
        &fields,
        "HTTP probe setting",
        block.span,
    );
    let headers = match settings.get("headers") {
        Some(TypedValue::StringMap(map)) => map.clone().into_iter().collect(),
        _ => Vec::new(),
    };
    for (name, value) in &headers {
        let valid_name =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        if !valid_name || value.contains(['\r', '\n']) {
            diagnostics.push(CheckError::InvalidValue {
                what: format!("header `{name}`"),
                reason: "a header name must be printable ASCII without `:`, and a value must \
                         not hold a line break"
                    .to_owned(),
                span: block.span.into(),
                help: Some(
                    "write headers such as `headers = { accept = \"text/plain\" }`".to_owned(),
                ),
            });
        }
    }
    (diagnostics.len() == before).then(|| HttpRequest {
        headers,
        body: settings.text("body").map(str::to_owned),
    })
}

/// Splits an `http://IP:PORT/path` URL into its address and path.
pub fn parse_http_url(url: &str) -> Option<(SocketAddr, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let authority = authority.replace("localhost", "127.0.0.1");
    let address = authority
        .parse()
        .ok()
        .or_else(|| format!("{authority}:80").parse().ok())?;
    Some((address, path.to_owned()))
}

fn single_arg(
    diagnostics: &mut Vec<CheckError>,
    decl: &ProbeDecl,
    ty: &ValueType,
    expected: &str,
) -> Option<TypedValue> {
    let [arg] = decl.args.as_slice() else {
        diagnostics.push(arity_error(decl, expected));
        return None;
    };
    type_value(arg, ty)
        .map_err(|error| diagnostics.push(error))
        .ok()
}

fn arity_error(decl: &ProbeDecl, expected: &str) -> CheckError {
    CheckError::InvalidValue {
        what: format!("`{}` probe", decl.kind.name),
        reason: format!("it has {} arguments", decl.args.len()),
        span: decl.kind.span.into(),
        help: Some(format!("a `{}` probe takes {expected}", decl.kind.name)),
    }
}

fn check_expectation(
    diagnostics: &mut Vec<CheckError>,
    kind: &ProbeKind,
    tolerance: &syntax::Tolerance,
) -> Option<Expectation> {
    let value_field = [
        (ProbeField::Value, ValueType::Number),
        (ProbeField::Latency, ValueType::Duration),
    ];
    let allowed: &[(ProbeField, ValueType)] = match kind {
        ProbeKind::Process { .. } => &[(ProbeField::Latency, ValueType::Duration)],
        ProbeKind::Metric { .. } | ProbeKind::Promql { .. } => &value_field,
        // `json` is typed by its path, so its type here is never used.
        ProbeKind::Http { .. } => &[
            (ProbeField::Status, ValueType::Integer),
            (ProbeField::Latency, ValueType::Duration),
            (ProbeField::Body, ValueType::String),
            (ProbeField::Json, ValueType::String),
            (ProbeField::JsonCount, ValueType::Integer),
        ],
        ProbeKind::Tcp { .. } => &[(ProbeField::Latency, ValueType::Duration)],
        ProbeKind::Command { .. } => &[
            (ProbeField::Exit, ValueType::Integer),
            (ProbeField::Output, ValueType::String),
            (ProbeField::Latency, ValueType::Duration),
            (ProbeField::Json, ValueType::String),
            (ProbeField::JsonCount, ValueType::Integer),
        ],
    };
    let name = tolerance.field.name.as_str();
    let Some((field, ty)) = allowed.iter().find(|(field, _)| field.name() == name) else {
        let known = allowed.iter().map(|(field, _)| field.name());
        diagnostics.push(CheckError::UnknownField {
            kind: "probe field",
            name: name.to_owned(),
            span: tolerance.field.span.into(),
            help: Some(known_names_help(name, known)),
        });
        return None;
    };
    if matches!(field, ProbeField::Json | ProbeField::JsonCount) {
        return super::json_fields::check_json_expectation(diagnostics, *field, tolerance);
    }
    if let Some(argument) = &tolerance.argument {
        diagnostics.push(CheckError::InvalidValue {
            what: format!("`{name}`"),
            reason: "this field takes no argument".to_owned(),
            span: argument.span.into(),
            help: Some(
                "only `json` and `json_count` take an argument, a JSON path; remove the \
                 parentheses"
                    .to_owned(),
            ),
        });
        return None;
    }
    if tolerance.regex {
        return check_pattern(diagnostics, *field, tolerance);
    }
    let value = if *field == ProbeField::Value {
        TypedValue::Number(super::monitoring::threshold_value(
            diagnostics,
            &tolerance.value,
        )?)
    } else {
        type_value(&tolerance.value, ty)
            .map_err(|error| diagnostics.push(error))
            .ok()?
    };
    Some(Expectation {
        field: *field,
        op: tolerance.op,
        value,
        pattern: None,
        json_path: None,
    })
}

/// Checks `FIELD =~ "pattern"`, allowed on the text a probe reads.
fn check_pattern(
    diagnostics: &mut Vec<CheckError>,
    field: ProbeField,
    tolerance: &syntax::Tolerance,
) -> Option<Expectation> {
    if !matches!(field, ProbeField::Body | ProbeField::Output) {
        diagnostics.push(CheckError::InvalidValue {
            what: format!("`{}`", field.name()),
            reason: "`=~` matches text, and this field is a number".to_owned(),
            span: tolerance.span.into(),
            help: Some(
                "use `=~` on `body` or `output`, and `==`, `<` or `in A..B` here".to_owned(),
            ),
        });
        return None;
    }
    let pattern = compile_pattern(diagnostics, &tolerance.value)?;
    Some(Expectation {
        field,
        op: CompareOp::Eq,
        value: TypedValue::String(pattern.as_str().to_owned()),
        pattern: Some(pattern),
        json_path: None,
    })
}

/// Compiles the regular expression of `=~`, written as a string.
pub(super) fn compile_pattern(
    diagnostics: &mut Vec<CheckError>,
    value: &Value,
) -> Option<regex::Regex> {
    let text = type_value(value, &ValueType::String)
        .map_err(|error| diagnostics.push(error))
        .ok()?;
    let text = text.as_str()?;
    regex::Regex::new(text)
        .map_err(|error| {
            diagnostics.push(CheckError::InvalidValue {
                what: "regular expression".to_owned(),
                reason: error.to_string(),
                span: value.span.into(),
                help: Some(
                    "write the pattern in the syntax of the `regex` crate, such as `\"^ok\"`"
                        .to_owned(),
                ),
            });
        })
        .ok()
}

fn optional_duration(
    diagnostics: &mut Vec<CheckError>,
    value: Option<&Value>,
    default: Duration,
) -> Duration {
    let Some(value) = value else { return default };
    match type_value(value, &ValueType::Duration) {
        Ok(TypedValue::Duration(duration)) if !duration.is_zero() => duration,
        Ok(_) => {
            diagnostics.push(CheckError::InvalidValue {
                what: "duration".to_owned(),
                reason: "it is zero".to_owned(),
                span: value.span.into(),
                help: Some("write a duration above zero, such as `1s`".to_owned()),
            });
            default
        }
        Err(error) => {
            diagnostics.push(error);
            default
        }
    }
}

/// Warns about probes outside the steady state that nothing refers to.
pub fn report_unused(diagnostics: &mut Vec<CheckError>, decls: &[ProbeDecl], scope: &ProbeScope) {
    for decl in decls {
        if !decl.is_steady_state && !scope.used.contains(&decl.name.name) {
            diagnostics.push(CheckError::Unused {
                kind: "probe",
                name: decl.name.name.clone(),
                span: decl.name.span.into(),
                help: Some(
                    "refer to it in `stop when`, `success` or a recovery action, or move it into \
                     `steady_state`"
                        .to_owned(),
                ),
            });
        }
    }
}

/// Checks a stop or success condition.
pub fn check_condition(
    diagnostics: &mut Vec<CheckError>,
    condition: &syntax::Condition,
    scope: &mut ProbeScope,
    source: &str,
) -> Option<Condition> {
    let before = diagnostics.len();
    let mut any_of = Vec::new();
    for group in &condition.any_of {
        let mut all_of = Vec::new();
        for comparison in group {
            if let Some(checked) = check_comparison(diagnostics, comparison, scope) {
                all_of.push(checked);
            }
        }
        any_of.push(all_of);
    }
    let text = source
        .get(condition.span.start..condition.span.end)
        .unwrap_or("")
        .trim()
        .to_owned();
    (diagnostics.len() == before).then_some(Condition { any_of, text })
}

fn check_comparison(
    diagnostics: &mut Vec<CheckError>,
    comparison: &syntax::Comparison,
    scope: &mut ProbeScope,
) -> Option<Comparison> {
    if let ValueKind::Name(path) = &comparison.left.kind
        && path.len() == 2
        && path[0].name == "alert"
    {
        return check_alert_state(diagnostics, comparison, &path[1]);
    }
    let left = measure_of(diagnostics, &comparison.left, scope);
    let right = measure_of(diagnostics, &comparison.right, scope);
    let window = match &comparison.window {
        Some(value) => Some(
            type_value(value, &ValueType::Duration)
                .map_err(|error| diagnostics.push(error))
                .ok()?
                .as_duration()?,
        ),
        None => None,
    };

    let (left, right) = match (left, right) {
        (Some(Err(())), _) | (_, Some(Err(()))) => return None,
        (Some(Ok(left)), Some(Ok(right))) => (left.0, right.0),
        (Some(Ok((left, ty))), None) => (left, constant(diagnostics, &comparison.right, &ty)?),
        (None, Some(Ok((right, ty)))) => (constant(diagnostics, &comparison.left, &ty)?, right),
        (None, None) => {
            diagnostics.push(CheckError::InvalidValue {
                what: "condition".to_owned(),
                reason: "it compares two constants".to_owned(),
                span: comparison.span.into(),
                help: Some("compare a measure such as `health.failures` with a value".to_owned()),
            });
            return None;
        }
    };
    Some(Comparison {
        left,
        op: comparison.op,
        right,
        window,
    })
}

/// Resolves a name such as `health.failures` or `recovery_time` into a
/// measure and the type its constants take. `None` means the value is not a
/// name; `Some(Err(()))` means it is a name that failed to resolve.
#[allow(clippy::type_complexity)]
fn measure_of(
    diagnostics: &mut Vec<CheckError>,
    value: &Value,
    scope: &mut ProbeScope,
) -> Option<Result<(Operand, ValueType), ()>> {
    let ValueKind::Name(path) = &value.kind else {
        return None;
    };
    let result = match path.as_slice() {
        [name] => match name.name.as_str() {
            "recovery_time" => Ok((Operand::Run(RunMeasure::RecoveryTime), ValueType::Duration)),
            "elapsed" => Ok((Operand::Run(RunMeasure::Elapsed), ValueType::Duration)),
            other => {
                let known = ["recovery_time", "elapsed"];
                diagnostics.push(CheckError::UnknownName {
                    kind: "measure",
                    name: other.to_owned(),
                    span: name.span.into(),
                    help: Some(format!(
                        "{}; probe measures are written `PROBE.MEASURE`, as in `health.failures`",
                        known_names_help(other, known)
                    )),
                });
                Err(())
            }
        },
        [probe, measure] => probe_measure(diagnostics, probe, measure, scope),
        _ => {
            diagnostics.push(CheckError::InvalidValue {
                what: "measure".to_owned(),
                reason: "it has more than two parts".to_owned(),
                span: value.span.into(),
                help: Some("write `PROBE.MEASURE`, as in `health.failures`".to_owned()),
            });
            Err(())
        }
    };
    Some(result)
}

fn probe_measure(
    diagnostics: &mut Vec<CheckError>,
    probe: &syntax::Ident,
    measure: &syntax::Ident,
    scope: &mut ProbeScope,
) -> Result<(Operand, ValueType), ()> {
    if !scope.declared.contains_key(&probe.name) {
        let known = scope.declared.keys().map(String::as_str);
        diagnostics.push(CheckError::UnknownName {
            kind: "probe",
            name: probe.name.clone(),
            span: probe.span.into(),
            help: Some(known_names_help(&probe.name, known)),
        });
        return Err(());
    }
    scope.used.insert(probe.name.clone());
    let kind = measure_kind(diagnostics, measure).ok_or(())?;
    Ok((
        Operand::Probe {
            probe: probe.name.clone(),
            measure: kind,
        },
        measure_type(kind),
    ))
}

/// Resolves the name of a probe measure, reporting an unknown one.
pub(super) fn measure_kind(
    diagnostics: &mut Vec<CheckError>,
    measure: &syntax::Ident,
) -> Option<ProbeMeasure> {
    let kind = ProbeMeasure::from_name(&measure.name);
    if kind.is_none() {
        let known = ProbeMeasure::ALL.iter().map(|(name, _)| *name);
        diagnostics.push(CheckError::UnknownName {
            kind: "probe measure",
            name: measure.name.clone(),
            span: measure.span.into(),
            help: Some(known_names_help(&measure.name, known)),
        });
    }
    kind
}

/// Returns the type of the constants a probe measure is compared with.
pub(super) fn measure_type(kind: ProbeMeasure) -> ValueType {
    match kind {
        ProbeMeasure::Samples
        | ProbeMeasure::Successes
        | ProbeMeasure::Failures
        | ProbeMeasure::ConsecutiveFailures => ValueType::Integer,
        ProbeMeasure::SuccessRate | ProbeMeasure::FailureRate => ValueType::Percent,
        ProbeMeasure::LatencyP50 | ProbeMeasure::LatencyP99 | ProbeMeasure::LatencyMax => {
            ValueType::Duration
        }
        ProbeMeasure::Value
        | ProbeMeasure::ValueMin
        | ProbeMeasure::ValueMax
        | ProbeMeasure::ValueAvg
        | ProbeMeasure::ValueP50
        | ProbeMeasure::ValueP99 => ValueType::Number,
    }
}

/// Checks `alert.RULE STATE`, which the parser wrote as `alert.RULE ==
/// STATE`. Whether the rule is watched by the experiment is checked with the
/// experiment's monitoring settings.
fn check_alert_state(
    diagnostics: &mut Vec<CheckError>,
    comparison: &syntax::Comparison,
    rule: &syntax::Ident,
) -> Option<Comparison> {
    let ValueKind::Name(state) = &comparison.right.kind else {
        return None;
    };
    let name = state[0].name.as_str();
    // `firing` is the word alerting tools use for an active alert.
    let state = match name {
        "firing" => Some(AlertStatus::Active),
        other => AlertStatus::from_name(other),
    };
    let Some(state) = state else {
        let known = ["firing"]
            .into_iter()
            .chain(AlertStatus::ALL.iter().map(|s| s.name()));
        diagnostics.push(CheckError::UnknownName {
            kind: "alert state",
            name: name.to_owned(),
            span: comparison.right.span.into(),
            help: Some(known_names_help(name, known)),
        });
        return None;
    };
    Some(Comparison {
        left: Operand::Alert {
            rule: rule.name.clone(),
            state,
        },
        op: CompareOp::Eq,
        right: Operand::Constant(1.0),
        window: None,
    })
}

fn constant(diagnostics: &mut Vec<CheckError>, value: &Value, ty: &ValueType) -> Option<Operand> {
    let typed = type_value(value, ty)
        .map_err(|error| diagnostics.push(error))
        .ok()?;
    typed.as_number().map(Operand::Constant)
}
