//! Business impact: what the worst case of an experiment could cost, from
//! the service catalog (revenue per minute, customers, data classes and
//! recovery objectives of each service it touches).
//!
//! The worst case is every touched service down for the longest the run
//! can hold a fault: the experiment's duration, plus its rollback timeout,
//! plus the critical path of its slowest recovery plan. It is an upper
//! bound, not a forecast: a fault that only slows a service costs less.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::check::critical_path;
use crate::model::{Experiment, FrameworkPolicy, Model};
use crate::plan::format_duration;

/// An amount of money in one currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Money {
    pub amount: f64,
    pub currency: String,
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} {}", self.amount, self.currency)
    }
}

/// One touched service and what its outage would cost.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceImpact {
    pub service: String,
    pub tier: Option<String>,
    pub data: Vec<String>,
    pub revenue_per_minute: Option<Money>,
    /// The revenue lost in the worst case.
    pub cost: Option<Money>,
    pub customers: Option<i64>,
    pub mtd_seconds: Option<f64>,
    pub rto_seconds: Option<f64>,
    pub rpo_seconds: Option<f64>,
}

/// A framework whose rules the experiment is exposed to, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    pub framework: String,
    pub reason: String,
}

/// The business impact of an experiment's worst case.
#[derive(Debug, Clone, Serialize)]
pub struct BusinessImpact {
    pub experiment: String,
    pub worst_case_seconds: f64,
    /// The parts of the worst case: duration, rollback timeout, recovery.
    pub worst_case_parts: BTreeMap<String, f64>,
    pub services: Vec<ServiceImpact>,
    /// The total cost, one entry per currency.
    pub cost: Vec<Money>,
    /// Customers of the touched services, counted once per service.
    pub customers: i64,
    pub frameworks: Vec<Exposure>,
    /// Objectives the worst case would break.
    pub warnings: Vec<String>,
}

impl BusinessImpact {
    /// Estimates the impact of `experiment` from the catalog of `model`;
    /// `frameworks` are the framework policies in force.
    pub fn estimate(
        model: &Model,
        experiment: &Experiment,
        frameworks: &[FrameworkPolicy],
    ) -> BusinessImpact {
        let recovery = experiment
            .recovery_plans
            .iter()
            .map(|plan| critical_path(plan).0)
            .max()
            .unwrap_or_default();
        let worst = experiment.duration + experiment.safety.rollback_timeout + recovery;
        let minutes = worst.as_secs_f64() / 60.0;
        let parts = BTreeMap::from([
            ("duration".to_owned(), experiment.duration.as_secs_f64()),
            (
                "rollback_timeout".to_owned(),
                experiment.safety.rollback_timeout.as_secs_f64(),
            ),
            ("recovery".to_owned(), recovery.as_secs_f64()),
        ]);

        let mut services = Vec::new();
        let mut totals: BTreeMap<String, f64> = BTreeMap::new();
        let mut customers = 0;
        let mut warnings = Vec::new();
        for service in touched_services(model, experiment) {
            let cost = service.revenue_per_minute.as_ref().map(|(rate, currency)| {
                *totals.entry(currency.clone()).or_default() += rate * minutes;
                Money {
                    amount: rate * minutes,
                    currency: currency.clone(),
                }
            });
            customers += service.customers.unwrap_or(0);
            if let Some(mtd) = service.mtd
                && worst > mtd
            {
                warnings.push(format!(
                    "the worst case ({}) exceeds the maximum tolerable downtime of `{}` ({})",
                    format_duration(worst),
                    service.name,
                    format_duration(mtd)
                ));
            }
            if let Some(rto) = service.rto
                && recovery > rto
            {
                warnings.push(format!(
                    "the slowest recovery plan ({}) exceeds the RTO of `{}` ({})",
                    format_duration(recovery),
                    service.name,
                    format_duration(rto)
                ));
            }
            services.push(ServiceImpact {
                service: service.name.clone(),
                tier: service.tier.map(|tier| tier.name().to_owned()),
                data: service.data.iter().map(|c| c.name().to_owned()).collect(),
                revenue_per_minute: service
                    .revenue_per_minute
                    .as_ref()
                    .map(|(rate, cur)| Money {
                        amount: *rate,
                        currency: cur.clone(),
                    }),
                cost,
                customers: service.customers,
                mtd_seconds: service.mtd.map(|d| d.as_secs_f64()),
                rto_seconds: service.rto.map(|d| d.as_secs_f64()),
                rpo_seconds: service.rpo.map(|d| d.as_secs_f64()),
            });
        }

        BusinessImpact {
            experiment: experiment.name.clone(),
            worst_case_seconds: worst.as_secs_f64(),
            worst_case_parts: parts,
            frameworks: exposures(model, experiment, frameworks),
            services,
            cost: totals
                .into_iter()
                .map(|(currency, amount)| Money { amount, currency })
                .collect(),
            customers,
            warnings,
        }
    }

    /// Renders the impact as lines for the plan and `chaosc impact`.
    pub fn render(&self) -> String {
        let worst = Duration::from_secs_f64(self.worst_case_seconds);
        let part = |name: &str| {
            format_duration(Duration::from_secs_f64(
                self.worst_case_parts.get(name).copied().unwrap_or(0.0),
            ))
        };
        let mut out = format!(
            "business impact of the worst case: {} down ({} duration + {} rollback timeout + {} \
             recovery)\n",
            format_duration(worst),
            part("duration"),
            part("rollback_timeout"),
            part("recovery")
        );

        if self.services.is_empty() {
            out.push_str("  no service of the catalog is touched\n");
        }
        for service in &self.services {
            out.push_str(&render_service(service));
        }

        let costs: Vec<String> = self.cost.iter().map(Money::to_string).collect();
        if !costs.is_empty() {
            out.push_str(&format!("  estimated cost: {}\n", costs.join(" + ")));
        }
        out.push_str(&format!("  customers affected: up to {}\n", self.customers));
        for exposure in &self.frameworks {
            out.push_str(&format!(
                "  regulatory exposure: {} ({})\n",
                exposure.framework, exposure.reason
            ));
        }
        for warning in &self.warnings {
            out.push_str(&format!("  warning: {warning}\n"));
        }
        out
    }
}

fn render_service(service: &ServiceImpact) -> String {
    let rate = service
        .revenue_per_minute
        .as_ref()
        .map_or("no revenue given".to_owned(), |m| format!("{m}/min"));
    let cost = service
        .cost
        .as_ref()
        .map_or("unknown cost".to_owned(), Money::to_string);
    let customers = service
        .customers
        .map_or("customers unknown".to_owned(), |c| format!("{c} customers"));
    format!(
        "  service {:<16} {rate}, {cost}, {customers}\n",
        service.service
    )
}

/// The cost of a finished run's faults, from the time each touched service
/// had a fault on one of its targets.
#[derive(Debug, Clone, Serialize)]
pub struct ObservedImpact {
    /// Seconds from the first injection to the last revert, per service.
    pub services: BTreeMap<String, f64>,
    pub cost: Vec<Money>,
}

/// A fault of a run: its target and when it was in place.
#[derive(Debug, Clone)]
pub struct FaultWindow {
    pub target: String,
    pub start: chrono::DateTime<chrono::Utc>,
    pub end: chrono::DateTime<chrono::Utc>,
}

impl ObservedImpact {
    /// Measures the cost of a run's faults with the catalog of `model`.
    pub fn measure(model: &Model, faults: &[FaultWindow]) -> ObservedImpact {
        let mut windows: BTreeMap<String, (FaultWindow, &crate::model::Service)> = BTreeMap::new();
        for fault in faults {
            let Some(service) = model
                .target(&fault.target)
                .and_then(|target| target.service.as_deref())
                .and_then(|name| model.service(name))
            else {
                continue;
            };
            let entry = windows
                .entry(service.name.clone())
                .or_insert_with(|| (fault.clone(), service));
            entry.0.start = entry.0.start.min(fault.start);
            entry.0.end = entry.0.end.max(fault.end);
        }
        let mut services = BTreeMap::new();
        let mut totals: BTreeMap<String, f64> = BTreeMap::new();
        for (name, (window, service)) in windows {
            let seconds = (window.end - window.start).as_seconds_f64().max(0.0);
            services.insert(name, seconds);
            if let Some((rate, currency)) = &service.revenue_per_minute {
                *totals.entry(currency.clone()).or_default() += rate * seconds / 60.0;
            }
        }
        ObservedImpact {
            services,
            cost: totals
                .into_iter()
                .map(|(currency, amount)| Money { amount, currency })
                .collect(),
        }
    }
}

/// Returns the catalog entries of the services the experiment's steps act
/// on, through their targets, and of those its blast radius names.
fn touched_services<'m>(
    model: &'m Model,
    experiment: &Experiment,
) -> Vec<&'m crate::model::Service> {
    let mut names: Vec<&str> = Vec::new();
    let from_targets = experiment
        .steps
        .iter()
        .flat_map(|step| &step.targets)
        .filter_map(|target| model.target(target)?.service.as_deref());
    let declared = experiment.blast_radius.services.iter().map(String::as_str);
    for name in from_targets.chain(declared) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
        .iter()
        .filter_map(|name| model.service(name))
        .collect()
}

/// Lists the frameworks the experiment names, and those whose rules cover
/// a class of data a touched service holds.
fn exposures(
    model: &Model,
    experiment: &Experiment,
    frameworks: &[FrameworkPolicy],
) -> Vec<Exposure> {
    let mut exposures: Vec<Exposure> = experiment
        .compliance
        .frameworks
        .iter()
        .map(|framework| Exposure {
            framework: framework.name().to_owned(),
            reason: "named by the experiment".to_owned(),
        })
        .collect();
    let services = touched_services(model, experiment);
    for policy in frameworks {
        let name = policy.framework.name();
        if exposures.iter().any(|e| e.framework == name) {
            continue;
        }
        let held = services.iter().find_map(|service| {
            let class = service
                .data
                .iter()
                .find(|class| policy.forbidden.contains_key(class))?;
            Some(format!("`{}` holds {} data", service.name, class.name()))
        });
        if let Some(reason) = held {
            exposures.push(Exposure {
                framework: name.to_owned(),
                reason,
            });
        }
    }
    exposures.sort_by(|a, b| a.framework.cmp(&b.framework));
    exposures
}
