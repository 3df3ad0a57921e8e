//! Checking fault definitions, the entries of the fault catalog.

use super::CheckError;
use super::schema::{Field, check_properties};
use super::stdlib::{FaultDef, ParamDef};
use super::types::type_value;
use crate::model::{Category, FailureMode, Privilege, TargetKind, ValueType};
use crate::syntax::FaultDecl;

/// The settings a fault definition holds.
fn fields() -> Vec<Field> {
    let kinds = ValueType::enumeration("target kind", TargetKind::ALL, TargetKind::name);
    vec![
        Field::required("applies_to", ValueType::List(Box::new(kinds))),
        Field::required(
            "mode",
            ValueType::enumeration("failure mode", FailureMode::ALL, FailureMode::name),
        ),
        Field::required(
            "category",
            ValueType::enumeration("category", Category::ALL, Category::name),
        ),
        Field::required(
            "privilege",
            ValueType::enumeration("privilege", Privilege::ALL, Privilege::name),
        ),
    ]
}

/// Checks a `fault` declaration and returns its catalog entry.
pub fn check_fault_decl(diagnostics: &mut Vec<CheckError>, decl: &FaultDecl) -> Option<FaultDef> {
    let before = diagnostics.len();
    let mut params: Vec<ParamDef> = Vec::new();
    for param in &decl.params {
        if params.iter().any(|known| known.name == param.name.name) {
            let first = decl
                .params
                .iter()
                .find(|p| p.name.name == param.name.name)
                .unwrap();
            diagnostics.push(CheckError::Duplicate {
                kind: "parameter",
                name: param.name.name.clone(),
                span: param.name.span.into(),
                first: first.name.span.into(),
            });
            continue;
        }
        let Some(base) = ValueType::from_name(&param.ty.name.name) else {
            diagnostics.push(CheckError::UnknownName {
                kind: "type",
                name: param.ty.name.name.clone(),
                span: param.ty.name.span.into(),
                help: Some(
                    "types are duration, percent, int, number, string, bool, signal, address, \
                     size, bandwidth, rate, money, path, labels, direction and method"
                        .to_owned(),
                ),
            });
            continue;
        };
        let ty = if param.ty.is_list {
            ValueType::List(Box::new(base))
        } else {
            base
        };
        let default = match &param.default {
            Some(value) => match type_value(value, &ty) {
                Ok(typed) => Some(typed),
                Err(error) => {
                    diagnostics.push(error);
                    continue;
                }
            },
            None => None,
        };
        params.push(ParamDef {
            name: param.name.name.clone(),
            ty,
            default,
        });
    }

    let settings = check_properties(
        diagnostics,
        &decl.block.properties,
        &fields(),
        "fault setting",
        decl.name.span,
    );
    if diagnostics.len() > before {
        return None;
    }

    Some(FaultDef {
        name: decl.name.name.clone(),
        params,
        applies_to: settings
            .texts("applies_to")
            .iter()
            .filter_map(|kind| TargetKind::from_name(kind))
            .collect(),
        mode: FailureMode::from_name(settings.text("mode")?)?,
        category: Category::from_name(settings.text("category")?)?,
        privilege: Privilege::from_name(settings.text("privilege")?)?,
        doc: decl.doc.clone(),
    })
}
