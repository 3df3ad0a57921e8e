//! Checking target and service declarations.

use std::path::PathBuf;
use std::time::Duration;

use super::CheckError;
use super::schema::{Field, check_properties, check_section_names, known_names_help};
use crate::model::{
    Attach, LaunchSpec, ProxySpec, Target, TargetKind, TargetSpec, TypedValue, ValueType,
};
use crate::syntax::TargetDecl;

/// How long a launched target may take to accept connections on `ready`
/// when the file does not say.
const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(10);

fn process_fields() -> Vec<Field> {
    vec![
        Field::optional("command", ValueType::List(Box::new(ValueType::String))),
        Field::optional("pid_file", ValueType::Path),
        Field::optional("pid", ValueType::Integer),
        Field::optional("name", ValueType::String),
        Field::optional("env", ValueType::StringMap),
        Field::optional("cwd", ValueType::Path),
        Field::optional("labels", ValueType::StringMap),
        Field::optional("ready", ValueType::Address),
        Field::optional("ready_timeout", ValueType::Duration),
        Field::optional("service", ValueType::String),
        Field::optional("region", ValueType::String),
    ]
}

fn proxy_fields() -> Vec<Field> {
    vec![
        Field::required("listen", ValueType::Address),
        Field::required("upstream", ValueType::Address),
        Field::optional("labels", ValueType::StringMap),
        Field::optional("service", ValueType::String),
        Field::optional("region", ValueType::String),
    ]
}

/// Checks a target declaration and builds its model.
pub fn check_target(diagnostics: &mut Vec<CheckError>, decl: &TargetDecl) -> Option<Target> {
    let before = diagnostics.len();
    let Some(kind) = TargetKind::from_name(&decl.kind.name) else {
        let known = TargetKind::ALL.iter().map(|kind| kind.name());
        diagnostics.push(CheckError::UnknownName {
            kind: "target kind",
            name: decl.kind.name.clone(),
            span: decl.kind.span.into(),
            help: Some(known_names_help(&decl.kind.name, known)),
        });
        return None;
    };
    check_section_names(diagnostics, &decl.block.sections, &[]);

    let kind_label = match kind {
        TargetKind::Process => "process setting",
        TargetKind::Proxy => "proxy setting",
        TargetKind::File => "file setting",
        TargetKind::Directory => "directory setting",
        TargetKind::Interface => "interface setting",
    };
    let fields = match kind {
        TargetKind::Process => process_fields(),
        TargetKind::Proxy => proxy_fields(),
        TargetKind::File | TargetKind::Directory | TargetKind::Interface => {
            super::host_targets::fields(kind)
        }
    };
    let settings = check_properties(
        diagnostics,
        &decl.block.properties,
        &fields,
        kind_label,
        decl.name.span,
    );
    let labels = settings.map("labels");

    let spec = match kind {
        TargetKind::Proxy => {
            let address = |name| match settings.get(name) {
                Some(TypedValue::Address(address)) => Some(*address),
                _ => None,
            };
            TargetSpec::Proxy(ProxySpec {
                listen: address("listen")?,
                upstream: address("upstream")?,
            })
        }
        TargetKind::Process => process_spec(diagnostics, decl, &settings)?,
        TargetKind::File | TargetKind::Directory | TargetKind::Interface => {
            super::host_targets::spec(diagnostics, decl, kind, &settings)?
        }
    };

    let region = check_region(diagnostics, &decl.block, &settings);
    (diagnostics.len() == before).then(|| Target {
        name: decl.name.name.clone(),
        service: settings.text("service").map(str::to_owned),
        region,
        labels,
        spec,
    })
}

fn process_spec(
    diagnostics: &mut Vec<CheckError>,
    decl: &TargetDecl,
    settings: &super::schema::Settings,
) -> Option<TargetSpec> {
    let command = settings.texts("command");
    let command_property = decl.block.property("command");
    // The ways to find the process: launch it, or attach by one of these.
    let ways: Vec<&str> = ["command", "pid_file", "pid", "name"]
        .into_iter()
        .filter(|name| decl.block.property(name).is_some())
        .collect();
    let attach = match ways.as_slice() {
        [_, second, ..] => {
            let span = decl.block.property(second).unwrap().key.span;
            diagnostics.push(CheckError::InvalidValue {
                what: "process target".to_owned(),
                reason: format!("it has both `{}` and `{second}`", ways[0]),
                span: span.into(),
                help: Some(
                    "keep `command` to let chaosc launch it, or one of `pid_file`, `pid` and \
                     `name` to attach to a running process"
                        .to_owned(),
                ),
            });
            return None;
        }
        [] => {
            diagnostics.push(CheckError::MissingField {
                kind: "process setting",
                name: "command".to_owned(),
                span: decl.name.span.into(),
                help: Some(
                    "add `command = [\"program\", \"arg\"]` to launch it, or `pid_file = \"...\"`, \
                     `pid = 1234` or `name = \"nginx\"` to attach to a running process"
                        .to_owned(),
                ),
            });
            return None;
        }
        ["pid_file"] => settings
            .text("pid_file")
            .map(|path| Attach::PidFile(PathBuf::from(path))),
        ["pid"] => {
            let pid = settings.integer("pid", 0);
            match u32::try_from(pid) {
                Ok(pid) if pid > 1 => Some(Attach::Pid(pid)),
                _ => {
                    let span = decl.block.property("pid").unwrap().value.span;
                    diagnostics.push(CheckError::InvalidValue {
                        what: "pid".to_owned(),
                        reason: format!("{pid} is not the pid of a process chaosc may act on"),
                        span: span.into(),
                        help: Some("write the pid of the running process, above 1".to_owned()),
                    });
                    return None;
                }
            }
        }
        ["name"] => settings
            .text("name")
            .map(|name| Attach::Name(name.to_owned())),
        _ => None,
    };
    if let Some(attach) = attach {
        return Some(TargetSpec::Attached(attach));
    }
    match command_property {
        None => None,
        Some(property) => {
            if command.is_empty() {
                diagnostics.push(CheckError::InvalidValue {
                    what: "command".to_owned(),
                    reason: "it is empty".to_owned(),
                    span: property.value.span.into(),
                    help: Some(
                        "name the program to run, as in `[\"python3\", \"app.py\"]`".to_owned(),
                    ),
                });
                return None;
            }
            let ready = match settings.get("ready") {
                Some(TypedValue::Address(address)) => Some(*address),
                _ => None,
            };
            Some(TargetSpec::Launched(LaunchSpec {
                command,
                env: settings.map("env"),
                cwd: settings.text("cwd").map(PathBuf::from),
                ready,
                ready_timeout: settings.duration("ready_timeout", DEFAULT_READY_TIMEOUT),
            }))
        }
    }
}

/// Reads the `region` setting of a target or service, reporting a value that
/// is not a region name.
pub fn check_region(
    diagnostics: &mut Vec<CheckError>,
    block: &crate::syntax::Block,
    settings: &super::schema::Settings,
) -> Option<String> {
    let region = settings.text("region")?;
    if super::sovereignty::is_region(region) {
        return Some(region.to_owned());
    }
    let span = block
        .property("region")
        .map_or(block.span, |property| property.value.span);
    diagnostics.push(CheckError::InvalidValue {
        what: "region".to_owned(),
        reason: format!("`{region}` is not a region name"),
        span: span.into(),
        help: Some(
            "write the region's name in lowercase letters, digits and `-`, such as \
             `\"eu-west-1\"`"
                .to_owned(),
        ),
    });
    None
}
