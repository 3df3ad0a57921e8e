//! Blast-radius rules: how many targets the steps touch, and which
//! services.

use super::experiment::distinct;
use super::{CheckError, Checker};
use crate::model::{BlastRadius, Step};
use crate::syntax::{ExperimentDecl, ValueKind};

impl Checker<'_> {
    pub(super) fn check_blast_radius_limit(
        &mut self,
        decl: &ExperimentDecl,
        steps: &[Step],
        limit: u32,
    ) {
        let touched = distinct(steps.iter().flat_map(|step| step.targets.iter()));
        if touched.len() <= limit as usize {
            return;
        }
        let span = decl
            .block
            .sections
            .iter()
            .find(|section| section.name.name == "blast_radius")
            .and_then(|section| section.block.property("limit"))
            .map_or(decl.name.span, |property| property.value.span);
        self.report(CheckError::BlastRadiusExceeded {
            count: touched.len(),
            limit,
            span: span.into(),
            help: Some(format!(
                "the steps act on {}; raise `limit` in `blast_radius` or select fewer targets",
                touched
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        });
    }

    /// Reports services of `blast_radius.services` that are not declared, and
    /// steps that touch a service the list leaves out.
    pub(super) fn check_services_touched(
        &mut self,
        decl: &ExperimentDecl,
        steps: &[Step],
        blast_radius: &BlastRadius,
    ) {
        let section = super::experiment::section(decl, "blast_radius");
        let property = section.and_then(|section| section.block.property("services"));
        if let Some(property) = property
            && let ValueKind::List(items) = &property.value.kind
        {
            for item in items {
                let ValueKind::Name(path) = &item.kind else {
                    continue;
                };
                let name = &path[0].name;
                if self.model.service(name).is_none() {
                    let known = self
                        .model
                        .services
                        .iter()
                        .map(|service| service.name.as_str());
                    self.report(CheckError::UnknownName {
                        kind: "service",
                        name: name.clone(),
                        span: item.span.into(),
                        help: Some(super::schema::known_names_help(name, known)),
                    });
                }
            }
        }

        for (step, step_decl) in steps.iter().zip(&decl.steps) {
            let services: Vec<String> = step
                .targets
                .iter()
                .filter_map(|target| self.target(target)?.service.clone())
                .collect();
            for service in distinct(&services) {
                if blast_radius.services.contains(&service) {
                    continue;
                }
                self.report(CheckError::ServiceOutsideBlastRadius {
                    step: step.name.clone(),
                    service: service.clone(),
                    span: step_decl.name.span.into(),
                    help: Some(format!(
                        "add `{service}` to `services` in `blast_radius`, or select targets of \
                         the declared services"
                    )),
                });
            }
        }
    }
}
