//! The state of the live view, built from progress events, and its frame as
//! text lines.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::event::{Ending, ProgressEvent, RunOutline, RunSummary, StepOutline, timestamped};
use crate::runtime::probe::Sample;
use crate::runtime::result::RollbackOutcome;

/// How many of the latest plain lines the view keeps under "events".
const RECENT_EVENTS: usize = 3;

/// The state of a run as the live view shows it.
#[derive(Debug)]
pub struct Board {
    /// When the view started, for the timestamps of recent events.
    started: Instant,
    outline: Option<RunOutline>,
    phase: Phase,
    steps: Vec<StepRow>,
    probes: Vec<ProbeRow>,
    faults: Vec<FaultRow>,
    stops: Vec<StopRow>,
    /// Rules of the alerts that fire now, with their severity.
    alerts: Vec<(String, String)>,
    recent: VecDeque<String>,
    summary: Option<RunSummary>,
}

/// The stage the run is in.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    SettingUp,
    SteadyStateBefore,
    Running,
    RollingBack(Ending),
    Recovering(String),
    SteadyStateAfter,
    TearingDown,
}

#[derive(Debug)]
struct StepRow {
    outline: StepOutline,
    state: StepState,
}

#[derive(Debug, Clone, PartialEq)]
enum StepState {
    Waiting,
    Injecting,
    /// Faults in place until this instant, or to the end of the run.
    Active(Option<Instant>),
    Ramping(String),
    Reverting,
    Reverted,
    Failed(String),
    Skipped,
}

#[derive(Debug)]
struct ProbeRow {
    name: String,
    latest: Option<Sample>,
    samples: usize,
    failures: usize,
}

#[derive(Debug)]
struct FaultRow {
    id: u64,
    step: String,
    fault: String,
    target: String,
    /// The observation once verified.
    observation: Option<String>,
    rollback: RollbackOutcome,
}

#[derive(Debug)]
struct StopRow {
    condition: String,
    /// Seconds into the run when it fired.
    fired_at: Option<f64>,
}

impl Board {
    /// Creates an empty board; `started` is when the run's progress began.
    pub fn new(started: Instant) -> Self {
        Board {
            started,
            outline: None,
            phase: Phase::SettingUp,
            steps: Vec::new(),
            probes: Vec::new(),
            faults: Vec::new(),
            stops: Vec::new(),
            alerts: Vec::new(),
            recent: VecDeque::new(),
            summary: None,
        }
    }

    /// Tells whether the run's verdict has arrived.
    pub fn is_finished(&self) -> bool {
        self.summary.is_some()
    }

    /// Applies one event that happened at `at`.
    pub fn apply(&mut self, at: Instant, event: ProgressEvent) {
        if let Some(line) = event.plain_line() {
            let elapsed = at.saturating_duration_since(self.started);
            self.recent.push_back(timestamped(elapsed, &line));
            if self.recent.len() > RECENT_EVENTS {
                self.recent.pop_front();
            }
        }
        match event {
            ProgressEvent::RunStarted(outline) => self.start(outline),
            ProgressEvent::SteadyState(sample) => {
                self.phase = match self.phase {
                    Phase::SettingUp | Phase::SteadyStateBefore => Phase::SteadyStateBefore,
                    _ => Phase::SteadyStateAfter,
                };
                self.record_sample(sample, false);
            }
            ProgressEvent::ProbeSampled(sample) => {
                if self.phase == Phase::SteadyStateBefore {
                    self.phase = Phase::Running;
                }
                self.record_sample(sample, true);
            }
            ProgressEvent::StepInjecting(step) => {
                self.phase = Phase::Running;
                self.set_step(&step, StepState::Injecting);
            }
            ProgressEvent::StepActive { step, hold } => {
                self.set_step(&step, StepState::Active(hold.map(|hold| at + hold)));
            }
            ProgressEvent::StepReverting(step) => self.set_step(&step, StepState::Reverting),
            ProgressEvent::StepReverted(step) => self.set_step(&step, StepState::Reverted),
            ProgressEvent::StepFailed { step, error } => {
                self.set_step(&step, StepState::Failed(error));
            }
            ProgressEvent::StepSkipped { step, .. } => self.set_step(&step, StepState::Skipped),
            ProgressEvent::StepRamped { step, observed } => {
                self.set_step(&step, StepState::Ramping(observed));
            }
            ProgressEvent::StepRampFailed { step, error } => {
                self.set_step(&step, StepState::Ramping(format!("ramp failed: {error}")));
            }
            ProgressEvent::FaultInjected {
                id,
                step,
                fault,
                target,
            } => self.faults.push(FaultRow {
                id,
                step,
                fault,
                target,
                observation: None,
                rollback: RollbackOutcome::Pending,
            }),
            ProgressEvent::FaultVerified {
                id, observation, ..
            } => {
                if let Some(row) = self.fault_mut(id) {
                    row.observation = Some(observation);
                }
            }
            ProgressEvent::FaultReverted { id, outcome } => self.settle_fault(id, outcome),
            ProgressEvent::FaultRolledBack(result) => self.settle_fault(result.id, result.rollback),
            ProgressEvent::AlertFired { rule, severity, .. } => {
                self.alerts.retain(|(name, _)| *name != rule);
                self.alerts.push((rule, severity));
            }
            ProgressEvent::AlertResolved { rule } => self.alerts.retain(|(name, _)| *name != rule),
            ProgressEvent::RollingBack(ending) => {
                if let Ending::StopCondition(condition) = &ending {
                    let seconds = at.saturating_duration_since(self.started).as_secs_f64();
                    let fired = self.stops.iter_mut().find(|s| s.condition == *condition);
                    if let Some(stop) = fired {
                        stop.fired_at = Some(seconds);
                    }
                }
                self.phase = Phase::RollingBack(ending);
            }
            ProgressEvent::RecoveryStarted { plan, .. } => self.phase = Phase::Recovering(plan),
            ProgressEvent::TargetStopped(_) | ProgressEvent::JournalKept(_) => {
                self.phase = Phase::TearingDown;
            }
            ProgressEvent::Finished(summary) => self.summary = Some(summary),
            ProgressEvent::DrillStarted { .. }
            | ProgressEvent::TargetLaunched { .. }
            | ProgressEvent::TargetAttached { .. }
            | ProgressEvent::ProxyStarted { .. }
            | ProgressEvent::ChannelLeftOut(_)
            | ProgressEvent::RecoveryEnded { .. } => {}
        }
    }

    fn start(&mut self, outline: RunOutline) {
        self.steps = outline
            .steps
            .iter()
            .map(|step| StepRow {
                outline: step.clone(),
                state: StepState::Waiting,
            })
            .collect();
        self.probes = outline
            .probes
            .iter()
            .map(|name| ProbeRow {
                name: name.clone(),
                latest: None,
                samples: 0,
                failures: 0,
            })
            .collect();
        self.stops = outline
            .stop_conditions
            .iter()
            .map(|condition| StopRow {
                condition: condition.clone(),
                fired_at: None,
            })
            .collect();
        self.outline = Some(outline);
    }

    /// Shows `sample` as the probe's latest. Only monitoring samples are
    /// `counted`, as in the run's result; the steady-state checks are not.
    fn record_sample(&mut self, sample: Sample, counted: bool) {
        let Some(row) = self.probes.iter_mut().find(|row| row.name == sample.probe) else {
            return;
        };
        if counted {
            row.samples += 1;
            row.failures += usize::from(!sample.ok);
        }
        row.latest = Some(sample);
    }

    fn set_step(&mut self, name: &str, state: StepState) {
        if let Some(row) = self.steps.iter_mut().find(|row| row.outline.name == name) {
            row.state = state;
        }
    }

    fn fault_mut(&mut self, id: u64) -> Option<&mut FaultRow> {
        self.faults.iter_mut().find(|row| row.id == id)
    }

    /// Records how a fault's revert ended. A fault that could not be
    /// reverted fails its step, which has no event of its own for that.
    fn settle_fault(&mut self, id: u64, outcome: RollbackOutcome) {
        let Some(row) = self.fault_mut(id) else {
            return;
        };
        row.rollback = outcome;
        if outcome == RollbackOutcome::Failed {
            let step = row.step.clone();
            let error = format!("fault {id} could not be reverted");
            self.set_step(&step, StepState::Failed(error));
        }
    }

    /// Renders the frame as of `now`, without line ends or width limits.
    pub fn render(&self, now: Instant) -> Vec<String> {
        if self.outline.is_none() {
            return vec!["chaosc run: setting up".to_owned()];
        }
        let mut lines = Vec::new();
        self.render_header(now, &mut lines);
        self.render_steps(now, &mut lines);
        self.render_probes(&mut lines);
        self.render_faults(&mut lines);
        self.render_stops(&mut lines);
        if !self.alerts.is_empty() {
            lines.push("alerts firing".to_owned());
            for (rule, severity) in &self.alerts {
                lines.push(format!("  {rule} ({severity})"));
            }
        }
        if self.summary.is_none() && !self.recent.is_empty() {
            lines.push("events".to_owned());
            lines.extend(self.recent.iter().map(|line| format!("  {line}")));
        }
        lines
    }

    fn render_header(&self, now: Instant, lines: &mut Vec<String>) {
        let Some(outline) = &self.outline else {
            return;
        };
        lines.push(format!(
            "chaosc run `{}`  run {}  seed {}",
            outline.experiment, outline.run_id, outline.seed
        ));
        let elapsed = now.saturating_duration_since(self.started);
        let status = match (&self.summary, &self.phase) {
            (Some(summary), _) => verdict(summary),
            (None, Phase::SettingUp) => "setting up targets".to_owned(),
            (None, Phase::SteadyStateBefore) => "checking the steady state".to_owned(),
            (None, Phase::Running) => {
                let left = outline.deadline.saturating_duration_since(now);
                format!("running  {} elapsed  {} left", clock(elapsed), clock(left))
            }
            (None, Phase::RollingBack(ending)) => format!("rolling back: {}", cause(ending)),
            (None, Phase::Recovering(plan)) => format!("running recovery plan `{plan}`"),
            (None, Phase::SteadyStateAfter) => {
                "checking the steady state after rollback".to_owned()
            }
            (None, Phase::TearingDown) => "stopping targets".to_owned(),
        };
        lines.push(status);
    }

    fn render_steps(&self, now: Instant, lines: &mut Vec<String>) {
        if self.steps.is_empty() {
            return;
        }
        lines.push("steps".to_owned());
        let name_width = column_width(self.steps.iter().map(|row| row.outline.name.as_str()));
        let what: Vec<String> = self
            .steps
            .iter()
            .map(|row| {
                format!(
                    "{} on {}",
                    row.outline.fault,
                    row.outline.targets.join(", ")
                )
            })
            .collect();
        let what_width = column_width(what.iter().map(String::as_str));
        for (row, what) in self.steps.iter().zip(&what) {
            let (state, detail) = self.step_state(row, now);
            lines.push(format!(
                "  {:<name_width$}  {state:<10} {what:<what_width$}  {detail}",
                row.outline.name
            ));
        }
    }

    /// Returns the state word of a step and what goes after it.
    fn step_state(&self, row: &StepRow, now: Instant) -> (&'static str, String) {
        let finished = self.summary.is_some();
        match &row.state {
            StepState::Waiting if finished => ("not run", String::new()),
            StepState::Waiting if row.outline.after.is_empty() => ("waiting", String::new()),
            StepState::Waiting => ("waiting", format!("after {}", row.outline.after.join(", "))),
            StepState::Injecting => ("injecting", String::new()),
            StepState::Active(Some(until)) => (
                "active",
                format!("{} left", clock(until.saturating_duration_since(now))),
            ),
            StepState::Active(None) => ("active", "until the run ends".to_owned()),
            StepState::Ramping(observed) => ("ramping", observed.clone()),
            StepState::Reverting => ("reverting", String::new()),
            StepState::Reverted => ("reverted", String::new()),
            StepState::Failed(error) => ("failed", error.clone()),
            StepState::Skipped => (
                "skipped",
                "a step it runs after did not complete".to_owned(),
            ),
        }
    }

    fn render_probes(&self, lines: &mut Vec<String>) {
        if self.probes.is_empty() {
            return;
        }
        lines.push("probes".to_owned());
        let name_width = column_width(self.probes.iter().map(|row| row.name.as_str()));
        for row in &self.probes {
            let Some(sample) = &row.latest else {
                lines.push(format!("  {:<name_width$}  no sample yet", row.name));
                continue;
            };
            let state = if sample.ok { "ok" } else { "failing" };
            let counts = format!("{} samples, {} failed", row.samples, row.failures);
            lines.push(format!(
                "  {:<name_width$}  {state:<10} {counts:<24} {}",
                row.name,
                sample_value(sample)
            ));
        }
    }

    fn render_faults(&self, lines: &mut Vec<String>) {
        if self.summary.is_some() {
            if self.faults.is_empty() {
                lines.push("faults: none injected".to_owned());
                return;
            }
            lines.push("faults".to_owned());
            for row in &self.faults {
                let outcome = match row.rollback {
                    RollbackOutcome::Reverted => "reverted",
                    RollbackOutcome::Failed => "NOT REVERTED: run `chaosc recover`",
                    RollbackOutcome::NotApplied => "not applied",
                    RollbackOutcome::Pending => "still in place: run `chaosc recover`",
                };
                lines.push(format!(
                    "  #{} {} on {}  {outcome}",
                    row.id, row.fault, row.target
                ));
            }
            return;
        }
        let in_place: Vec<&FaultRow> = self
            .faults
            .iter()
            .filter(|row| row.rollback == RollbackOutcome::Pending)
            .collect();
        if in_place.is_empty() {
            lines.push("faults in place: none".to_owned());
            return;
        }
        lines.push("faults in place".to_owned());
        for row in in_place {
            let observation = match &row.observation {
                Some(observation) => format!("verified: {observation}"),
                None => "verifying".to_owned(),
            };
            lines.push(format!(
                "  #{} {} on {}  {observation}",
                row.id, row.fault, row.target
            ));
        }
    }

    fn render_stops(&self, lines: &mut Vec<String>) {
        if self.stops.is_empty() {
            return;
        }
        lines.push("stop conditions".to_owned());
        let width = column_width(self.stops.iter().map(|row| row.condition.as_str()));
        for row in &self.stops {
            let state = match row.fired_at {
                Some(seconds) => format!("FIRED at {seconds:.1}s"),
                None => "not fired".to_owned(),
            };
            lines.push(format!("  {:<width$}  {state}", row.condition));
        }
    }
}

/// Returns the verdict line of a finished run.
fn verdict(summary: &RunSummary) -> String {
    let mut line = format!(
        "{}: {} ({}) in {:.1}s",
        summary.experiment, summary.status, summary.criteria, summary.duration_seconds
    );
    if let Some(reason) = &summary.reason {
        line.push_str(&format!(": {reason}"));
    }
    if !summary.rollback_complete {
        line.push_str("; some faults are still in place, run `chaosc recover`");
    }
    line
}

fn cause(ending: &Ending) -> String {
    match ending {
        Ending::Finished => "all steps ended".to_owned(),
        Ending::DurationReached => "the experiment's duration is over".to_owned(),
        Ending::StopCondition(condition) => format!("stop condition fired: {condition}"),
        Ending::StepFailed(reason) => format!("a step failed: {reason}"),
        Ending::Interrupted => "interrupted".to_owned(),
    }
}

/// Describes the latest sample of a probe: its code or value and latency
/// when it passed, why it failed otherwise.
fn sample_value(sample: &Sample) -> String {
    let latency = format!("{:.1}ms", sample.latency.as_secs_f64() * 1000.0);
    if !sample.ok {
        return sample.error.clone().unwrap_or_default();
    }
    match (sample.value, sample.code) {
        (Some(value), _) => format!("value {value} in {latency}"),
        (None, Some(code)) => format!("code {code} in {latency}"),
        (None, None) => format!("in {latency}"),
    }
}

/// Formats a duration as `4.2s`, `3m05s` or `1h02m`.
fn clock(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds < 60 {
        format!("{:.1}s", duration.as_secs_f64())
    } else if seconds < 3600 {
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60)
    }
}

fn column_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn outline(start: Instant) -> RunOutline {
        RunOutline {
            run_id: "run-1".to_owned(),
            experiment: "demo".to_owned(),
            seed: 7,
            journal: "/tmp/journal".into(),
            deadline: start + Duration::from_secs(60),
            steps: vec![
                StepOutline {
                    name: "slow".to_owned(),
                    fault: "latency".to_owned(),
                    targets: vec!["front".to_owned()],
                    after: Vec::new(),
                },
                StepOutline {
                    name: "crash".to_owned(),
                    fault: "process_kill".to_owned(),
                    targets: vec!["web".to_owned()],
                    after: vec!["slow".to_owned()],
                },
            ],
            probes: vec!["home".to_owned()],
            stop_conditions: vec!["home.failures > 20".to_owned()],
        }
    }

    fn sample(ok: bool) -> Sample {
        Sample {
            probe: "home".to_owned(),
            at: Utc::now(),
            ok,
            latency: Duration::from_millis(4),
            code: ok.then_some(200),
            value: None,
            error: (!ok).then(|| "timed out after 2s".to_owned()),
            text: None,
        }
    }

    fn line_with<'a>(lines: &'a [String], text: &str) -> &'a str {
        lines
            .iter()
            .find(|line| line.contains(text))
            .unwrap_or_else(|| panic!("no line with {text:?} in {lines:#?}"))
    }

    #[test]
    fn setting_up_shows_only_header() {
        let start = Instant::now();
        let board = Board::new(start);
        assert_eq!(board.render(start), ["chaosc run: setting up"]);
    }

    #[test]
    fn active_step_counts_down() {
        let start = Instant::now();
        let mut board = Board::new(start);
        board.apply(start, ProgressEvent::RunStarted(outline(start)));
        board.apply(start, ProgressEvent::StepInjecting("slow".to_owned()));
        let hold = Some(Duration::from_secs(4));
        let step = "slow".to_owned();
        board.apply(start, ProgressEvent::StepActive { step, hold });

        let lines = board.render(start + Duration::from_secs(1));
        let slow = line_with(&lines, "  slow");
        assert!(slow.contains("active"), "{slow}");
        assert!(slow.contains("3.0s left"), "{slow}");
        let crash = line_with(&lines, "  crash");
        assert!(crash.contains("waiting"), "{crash}");
        assert!(crash.contains("after slow"), "{crash}");
        assert!(line_with(&lines, "running").contains("59.0s left"));
    }

    #[test]
    fn probe_shows_latest_sample() {
        let start = Instant::now();
        let mut board = Board::new(start);
        board.apply(start, ProgressEvent::RunStarted(outline(start)));
        board.apply(start, ProgressEvent::ProbeSampled(sample(true)));
        board.apply(start, ProgressEvent::ProbeSampled(sample(false)));

        let lines = board.render(start);
        let home = line_with(&lines, "  home");
        assert!(home.contains("failing"), "{home}");
        assert!(home.contains("timed out after 2s"), "{home}");
        assert!(home.contains("2 samples, 1 failed"), "{home}");
    }

    #[test]
    fn reverted_fault_leaves_faults_in_place() {
        let start = Instant::now();
        let mut board = Board::new(start);
        board.apply(start, ProgressEvent::RunStarted(outline(start)));
        let injected = ProgressEvent::FaultInjected {
            id: 1,
            step: "slow".to_owned(),
            fault: "latency".to_owned(),
            target: "front".to_owned(),
        };
        board.apply(start, injected);
        assert!(line_with(&board.render(start), "#1 latency on front").contains("verifying"));

        let outcome = RollbackOutcome::Reverted;
        board.apply(start, ProgressEvent::FaultReverted { id: 1, outcome });
        let lines = board.render(start);
        assert!(lines.iter().any(|line| line == "faults in place: none"));
    }

    #[test]
    fn failed_revert_fails_step() {
        let start = Instant::now();
        let mut board = Board::new(start);
        board.apply(start, ProgressEvent::RunStarted(outline(start)));
        let injected = ProgressEvent::FaultInjected {
            id: 3,
            step: "crash".to_owned(),
            fault: "process_kill".to_owned(),
            target: "web".to_owned(),
        };
        board.apply(start, injected);
        let outcome = RollbackOutcome::Failed;
        board.apply(start, ProgressEvent::FaultReverted { id: 3, outcome });

        let lines = board.render(start);
        let crash = line_with(&lines, "  crash");
        assert!(crash.contains("failed"), "{crash}");
        assert!(crash.contains("fault 3 could not be reverted"), "{crash}");
    }

    #[test]
    fn stop_condition_marked_fired() {
        let start = Instant::now();
        let mut board = Board::new(start);
        board.apply(start, ProgressEvent::RunStarted(outline(start)));
        let ending = Ending::StopCondition("home.failures > 20".to_owned());
        board.apply(
            start + Duration::from_secs(5),
            ProgressEvent::RollingBack(ending),
        );

        let lines = board.render(start + Duration::from_secs(5));
        assert!(line_with(&lines, "home.failures > 20  ").contains("FIRED at 5.0s"));
        assert!(line_with(&lines, "rolling back").contains("stop condition fired"));
    }

    #[test]
    fn final_frame_shows_verdict() {
        let start = Instant::now();
        let mut board = Board::new(start);
        board.apply(start, ProgressEvent::RunStarted(outline(start)));
        let summary = RunSummary {
            experiment: "demo".to_owned(),
            status: crate::model::ExperimentStatus::Completed,
            criteria: "success criteria met".to_owned(),
            reason: None,
            duration_seconds: 12.34,
            rollback_complete: true,
        };
        board.apply(start, ProgressEvent::Finished(summary));

        assert!(board.is_finished());
        let lines = board.render(start);
        assert_eq!(lines[1], "demo: completed (success criteria met) in 12.3s");
        assert!(line_with(&lines, "  slow").contains("not run"));
        assert!(lines.iter().any(|line| line == "faults: none injected"));
        assert!(!lines.iter().any(|line| line == "events"));
    }

    #[test]
    fn clock_formats() {
        assert_eq!(clock(Duration::from_millis(4200)), "4.2s");
        assert_eq!(clock(Duration::from_secs(185)), "3m05s");
        assert_eq!(clock(Duration::from_secs(3720)), "1h02m");
    }
}
