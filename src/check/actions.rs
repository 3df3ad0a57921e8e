//! Checking the kind and arguments of each recovery action.

use super::probes::ProbeScope;
use super::schema::known_names_help;
use super::{CheckError, Checker};
use crate::model::{ActionKind, Probe, TypedValue, ValueType};
use crate::syntax::{ActionDecl, Value};

/// The maximum number of instances `scale` may run: a recovery plan restores
/// a service, it does not multiply it on the host.
const MAX_REPLICAS: i64 = 64;

/// The kinds of recovery action.
pub const ACTION_KINDS: &[&str] = &[
    "restart",
    "redeploy",
    "scale",
    "restore",
    "switch_traffic",
    "shed_load",
    "circuit_breaker",
    "command",
    "probe",
    "wait",
];

impl Checker<'_> {
    pub(super) fn check_action_kind(
        &mut self,
        decl: &ActionDecl,
        probes: &[Probe],
        probe_scope: &mut ProbeScope,
    ) -> Option<ActionKind> {
        let arity = |checker: &mut Self, expected: &str| {
            checker.report(CheckError::InvalidValue {
                what: format!("`{}` action", decl.kind.name),
                reason: format!("it has {} arguments", decl.args.len()),
                span: decl.kind.span.into(),
                help: Some(format!("a `{}` action takes {expected}", decl.kind.name)),
            });
        };
        match (decl.kind.name.as_str(), decl.args.as_slice()) {
            ("restart", [value]) => Some(ActionKind::Restart {
                target: self.target_argument(value)?,
            }),
            ("redeploy", [value]) => Some(ActionKind::Redeploy {
                target: self.target_argument(value)?,
                command: None,
                env: std::collections::BTreeMap::new(),
            }),
            ("redeploy", [value, changes]) => {
                let target = self.target_argument(value);
                let (command, env) = self.redeploy_changes(changes)?;
                Some(ActionKind::Redeploy {
                    target: target?,
                    command,
                    env,
                })
            }
            ("scale", [target, replicas]) => {
                let target = self.target_argument(target);
                let replicas = match self.typed(replicas, &ValueType::Integer)? {
                    TypedValue::Integer(count) if (0..=MAX_REPLICAS).contains(&count) => count,
                    TypedValue::Integer(count) => {
                        let reason = if count < 0 {
                            "it is negative".to_owned()
                        } else {
                            format!("{count} is more than {MAX_REPLICAS}")
                        };
                        self.report(CheckError::InvalidValue {
                            what: "replica count".to_owned(),
                            reason,
                            span: replicas.span.into(),
                            help: Some(format!("scale to between 0 and {MAX_REPLICAS} instances")),
                        });
                        return None;
                    }
                    _ => return None,
                };
                Some(ActionKind::Scale {
                    target: target?,
                    replicas,
                })
            }
            ("restore", [target, rest @ ..]) if rest.len() <= 1 => {
                let target = self.target_argument(target);
                let from = match rest.first() {
                    Some(from) => Some(self.typed(from, &ValueType::Path)?.as_str()?.to_owned()),
                    None => None,
                };
                Some(ActionKind::Restore {
                    target: target?,
                    from,
                })
            }
            ("switch_traffic", [target, upstream]) => {
                let target = self.proxy_argument(target);
                let TypedValue::Address(upstream) = self.typed(upstream, &ValueType::Address)?
                else {
                    return None;
                };
                Some(ActionKind::SwitchTraffic {
                    target: target?,
                    upstream,
                })
            }
            ("probe", [value]) => {
                let name = self.name_argument(value, "probe")?;
                if !probes.iter().any(|probe| probe.name == name) {
                    if !probe_scope.declared.contains_key(&name) {
                        let known = probe_scope.declared.keys().map(String::as_str);
                        self.report(CheckError::UnknownName {
                            kind: "probe",
                            name: name.clone(),
                            span: value.span.into(),
                            help: Some(known_names_help(&name, known)),
                        });
                    }
                    return None;
                }
                probe_scope.used.insert(name.clone());
                Some(ActionKind::Probe { probe: name })
            }
            ("command", [argv, rest @ ..]) if rest.len() <= 1 => {
                let argv_type = ValueType::List(Box::new(ValueType::String));
                let TypedValue::List(items) = self.typed(argv, &argv_type)? else {
                    return None;
                };
                let argv: Vec<String> = items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned))
                    .collect();
                if argv.is_empty() {
                    arity(
                        self,
                        "a non-empty command such as `[\"systemctl\", \"restart\", \"app\"]`",
                    );
                    return None;
                }
                let expect_exit = match rest.first() {
                    Some(value) => match self.typed(value, &ValueType::Integer)? {
                        TypedValue::Integer(code) => code as i32,
                        _ => return None,
                    },
                    None => 0,
                };
                Some(ActionKind::Command { argv, expect_exit })
            }
            ("wait", [value]) => {
                let duration = self.typed(value, &ValueType::Duration)?.as_duration()?;
                Some(ActionKind::Wait { duration })
            }
            ("shed_load", [target, share, hold]) => {
                let target = self.proxy_argument(target);
                let share = match self.typed(share, &ValueType::Percent)? {
                    TypedValue::Percent(share) => share,
                    _ => return None,
                };
                let hold = self.typed(hold, &ValueType::Duration)?.as_duration()?;
                Some(ActionKind::ShedLoad {
                    target: target?,
                    share,
                    hold,
                })
            }
            ("circuit_breaker", [target, failures, cooldown]) => {
                let target = self.proxy_argument(target);
                let failures = match self.typed(failures, &ValueType::Integer)? {
                    TypedValue::Integer(count) if count >= 1 => count as u32,
                    _ => {
                        self.report(CheckError::InvalidValue {
                            what: "failure count".to_owned(),
                            reason: "it is below 1".to_owned(),
                            span: failures.span.into(),
                            help: Some("trip the breaker after one failure or more".to_owned()),
                        });
                        return None;
                    }
                };
                let cooldown = self.typed(cooldown, &ValueType::Duration)?.as_duration()?;
                Some(ActionKind::CircuitBreaker {
                    target: target?,
                    failures,
                    cooldown,
                })
            }
            ("shed_load", _) => {
                arity(
                    self,
                    "a proxy target, a share and a duration, as in `shed_load front 50% 30s`",
                );
                None
            }
            ("circuit_breaker", _) => {
                arity(
                    self,
                    "a proxy target, a failure count and a cooldown, as in `circuit_breaker front 5 10s`",
                );
                None
            }
            ("restart", _) => {
                arity(self, "a target name");
                None
            }
            ("redeploy", _) => {
                arity(
                    self,
                    "a target name and optional changes, as in `redeploy api { env = { VERSION = \"2\" } }`",
                );
                None
            }
            ("scale", _) => {
                arity(
                    self,
                    "a target name and a replica count, as in `scale api 3`",
                );
                None
            }
            ("restore", _) => {
                arity(
                    self,
                    "a file target and an optional backup path, as in `restore db` or `restore db \"/backups/db\"`",
                );
                None
            }
            ("switch_traffic", _) => {
                arity(
                    self,
                    "a proxy target and an address, as in `switch_traffic front 127.0.0.1:9001`",
                );
                None
            }
            ("probe", _) => {
                arity(self, "a probe name");
                None
            }
            ("command", _) => {
                arity(self, "a command and an optional expected exit code");
                None
            }
            ("wait", _) => {
                arity(self, "a duration");
                None
            }
            (other, _) => {
                self.report(CheckError::UnknownName {
                    kind: "action kind",
                    name: other.to_owned(),
                    span: decl.kind.span.into(),
                    help: Some(known_names_help(other, ACTION_KINDS.iter().copied())),
                });
                None
            }
        }
    }

    /// Reads a bare name argument such as the target of `restart`.
    fn name_argument(&mut self, value: &Value, kind: &'static str) -> Option<String> {
        match &value.kind {
            crate::syntax::ValueKind::Name(path) if path.len() == 1 => Some(path[0].name.clone()),
            other => {
                self.report(CheckError::TypeMismatch {
                    expected: format!("a {kind} name"),
                    found: other.describe(),
                    span: value.span.into(),
                    help: None,
                });
                None
            }
        }
    }

    /// Reads a target name argument and checks that the target exists.
    /// Reads the `{ command = [...], env = { ... } }` of a redeploy: a new
    /// command line, and variables added to the environment.
    #[allow(clippy::type_complexity)]
    fn redeploy_changes(
        &mut self,
        value: &Value,
    ) -> Option<(
        Option<Vec<String>>,
        std::collections::BTreeMap<String, String>,
    )> {
        let crate::syntax::ValueKind::Map(entries) = &value.kind else {
            self.report(CheckError::TypeMismatch {
                expected: "a map such as `{ env = { VERSION = \"2\" } }`".to_owned(),
                found: value.kind.describe(),
                span: value.span.into(),
                help: None,
            });
            return None;
        };
        let mut command = None;
        let mut env = std::collections::BTreeMap::new();
        for entry in entries {
            match entry.key.as_str() {
                "command" => {
                    let list = ValueType::List(Box::new(ValueType::String));
                    let TypedValue::List(items) = self.typed(&entry.value, &list)? else {
                        return None;
                    };
                    let argv: Vec<String> = items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect();
                    if argv.is_empty() {
                        self.report(CheckError::InvalidValue {
                            what: "command".to_owned(),
                            reason: "it is empty".to_owned(),
                            span: entry.value.span.into(),
                            help: Some("name the program to run".to_owned()),
                        });
                        return None;
                    }
                    command = Some(argv);
                }
                "env" => {
                    let TypedValue::StringMap(map) =
                        self.typed(&entry.value, &ValueType::StringMap)?
                    else {
                        return None;
                    };
                    env = map;
                }
                other => {
                    self.report(CheckError::UnknownField {
                        kind: "redeploy change",
                        name: other.to_owned(),
                        span: entry.key_span.into(),
                        help: Some(known_names_help(other, ["command", "env"])),
                    });
                    return None;
                }
            }
        }
        Some((command, env))
    }

    /// Reads a target argument that must name a proxy target.
    fn proxy_argument(&mut self, value: &Value) -> Option<String> {
        let name = self.target_argument(value)?;
        let kind = self
            .model
            .targets
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.kind());
        if let Some(kind) = kind.filter(|kind| *kind != crate::model::TargetKind::Proxy) {
            self.report(CheckError::InvalidValue {
                what: "traffic action".to_owned(),
                reason: format!("`{name}` is a {} target, not a proxy", kind.name()),
                span: value.span.into(),
                help: Some(
                    "traffic actions act on the chaosc proxy in front of a service".to_owned(),
                ),
            });
            return None;
        }
        Some(name)
    }

    fn target_argument(&mut self, value: &Value) -> Option<String> {
        let name = self.name_argument(value, "target")?;
        if !self.has_target(&name) {
            let known = self.model.targets.iter().map(|target| target.name.as_str());
            self.report(CheckError::UnknownName {
                kind: "target",
                name: name.clone(),
                span: value.span.into(),
                help: Some(known_names_help(&name, known)),
            });
            return None;
        }
        self.used_targets.insert(name.clone());
        Some(name)
    }
}
