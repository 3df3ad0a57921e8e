//! The samples probes take during a run, the measures computed over them,
//! and the evaluation of stop and success conditions.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::probe::Sample;
use crate::model::{AlertStatus, Comparison, Condition, Operand, ProbeMeasure, RunMeasure};

/// Every sample taken during the run, by probe, and the current state of
/// each alert rule that raised an alert.
#[derive(Debug, Default)]
pub struct ProbeLog {
    samples: BTreeMap<String, Vec<Sample>>,
    alert_states: BTreeMap<String, AlertStatus>,
}

/// The measures of the run itself, for conditions that use them.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunMeasures {
    pub elapsed: Duration,
    pub recovery_time: Option<Duration>,
}

impl ProbeLog {
    /// Records a sample.
    pub fn record(&mut self, sample: Sample) {
        self.samples
            .entry(sample.probe.clone())
            .or_default()
            .push(sample);
    }

    /// Sets the state of the latest alert of `rule`.
    pub fn set_alert_state(&mut self, rule: &str, state: AlertStatus) {
        self.alert_states.insert(rule.to_owned(), state);
    }

    /// Returns the names of the probes that have samples.
    pub fn probe_names(&self) -> Vec<String> {
        self.samples.keys().cloned().collect()
    }

    /// Returns the samples of one probe, oldest first.
    pub fn samples(&self, probe: &str) -> &[Sample] {
        self.samples.get(probe).map_or(&[], Vec::as_slice)
    }

    /// Computes a measure over the samples of `probe` taken at or after
    /// `since`. Rates and latencies of no samples are NaN, which makes every
    /// comparison false: a condition over nothing neither fires nor passes.
    pub fn measure(&self, probe: &str, measure: ProbeMeasure, since: Option<DateTime<Utc>>) -> f64 {
        let samples: Vec<&Sample> = self
            .samples(probe)
            .iter()
            .filter(|sample| since.is_none_or(|since| sample.at >= since))
            .collect();
        let total = samples.len() as f64;
        let successes = samples.iter().filter(|sample| sample.ok).count() as f64;
        match measure {
            ProbeMeasure::Samples => total,
            ProbeMeasure::Successes => successes,
            ProbeMeasure::Failures => total - successes,
            ProbeMeasure::ConsecutiveFailures => {
                samples.iter().rev().take_while(|sample| !sample.ok).count() as f64
            }
            ProbeMeasure::SuccessRate if total > 0.0 => successes / total,
            ProbeMeasure::FailureRate if total > 0.0 => (total - successes) / total,
            ProbeMeasure::SuccessRate | ProbeMeasure::FailureRate => f64::NAN,
            ProbeMeasure::LatencyP50 => percentile(&samples, 0.50),
            ProbeMeasure::LatencyP99 => percentile(&samples, 0.99),
            ProbeMeasure::LatencyMax => percentile(&samples, 1.0),
            _ => value_measure(&samples, measure),
        }
    }

    /// Tells whether `condition` holds now.
    pub fn holds(&self, condition: &Condition, run: RunMeasures, now: DateTime<Utc>) -> bool {
        condition.any_of.iter().any(|group| {
            group
                .iter()
                .all(|comparison| self.compare(comparison, run, now))
        })
    }

    fn compare(&self, comparison: &Comparison, run: RunMeasures, now: DateTime<Utc>) -> bool {
        let since = comparison.window.and_then(|window| {
            chrono::Duration::from_std(window)
                .ok()
                .map(|window| now - window)
        });
        let left = self.value(&comparison.left, run, since);
        let right = self.value(&comparison.right, run, since);
        comparison.op.holds(left, right)
    }

    fn value(&self, operand: &Operand, run: RunMeasures, since: Option<DateTime<Utc>>) -> f64 {
        match operand {
            Operand::Constant(value) => *value,
            Operand::Probe { probe, measure } => self.measure(probe, *measure, since),
            Operand::Run(RunMeasure::Elapsed) => run.elapsed.as_secs_f64(),
            Operand::Run(RunMeasure::RecoveryTime) => run
                .recovery_time
                .map_or(f64::NAN, |time| time.as_secs_f64()),
            Operand::Alert { rule, state } => {
                let current = self.alert_states.get(rule);
                if current == Some(state) { 1.0 } else { 0.0 }
            }
        }
    }
}

/// A measure over the values that `metric` and `promql` samples read;
/// samples that read no value (failed scrapes) are left out. NaN when no
/// sample read a value.
fn value_measure(samples: &[&Sample], measure: ProbeMeasure) -> f64 {
    let mut values: Vec<f64> = samples.iter().filter_map(|sample| sample.value).collect();
    let Some(&latest) = values.last() else {
        return f64::NAN;
    };
    values.sort_by(f64::total_cmp);
    let nearest_rank = |quantile: f64| {
        let rank = ((quantile * values.len() as f64).ceil() as usize).clamp(1, values.len());
        values[rank - 1]
    };
    match measure {
        ProbeMeasure::Value => latest,
        ProbeMeasure::ValueMin => values[0],
        ProbeMeasure::ValueMax => values[values.len() - 1],
        ProbeMeasure::ValueAvg => values.iter().sum::<f64>() / values.len() as f64,
        ProbeMeasure::ValueP50 => nearest_rank(0.50),
        ProbeMeasure::ValueP99 => nearest_rank(0.99),
        _ => f64::NAN,
    }
}

/// The nearest-rank percentile of the sample latencies, in seconds.
fn percentile(samples: &[&Sample], quantile: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut latencies: Vec<f64> = samples.iter().map(|s| s.latency.as_secs_f64()).collect();
    latencies.sort_by(f64::total_cmp);
    let rank = ((quantile * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
    latencies[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ok: bool, millis: u64) -> Sample {
        Sample {
            probe: "health".to_owned(),
            at: Utc::now(),
            ok,
            latency: Duration::from_millis(millis),
            code: None,
            value: None,
            error: None,
            text: None,
        }
    }

    #[test]
    fn measures_count_and_rate() {
        let mut log = ProbeLog::default();
        for ok in [true, true, false, false] {
            log.record(sample(ok, 10));
        }
        assert_eq!(log.measure("health", ProbeMeasure::Failures, None), 2.0);
        assert_eq!(
            log.measure("health", ProbeMeasure::ConsecutiveFailures, None),
            2.0
        );
        assert_eq!(log.measure("health", ProbeMeasure::SuccessRate, None), 0.5);
    }

    #[test]
    fn rate_of_nothing_is_nan() {
        let log = ProbeLog::default();
        assert!(
            log.measure("health", ProbeMeasure::SuccessRate, None)
                .is_nan()
        );
    }

    #[test]
    fn percentile_uses_nearest_rank() {
        let mut log = ProbeLog::default();
        for millis in [10, 20, 30, 40] {
            log.record(sample(true, millis));
        }
        assert_eq!(log.measure("health", ProbeMeasure::LatencyP50, None), 0.02);
        assert_eq!(log.measure("health", ProbeMeasure::LatencyMax, None), 0.04);
    }

    #[test]
    fn value_measures_skip_failed_reads() {
        let mut log = ProbeLog::default();
        for value in [Some(4.0), None, Some(1.0), Some(3.0), Some(2.0)] {
            let mut taken = sample(value.is_some(), 10);
            taken.value = value;
            log.record(taken);
        }
        let measure = |measure| log.measure("health", measure, None);
        assert_eq!(measure(ProbeMeasure::Value), 2.0);
        assert_eq!(measure(ProbeMeasure::ValueMin), 1.0);
        assert_eq!(measure(ProbeMeasure::ValueMax), 4.0);
        assert_eq!(measure(ProbeMeasure::ValueAvg), 2.5);
        assert_eq!(measure(ProbeMeasure::ValueP50), 2.0);
        assert_eq!(measure(ProbeMeasure::ValueP99), 4.0);
    }
}
