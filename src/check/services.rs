//! Checking the service catalog: tier, data classes, business impact and
//! recovery objectives of each service.

use super::CheckError;
use super::schema::{Field, check_properties, check_section_names};
use crate::model::{DataClass, Service, ServiceTier, TypedValue, ValueType};
use crate::syntax::ServiceDecl;

fn fields() -> Vec<Field> {
    let data_class = ValueType::enumeration("data class", DataClass::ALL, DataClass::name);
    vec![
        Field::optional(
            "tier",
            ValueType::enumeration("tier", ServiceTier::ALL, ServiceTier::name),
        ),
        Field::optional("revenue_per_minute", ValueType::Money),
        Field::optional("customers", ValueType::Integer),
        Field::optional("data", ValueType::List(Box::new(data_class))),
        Field::optional("mtd", ValueType::Duration),
        Field::optional("rto", ValueType::Duration),
        Field::optional("rpo", ValueType::Duration),
        Field::optional("owner", ValueType::String),
        Field::optional("description", ValueType::String),
        Field::optional("region", ValueType::String),
    ]
}

/// Checks a service declaration and builds its catalog entry.
pub fn check_service(diagnostics: &mut Vec<CheckError>, decl: &ServiceDecl) -> Option<Service> {
    let before = diagnostics.len();
    check_section_names(diagnostics, &decl.block.sections, &[]);
    let settings = check_properties(
        diagnostics,
        &decl.block.properties,
        &fields(),
        "service setting",
        decl.name.span,
    );

    let duration = |name| settings.get(name).and_then(TypedValue::as_duration);
    let service = Service {
        name: decl.name.name.clone(),
        tier: settings.text("tier").and_then(ServiceTier::from_name),
        data: settings
            .texts("data")
            .iter()
            .filter_map(|name| DataClass::from_name(name))
            .collect(),
        revenue_per_minute: match settings.get("revenue_per_minute") {
            Some(TypedValue::Money { amount, currency }) => Some((*amount, currency.clone())),
            _ => None,
        },
        customers: match settings.get("customers") {
            Some(TypedValue::Integer(count)) => Some(*count),
            _ => None,
        },
        mtd: duration("mtd"),
        rto: duration("rto"),
        rpo: duration("rpo"),
        owner: settings.text("owner").map(str::to_owned),
        region: super::targets::check_region(diagnostics, &decl.block, &settings),
    };

    // An RTO longer than the maximum tolerable downtime can never be met.
    if let (Some(rto), Some(mtd)) = (service.rto, service.mtd)
        && rto > mtd
        && let Some(property) = decl.block.property("rto")
    {
        diagnostics.push(CheckError::InvalidValue {
            what: "RTO".to_owned(),
            reason: "it is longer than the service's maximum tolerable downtime (`mtd`)".to_owned(),
            span: property.value.span.into(),
            help: Some("lower `rto` to at most `mtd`".to_owned()),
        });
    }
    (diagnostics.len() == before).then_some(service)
}
