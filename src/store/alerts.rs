//! The alert history in the store: every alert of every run, and the
//! acknowledge and resolve operations on it.

use chrono::Utc;
use rusqlite::params;

use super::{Store, StoreError};
use crate::model::{AlertStatus, MonitorSeverity};
use crate::runtime::alerts::Alert;

const COLUMNS: &str = "id, rule, run_id, experiment, severity, status, message, metric, value, \
     op, threshold, dedup_key, fired_at, acknowledged_by, acknowledged_at, resolved_at, channels";

/// Inserts or replaces one alert.
pub(super) fn insert_alert(
    transaction: &rusqlite::Transaction<'_>,
    alert: &Alert,
) -> Result<(), StoreError> {
    // SQLite stores NaN as NULL; a metric that was never read has no value.
    let value = alert.value.is_finite().then_some(alert.value);
    transaction.execute(
        &format!("INSERT OR REPLACE INTO alerts ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"),
        params![
            alert.id,
            alert.rule,
            alert.run_id,
            alert.experiment,
            alert.severity.name(),
            alert.state.name(),
            alert.message,
            alert.metric,
            value,
            alert.op,
            alert.threshold,
            alert.dedup_key,
            alert.fired_at.to_rfc3339(),
            alert.acknowledged_by,
            alert.acknowledged_at.map(|at| at.to_rfc3339()),
            alert.resolved_at.map(|at| at.to_rfc3339()),
            alert.channels.join(","),
        ],
    )?;
    Ok(())
}

fn alert_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    let time = |index: usize| -> rusqlite::Result<Option<chrono::DateTime<Utc>>> {
        let text: Option<String> = row.get(index)?;
        Ok(text
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(&text).ok())
            .map(|at| at.with_timezone(&Utc)))
    };
    let severity: String = row.get(4)?;
    let status: String = row.get(5)?;
    let channels: String = row.get(16)?;
    Ok(Alert {
        id: row.get(0)?,
        rule: row.get(1)?,
        run_id: row.get(2)?,
        experiment: row.get(3)?,
        severity: MonitorSeverity::from_name(&severity).unwrap_or(MonitorSeverity::Warning),
        state: AlertStatus::from_name(&status).unwrap_or(AlertStatus::Active),
        message: row.get(6)?,
        metric: row.get(7)?,
        value: row.get::<_, Option<f64>>(8)?.unwrap_or(f64::NAN),
        op: row.get(9)?,
        threshold: row.get(10)?,
        dedup_key: row.get(11)?,
        fired_at: time(12)?.unwrap_or_default(),
        acknowledged_by: row.get(13)?,
        acknowledged_at: time(14)?,
        resolved_at: time(15)?,
        channels: channels
            .split(',')
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// What an acknowledge or resolve found.
#[derive(Debug, PartialEq, Eq)]
pub enum AlertChange {
    Changed,
    NotFound,
    /// Several alerts start with the given id prefix.
    Ambiguous(usize),
    /// The alert was already resolved.
    AlreadyResolved,
}

impl Store {
    /// Lists alerts, newest first: the active ones only, or all of them.
    pub fn alerts(&mut self, active_only: bool, limit: usize) -> Result<Vec<Alert>, StoreError> {
        let filter = if active_only {
            "WHERE status != 'resolved'"
        } else {
            ""
        };
        let sql = format!("SELECT {COLUMNS} FROM alerts {filter} ORDER BY fired_at DESC LIMIT ?1");
        let connection = self.connection();
        let mut statement = connection.prepare(&sql)?;
        let rows = statement.query_map([limit as i64], alert_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Finds the one alert whose id starts with `prefix`.
    fn alert_by_prefix(&mut self, prefix: &str) -> Result<Result<Alert, AlertChange>, StoreError> {
        let pattern = format!("{}%", prefix.replace(['%', '_'], ""));
        let connection = self.connection();
        let mut statement = connection.prepare(&format!(
            "SELECT {COLUMNS} FROM alerts WHERE id LIKE ?1 LIMIT 2"
        ))?;
        let found: Vec<Alert> = statement
            .query_map([pattern], alert_from_row)?
            .collect::<Result<_, _>>()?;
        Ok(match found.len() {
            0 => Err(AlertChange::NotFound),
            1 => Ok(found.into_iter().next().expect("one alert")),
            count => Err(AlertChange::Ambiguous(count)),
        })
    }

    /// Acknowledges the alert whose id starts with `prefix`, in `by`'s name.
    pub fn acknowledge_alert(
        &mut self,
        prefix: &str,
        by: &str,
    ) -> Result<(AlertChange, Option<Alert>), StoreError> {
        let mut alert = match self.alert_by_prefix(prefix)? {
            Ok(alert) => alert,
            Err(change) => return Ok((change, None)),
        };
        if alert.state == AlertStatus::Resolved {
            return Ok((AlertChange::AlreadyResolved, Some(alert)));
        }
        let now = Utc::now();
        self.connection().execute(
            "UPDATE alerts SET status = 'acknowledged', acknowledged_by = ?2, acknowledged_at = ?3 WHERE id = ?1",
            params![alert.id, by, now.to_rfc3339()],
        )?;
        alert.state = AlertStatus::Acknowledged;
        alert.acknowledged_by = Some(by.to_owned());
        alert.acknowledged_at = Some(now);
        Ok((AlertChange::Changed, Some(alert)))
    }

    /// Resolves the alert whose id starts with `prefix`.
    pub fn resolve_alert(
        &mut self,
        prefix: &str,
    ) -> Result<(AlertChange, Option<Alert>), StoreError> {
        let mut alert = match self.alert_by_prefix(prefix)? {
            Ok(alert) => alert,
            Err(change) => return Ok((change, None)),
        };
        if alert.state == AlertStatus::Resolved {
            return Ok((AlertChange::AlreadyResolved, Some(alert)));
        }
        let now = Utc::now();
        self.connection().execute(
            "UPDATE alerts SET status = 'resolved', resolved_at = ?2 WHERE id = ?1",
            params![alert.id, now.to_rfc3339()],
        )?;
        alert.state = AlertStatus::Resolved;
        alert.resolved_at = Some(now);
        Ok((AlertChange::Changed, Some(alert)))
    }
}
