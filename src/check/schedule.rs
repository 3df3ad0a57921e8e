//! The `schedule { ... }` section of an experiment: the time zone, business
//! hours and blackout windows that `chaosc run` enforces on top of the
//! policy's.

use super::schema::{Field, check_properties, check_section_names};
use super::{CheckError, Checker};
use crate::governance::window::{Blackout, BusinessHours, Zone};
use crate::model::{ScheduleSpec, ValueType};
use crate::syntax::{ExperimentDecl, ValueKind};

fn fields() -> Vec<Field> {
    vec![
        Field::optional("zone", ValueType::String),
        Field::optional("business_hours", ValueType::String),
        Field::optional("blackout", ValueType::List(Box::new(ValueType::String))),
    ]
}

impl Checker<'_> {
    /// Checks the schedule section and returns what it declares.
    pub(super) fn check_schedule(&mut self, decl: &ExperimentDecl) -> ScheduleSpec {
        let Some(section) = super::experiment::section(decl, "schedule") else {
            return ScheduleSpec::default();
        };
        check_section_names(&mut self.diagnostics, &section.block.sections, &[]);
        let settings = check_properties(
            &mut self.diagnostics,
            &section.block.properties,
            &fields(),
            "schedule setting",
            section.name.span,
        );
        let spec = ScheduleSpec {
            zone: settings.text("zone").map(str::to_owned),
            business_hours: settings.text("business_hours").map(str::to_owned),
            blackout: settings.texts("blackout"),
        };

        let invalid = |what: &str, reason: String, span: crate::syntax::Span, help: &str| {
            CheckError::InvalidValue {
                what: what.to_owned(),
                reason,
                span: span.into(),
                help: Some(help.to_owned()),
            }
        };
        let mut zone = Zone::Local;
        if let (Some(text), Some(property)) = (&spec.zone, section.block.property("zone")) {
            match Zone::parse(text) {
                Ok(parsed) => zone = parsed,
                Err(reason) => self.report(invalid(
                    "time zone",
                    reason,
                    property.value.span,
                    "write an IANA zone name such as `\"America/New_York\"` or `\"UTC\"`",
                )),
            }
        }
        if let (Some(text), Some(property)) = (
            &spec.business_hours,
            section.block.property("business_hours"),
        ) && let Err(reason) = BusinessHours::parse(text)
        {
            self.report(invalid(
                "business hours",
                reason,
                property.value.span,
                "write days and hours such as `\"Mon-Fri 09:00-17:00\"`",
            ));
        }
        if let Some(property) = section.block.property("blackout")
            && let ValueKind::List(items) = &property.value.kind
        {
            for (text, item) in spec.blackout.iter().zip(items) {
                if let Err(reason) = Blackout::parse(text, &zone, "experiment") {
                    self.report(invalid(
                        "blackout window",
                        reason,
                        item.span,
                        "write `\"12-20..01-05\"` (every year) or \
                         `\"2026-12-20T18:00..2027-01-04T08:00\"` (once)",
                    ));
                }
            }
        }
        spec
    }
}
