//! Converting one activity: a steady-state probe, or the actions of the
//! method and rollbacks plans with the pauses around them.

use super::argv::split_words;
use super::convert::{Converter, PlanBuilder, Section, describe, seconds};
use super::model::{
    Activity, ActivityEntry, ActivityKind, HttpProvider, ProcessArguments, ProcessProvider,
    Provider, Tolerance, ToleranceKind,
};
use super::node::NodeKind;
use super::substitute::Substituted;
use super::tolerance::{NotMapped, Observed, expectations};
use super::writer::{Lines, quote, string_list};
use crate::check::parse_http_url;
use crate::model::HttpMethod;

/// How long chaosc lets a probe sample take when the input gives no timeout.
const DEFAULT_PROBE_SECONDS: f64 = 5.0;

/// How long chaosc lets a recovery action take when the input gives none.
const DEFAULT_ACTION_SECONDS: f64 = 300.0;

/// How many times the steady state is sampled at most: once before the
/// method and up to three times after it.
const STEADY_STATE_SAMPLES: f64 = 4.0;

/// HTTP methods that do not change the server's state (RFC 9110, section
/// 9.2.1). Only these are mapped for actions, because chaosc samples every
/// probe when a run starts, which would send the request an extra time.
const SAFE_METHODS: &[&str] = &["GET", "HEAD", "OPTIONS"];

/// A probe declaration without its name, and its sample timeout.
struct ProbeDecl {
    text: String,
    timeout: f64,
}

impl Converter<'_> {
    /// Converts one entry of the hypothesis, the method or the rollbacks.
    pub fn convert_entry(
        &mut self,
        entry: &ActivityEntry,
        section: Section,
        plan: Option<&mut PlanBuilder>,
    ) {
        let (activity, path) = match entry {
            ActivityEntry::Activity(activity) => (activity.as_ref(), activity.path.clone()),
            ActivityEntry::Ref { name, path, .. } => match self.by_name.get(name) {
                Some(activity) => (*activity, path.clone()),
                // References are checked when the input is read.
                None => return,
            },
        };
        let is_ref = matches!(entry, ActivityEntry::Ref { .. });
        match plan {
            Some(plan) => self.convert_plan_activity(activity, &path, is_ref, plan),
            None if section == Section::SteadyState => {
                let mut lines = std::mem::take(&mut self.steady_state);
                self.convert_steady_probe(activity, &path, is_ref, &mut lines);
                self.steady_state = lines;
            }
            None => {}
        }
    }

    fn convert_steady_probe(
        &mut self,
        activity: &Activity,
        path: &str,
        is_ref: bool,
        lines: &mut Lines,
    ) {
        let element = describe(activity);
        if let Some(controls) = &activity.controls {
            self.unmapped_extra(lines, 2, controls);
        }
        if is_ref && let Some(name) = self.declared_probes.get(&activity.name).cloned() {
            let outcome = format!("the steady-state probe `{name}`, declared once");
            self.note(path, &element, &outcome, true);
            return;
        }
        match self.probe_decl(activity) {
            Ok(decl) => {
                let name = self.probe_names.unique(&activity.name);
                self.budget_seconds += decl.timeout * STEADY_STATE_SAMPLES;
                lines.comment(2, &activity.name);
                lines.line(2, &format!("probe {name} = {}", decl.text));
                self.declared_probes
                    .insert(activity.name.clone(), name.clone());
                self.note(
                    path,
                    &element,
                    &format!("steady-state probe `{name}`"),
                    true,
                );
            }
            Err(not_mapped) => {
                self.unmapped_activity(lines, 2, path, activity, not_mapped);
            }
        }
    }

    /// Declares the probe for a steady-state activity: its provider and its
    /// tolerance as `expect` comparisons.
    fn probe_decl(&mut self, activity: &Activity) -> Result<ProbeDecl, NotMapped> {
        let observed = match &activity.provider {
            Provider::Http(_) => Observed::Http,
            Provider::Process(_) => Observed::Process,
            Provider::Python(python) => {
                return Err(python_reason(&python.module, &python.func).into());
            }
        };
        let expect = match &activity.tolerance {
            Some(tolerance) => {
                let tolerance = self.substitute_tolerance(activity, tolerance)?;
                expectations(&tolerance, observed)?
            }
            None => Vec::new(),
        };
        let decl = match &activity.provider {
            Provider::Http(http) => self.http_probe(activity, http, expect),
            Provider::Process(process) => self.command_probe(activity, process, expect),
            Provider::Python(_) => unreachable!("python providers returned above"),
        };
        Ok(decl?)
    }

    fn http_probe(
        &mut self,
        activity: &Activity,
        http: &HttpProvider,
        mut expect: Vec<String>,
    ) -> Result<ProbeDecl, String> {
        let url = self.substitute(activity, &http.url)?;
        if parse_http_url(&url).is_none() {
            return Err(format!(
                "chaosc HTTP probes reach `http://` URLs with an IP address and port, and `{url}` \
                 is not one"
            ));
        }
        if HttpMethod::from_name(&http.method).is_none() {
            return Err(format!("chaosc HTTP probes cannot send `{}`", http.method));
        }
        let settings = self.http_settings(activity, http)?;
        if let Some(retries) = http.max_retries.filter(|retries| *retries > 0) {
            let reason = format!("the {retries} retries of a failed connection are not made");
            self.approximated(activity, reason);
        }
        if http.verify_tls == Some(false) {
            self.note(
                &format!("{}.provider.verify_tls", activity.path),
                "`verify_tls`",
                "dropped: an `http://` URL uses no TLS",
                true,
            );
        }

        if !expect
            .iter()
            .any(|comparison| comparison.starts_with("status "))
        {
            // The toolkit fails an HTTP activity only when it gets no
            // response, or another status than an older `expected_status`,
            // whatever its tolerance judges. Without this, chaosc would
            // expect a status below 400.
            let status = match http.expected_status {
                Some(status) => format!("status == {status}"),
                None => "status >= 100".to_owned(),
            };
            expect.insert(0, status);
        }
        let timeout = http.timeout.unwrap_or(DEFAULT_PROBE_SECONDS);
        let text = format!(
            "http {} {}{settings} expect {} within {}",
            http.method,
            quote(&url),
            expect.join(" and "),
            seconds(timeout)
        );
        Ok(ProbeDecl { text, timeout })
    }

    /// Writes the headers and body of a request as the probe's
    /// `with { ... }` settings. A header that may hold a credential is not
    /// written: a secret never goes into a scenario in clear.
    fn http_settings(
        &mut self,
        activity: &Activity,
        http: &HttpProvider,
    ) -> Result<String, String> {
        let mut parts = Vec::new();
        if !http.headers.is_empty() {
            let mut headers = Vec::new();
            for (name, value) in &http.headers {
                let lower = name.to_lowercase();
                if super::convert::SENSITIVE_HEADER_WORDS
                    .iter()
                    .any(|word| lower.contains(word))
                {
                    return Err(format!(
                        "header `{name}` may hold a credential, which chaosc never writes into a \
                         scenario"
                    ));
                }
                let value = self.substitute(activity, value)?;
                headers.push(format!("{} = {}", quote(name), quote(&value)));
            }
            parts.push(format!("headers = {{ {} }}", headers.join(", ")));
        }
        if let Some(arguments) = http.arguments.as_ref().filter(|node| !is_empty(&node.kind)) {
            if http.method.eq_ignore_ascii_case("GET") {
                return Err("chaosc HTTP probes cannot send query arguments".to_owned());
            }
            let body = match arguments.to_json() {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            parts.push(format!("body = {}", quote(&body)));
        }
        Ok(if parts.is_empty() {
            String::new()
        } else {
            format!(" with {{ {} }}", parts.join(", "))
        })
    }

    fn command_probe(
        &mut self,
        activity: &Activity,
        process: &ProcessProvider,
        expect: Vec<String>,
    ) -> Result<ProbeDecl, String> {
        let argv = self.argv(activity, process)?;
        let timeout = process.timeout.unwrap_or(DEFAULT_PROBE_SECONDS);
        let mut text = format!("command {}", string_list(&argv));
        if !expect.is_empty() {
            text.push_str(&format!(" expect {}", expect.join(" and ")));
        }
        text.push_str(&format!(" within {}", seconds(timeout)));
        Ok(ProbeDecl { text, timeout })
    }

    /// Builds argv from a process provider, with `${name}` references
    /// resolved.
    fn argv(
        &mut self,
        activity: &Activity,
        process: &ProcessProvider,
    ) -> Result<Vec<String>, String> {
        let mut argv = vec![self.substitute(activity, &process.path)?];
        match &process.arguments {
            ProcessArguments::List(items) => {
                for item in items {
                    argv.push(self.substitute(activity, item)?);
                }
            }
            ProcessArguments::Shell(line) => {
                let line = self.substitute(activity, line)?;
                let words = split_words(&line).ok_or_else(|| {
                    format!(
                        "the arguments `{line}` need a shell, and chaosc runs commands without one"
                    )
                })?;
                argv.extend(words);
            }
        }
        Ok(argv)
    }

    /// Resolves `${name}` references in the pattern of a `regex` tolerance
    /// and the path of a `jsonpath` one, as the toolkit does before it
    /// applies them.
    fn substitute_tolerance(
        &mut self,
        activity: &Activity,
        tolerance: &Tolerance,
    ) -> Result<Tolerance, String> {
        let mut tolerance = tolerance.clone();
        let (text, source) = match &mut tolerance.kind {
            ToleranceKind::Regex {
                pattern,
                pattern_source,
                ..
            } => (pattern, pattern_source),
            ToleranceKind::JsonPath {
                path, path_source, ..
            } => (path, path_source),
            _ => return Ok(tolerance),
        };
        let substituted = self.substitute(activity, text)?;
        if substituted != *text {
            // Offsets in the resolved text no longer match the input.
            *source = source.whole();
            *text = substituted;
        }
        Ok(tolerance)
    }

    /// Resolves `${name}` references, warning when an environment variable's
    /// default was written in its place.
    fn substitute(&mut self, activity: &Activity, text: &str) -> Result<String, String> {
        match self.variables.substitute(text) {
            Substituted::Text { text, defaults } => {
                for variable in defaults {
                    let reason = format!(
                        "the default of the environment variable `{variable}` is written in \
                         place, since chaosc cannot read variables when it runs"
                    );
                    self.approximated(activity, reason);
                }
                Ok(text)
            }
            Substituted::Unresolved { reference, reason } => {
                Err(format!("`{reference}`: {reason}"))
            }
        }
    }

    /// Converts an activity of the method or the rollbacks into actions of
    /// `plan`, with `wait` actions for its pauses.
    fn convert_plan_activity(
        &mut self,
        activity: &Activity,
        path: &str,
        is_ref: bool,
        plan: &mut PlanBuilder,
    ) {
        let element = describe(activity);
        let mut lines = std::mem::take(&mut plan.lines);
        if let Some(controls) = &activity.controls {
            self.unmapped_extra(&mut lines, 2, controls);
        }
        let action = match self.action_text(activity, is_ref) {
            Ok(action) => action,
            Err(not_mapped) => {
                self.unmapped_activity(&mut lines, 2, path, activity, not_mapped);
                plan.lines = lines;
                return;
            }
        };

        // A background activity starts after the one before it, but the
        // next one does not wait for it; the plan still ends only when it
        // has ended, as the toolkit waits for background activities too.
        let mut tail = plan.tail.clone();
        if let Some(pause) = activity.pause_before {
            let name = plan
                .names
                .unique(&format!("pause before {}", activity.name));
            add_action(
                &mut lines,
                &name,
                &format!("wait {}", seconds(pause)),
                &tail,
                None,
            );
            self.budget_seconds += pause;
            plan.action_count += 1;
            tail = Some(name);
        }
        let name = plan.names.unique(&activity.name);
        lines.comment(
            2,
            &format!("{}{}", element, if is_ref { " (ref)" } else { "" }),
        );
        add_action(&mut lines, &name, &action.text, &tail, Some(action.timeout));
        self.budget_seconds += action.timeout;
        plan.action_count += 1;
        tail = Some(name.clone());
        if let Some(pause) = activity.pause_after {
            let pause_name = plan.names.unique(&format!("pause after {}", activity.name));
            add_action(
                &mut lines,
                &pause_name,
                &format!("wait {}", seconds(pause)),
                &tail,
                None,
            );
            self.budget_seconds += pause;
            plan.action_count += 1;
            tail = Some(pause_name);
        }
        if !activity.background {
            plan.tail = tail;
        }
        plan.lines = lines;

        let background = if activity.background {
            ", in the background"
        } else {
            ""
        };
        self.note(
            path,
            &element,
            &format!("action `{name}`{background}"),
            true,
        );
    }

    /// Returns the text of the action that runs `activity`, declaring the
    /// probe it samples when it needs one.
    fn action_text(&mut self, activity: &Activity, is_ref: bool) -> Result<ActionText, NotMapped> {
        match &activity.provider {
            Provider::Python(python) => Err(python_reason(&python.module, &python.func).into()),
            Provider::Http(http) => {
                let is_safe = SAFE_METHODS.contains(&http.method.as_str());
                if activity.kind == ActivityKind::Action && !is_safe {
                    return Err(NotMapped::Reason(format!(
                        "chaosc has no HTTP action, and a probe may send its `{}` request more \
                         than once",
                        http.method
                    )));
                }
                self.probe_action(activity, is_ref)
            }
            Provider::Process(process) => {
                let exit = match &activity.tolerance {
                    None => None,
                    Some(tolerance) => match tolerance.kind {
                        super::model::ToleranceKind::Integer(code) => Some(code),
                        _ => return self.probe_action(activity, is_ref),
                    },
                };
                let argv = self.argv(activity, process)?;
                let mut text = format!("command {}", string_list(&argv));
                if let Some(code) = exit.filter(|code| *code != 0) {
                    text.push_str(&format!(" {code}"));
                }
                let timeout = process.timeout.unwrap_or(DEFAULT_ACTION_SECONDS);
                Ok(ActionText { text, timeout })
            }
        }
    }

    /// Declares a probe for `activity` (or reuses the one declared for it)
    /// and returns the action that samples it once.
    fn probe_action(&mut self, activity: &Activity, is_ref: bool) -> Result<ActionText, NotMapped> {
        let existing = self.declared_probes.get(&activity.name).cloned();
        let (name, timeout) = match existing {
            Some(name) if is_ref => {
                let timeout = probe_timeout(activity);
                (name, timeout)
            }
            _ => {
                let decl = self.probe_decl(activity)?;
                let name = self.probe_names.unique(&activity.name);
                // An interval longer than the action's timeout makes the
                // action sample once, as the toolkit runs an activity once.
                let text = format!("{} every {}", decl.text, seconds(decl.timeout + 1.0));
                self.probes.comment(1, &describe(activity));
                self.probes.line(1, &format!("probe {name} = {text}"));
                self.declared_probes
                    .insert(activity.name.clone(), name.clone());
                (name, decl.timeout)
            }
        };
        Ok(ActionText {
            text: format!("probe {name}"),
            timeout: timeout + 1.0,
        })
    }
}

/// An action's kind and arguments, and its timeout in seconds.
struct ActionText {
    text: String,
    timeout: f64,
}

fn add_action(
    lines: &mut Lines,
    name: &str,
    text: &str,
    after: &Option<String>,
    timeout: Option<f64>,
) {
    let mut line = format!("action {name} = {text}");
    if let Some(timeout) = timeout {
        line.push_str(&format!(" timeout {}", seconds(timeout)));
    }
    if let Some(after) = after {
        line.push_str(&format!(" after {after}"));
    }
    lines.line(2, &line);
}

fn probe_timeout(activity: &Activity) -> f64 {
    match &activity.provider {
        Provider::Http(http) => http.timeout,
        Provider::Process(process) => process.timeout,
        Provider::Python(_) => None,
    }
    .unwrap_or(DEFAULT_PROBE_SECONDS)
}

fn python_reason(module: &str, func: &str) -> String {
    format!("the `python` provider calls `{module}.{func}`, and chaosc cannot run Python functions")
}

fn is_empty(kind: &NodeKind) -> bool {
    match kind {
        NodeKind::Null => true,
        NodeKind::String(text) => text.is_empty(),
        NodeKind::Array(items) => items.is_empty(),
        NodeKind::Object(entries) => entries.is_empty(),
        _ => false,
    }
}
