//! The calendar of one experiment: the zone, business hours and blackout
//! windows of the policy, of the experiment's `schedule` section and of the
//! compliance frameworks it names, and when a run may start.

use chrono::{DateTime, Utc};

use super::GovernanceError;
use super::policy::Policy;
use super::window::{Blackout, BusinessHours, Zone, shown};
use crate::model::{Experiment, FrameworkPolicy};

/// When an experiment may start.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub zone: Zone,
    pub hours: BusinessHours,
    pub business_hours_only: bool,
    pub blackouts: Vec<Blackout>,
}

/// Why a run may not start now.
#[derive(Debug, Clone)]
pub enum Closed<'a> {
    Blackout(&'a Blackout),
    OutsideHours,
}

impl Calendar {
    /// Builds the calendar of `experiment`: its own zone and hours replace
    /// the policy's, and blackout windows of all three sources add up.
    /// Framework windows are in UTC, as `stdlib/compliance.chaos` says.
    pub fn of(
        experiment: &Experiment,
        policy: &Policy,
        frameworks: &[FrameworkPolicy],
    ) -> Result<Calendar, GovernanceError> {
        let invalid =
            |what: &'static str, text: &str, reason: String| GovernanceError::InvalidWindow {
                what,
                text: shown(text),
                reason,
            };
        let spec = &experiment.metadata.schedule;
        let zone_name = spec
            .zone
            .as_deref()
            .or(policy.document.schedule.zone.as_deref());
        let zone = match zone_name {
            Some(name) => Zone::parse(name).map_err(|reason| invalid("time zone", name, reason))?,
            None => Zone::Local,
        };
        let hours_text = spec
            .business_hours
            .as_deref()
            .unwrap_or(&policy.document.schedule.business_hours);
        let hours = BusinessHours::parse(hours_text)
            .map_err(|reason| invalid("business hours", hours_text, reason))?;

        let mut blackouts = Vec::new();
        let sources = [
            (&policy.document.schedule.blackout, "policy", &zone),
            (&spec.blackout, "experiment", &zone),
        ];
        for (windows, source, zone) in sources {
            for text in windows {
                let window = Blackout::parse(text, zone, source)
                    .map_err(|reason| invalid("blackout window", text, reason))?;
                blackouts.push(window);
            }
        }
        let utc = Zone::utc();
        for framework in &experiment.compliance.frameworks {
            let Some(policy) = frameworks.iter().find(|p| p.framework == *framework) else {
                continue;
            };
            let source = format!("framework {framework}");
            for text in &policy.blackout_windows {
                let window = Blackout::parse(text, &utc, &source)
                    .map_err(|reason| invalid("blackout window", text, reason))?;
                blackouts.push(window);
            }
        }
        Ok(Calendar {
            zone,
            hours,
            business_hours_only: experiment.safety.business_hours_only,
            blackouts,
        })
    }

    /// Tells why a run may not start at `now`, if it may not.
    pub fn closed_at(&self, now: DateTime<Utc>) -> Option<Closed<'_>> {
        if let Some(window) = self
            .blackouts
            .iter()
            .find(|w| w.end_if_active(now).is_some())
        {
            return Some(Closed::Blackout(window));
        }
        let outside = self.business_hours_only && !self.hours.contains(self.zone.to_local(now));
        outside.then_some(Closed::OutsideHours)
    }

    /// Returns the first instant from `now` on when a run may start, or
    /// `None` when none comes within the search bound (business hours on no
    /// day, say).
    pub fn next_open(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut instant = now;
        // Each pass leaves one window or waits for one opening, so a few
        // hundred passes cover years of windows.
        for _ in 0..1000 {
            let blackout_end = self
                .blackouts
                .iter()
                .filter_map(|window| window.end_if_active(instant))
                .max();
            if let Some(end) = blackout_end {
                instant = end;
                continue;
            }
            let wall = self.zone.to_local(instant);
            if self.business_hours_only && !self.hours.contains(wall) {
                instant = self.zone.to_instant(self.hours.next_start(wall)?);
                continue;
            }
            return Some(instant);
        }
        None
    }

    /// Returns an error when a run of `experiment` may not start at `now`,
    /// saying when the next allowed window opens.
    pub fn check(&self, experiment: &str, now: DateTime<Utc>) -> Result<(), GovernanceError> {
        let Some(closed) = self.closed_at(now) else {
            return Ok(());
        };
        let next = match self.next_open(now) {
            Some(next) => format!(
                "the next allowed window opens at {}",
                self.zone.format(next)
            ),
            None => "no allowed window opens within the coming years".to_owned(),
        };
        Err(match closed {
            Closed::Blackout(window) => GovernanceError::InBlackout {
                experiment: experiment.to_owned(),
                window: window.text.clone(),
                source_name: window.source.clone(),
                help: next,
            },
            Closed::OutsideHours => GovernanceError::OutsideBusinessHours {
                experiment: experiment.to_owned(),
                hours: self.hours.text.clone(),
                zone: self.zone.name(),
                now: self.zone.format(now),
                help: format!(
                    "{next}; or set `business_hours_only = false` in `safety` for an experiment \
                     that may run at any hour"
                ),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn calendar(blackouts: &[&str], business_hours_only: bool) -> Calendar {
        let zone = Zone::parse("Europe/Paris").unwrap();
        Calendar {
            zone: zone.clone(),
            hours: BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap(),
            business_hours_only,
            blackouts: blackouts
                .iter()
                .map(|text| Blackout::parse(text, &zone, "policy").unwrap())
                .collect(),
        }
    }

    #[test]
    fn open_in_business_hours() {
        // 10:00 in Paris on Monday 2026-03-02.
        let calendar = calendar(&[], true);
        assert!(calendar.closed_at(utc("2026-03-02T09:00:00Z")).is_none());
        assert!(calendar.check("e", utc("2026-03-02T09:00:00Z")).is_ok());
    }

    #[test]
    fn weekend_opens_on_monday() {
        let calendar = calendar(&[], true);
        let saturday = utc("2026-03-07T12:00:00Z");
        assert!(matches!(
            calendar.closed_at(saturday),
            Some(Closed::OutsideHours)
        ));
        assert_eq!(
            calendar.next_open(saturday),
            Some(utc("2026-03-09T08:00:00Z"))
        );
    }

    #[test]
    fn blackout_then_business_hours() {
        // The window ends on Saturday, so the run waits for Monday 09:00.
        let calendar = calendar(&["2026-03-05..2026-03-06"], true);
        let thursday = utc("2026-03-05T10:00:00Z");
        assert!(matches!(
            calendar.closed_at(thursday),
            Some(Closed::Blackout(_))
        ));
        assert_eq!(
            calendar.next_open(thursday),
            Some(utc("2026-03-09T08:00:00Z"))
        );
        let error = calendar.check("e", thursday).unwrap_err();
        let help = match &error {
            GovernanceError::InBlackout { help, .. } => help.clone(),
            other => panic!("unexpected {other}"),
        };
        assert!(help.contains("2026-03-09T09:00:00+01:00"), "{help}");
    }

    #[test]
    fn blackout_alone_when_hours_are_off() {
        let calendar = calendar(&["2026-03-05T10:00..2026-03-05T12:30"], false);
        let inside = utc("2026-03-05T10:00:00Z");
        assert_eq!(
            calendar.next_open(inside),
            Some(utc("2026-03-05T11:30:00Z"))
        );
        assert!(calendar.closed_at(utc("2026-03-07T03:00:00Z")).is_none());
    }

    #[test]
    fn no_business_day_never_opens() {
        let mut calendar = calendar(&[], true);
        calendar.hours = BusinessHours::parse("Sat 09:00-10:00").unwrap();
        calendar.blackouts =
            vec![Blackout::parse("01-01..12-31", &calendar.zone, "policy").unwrap()];
        assert_eq!(calendar.next_open(utc("2026-03-05T10:00:00Z")), None);
    }
}
