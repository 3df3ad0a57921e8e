//! The clock skew fault: a launched target is restarted with libfaketime
//! preloaded, so that its wall clock runs ahead or behind by a fixed offset,
//! and restarted without it on revert. The target's clock is observed in
//! the `Date` header of an HTTP response from its `ready` address.

use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use super::FaultContext;
use crate::check::time_skew_offset_problem;
use crate::model::{FaultSpec, LaunchSpec, TypedValue};
use crate::runtime::JournalHandle;
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::http_client::error_chain;
use crate::runtime::process::{end_with_env, proc_stat};
use crate::runtime::revert::RevertAction;
use crate::runtime::targets::{ProcessTarget, replace_launched};

/// The environment variable that marks every process started with a
/// shifted clock, children included, so that a recovery from the journal
/// can find them without the run.
const MARKER: &str = "CHAOSC_TIME_SKEW";

/// How many times the clock is read before a shift counts as not observed,
/// and the pause between readings.
const READ_ATTEMPTS: u32 = 5;
const READ_PAUSE: Duration = Duration::from_millis(200);

/// How long one request for the target's clock may take.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Seconds added to both ends of a measured shift, for adjustments of the
/// host's clock (NTP) between two readings.
const SLACK: f64 = 0.5;

/// How long a target with a shifted clock may take to exit on SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Lists the paths searched for libfaketime, in order: the Debian and
/// Ubuntu package (`libfaketime`, multiarch directory), two plain library
/// directories that other distributions may use, and the directory that
/// `make install` of libfaketime 0.9.10 writes to.
fn library_paths() -> Vec<PathBuf> {
    let multiarch = format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH);
    [
        multiarch.as_str(),
        "/usr/lib64",
        "/usr/lib",
        "/usr/local/lib",
    ]
    .iter()
    .map(|directory| PathBuf::from(directory).join("faketime/libfaketime.so.1"))
    .collect()
}

/// Returns the path of `libfaketime.so.1`, or the paths searched when it is
/// not installed.
pub fn find_libfaketime() -> Result<PathBuf, Vec<PathBuf>> {
    first_file(library_paths())
}

/// Returns the first of `paths` that is a file, or all of them when none is.
fn first_file(paths: Vec<PathBuf>) -> Result<PathBuf, Vec<PathBuf>> {
    match paths.iter().find(|path| path.is_file()) {
        Some(path) => Ok(path.clone()),
        None => Err(paths),
    }
}

/// Removes the shared memory and semaphore that libfaketime 0.9.10 creates
/// in `/dev/shm` for the process `pid` and names after it. libfaketime
/// removes them itself only when the process exits normally, so a process
/// ended by a signal leaves them behind, and its README (section "Cleaning
/// up shared memory") warns that they make a later process with the same
/// pid fail. Does nothing while a process with that pid runs, which may
/// have reused it, and leaves files of other users alone.
pub fn remove_libfaketime_shm(pid: u32) {
    if proc_stat(pid).is_some_and(|stat| stat.state != 'Z') {
        return;
    }
    let user = nix::unistd::geteuid().as_raw();
    for path in [
        format!("/dev/shm/faketime_shm_{pid}"),
        format!("/dev/shm/sem.faketime_sem_{pid}"),
    ] {
        // A missing file means the process exited normally, or that a
        // libfaketime that creates no such file ran in it.
        let ours = std::fs::symlink_metadata(&path)
            .is_ok_and(|metadata| metadata.is_file() && metadata.uid() == user);
        if ours {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Tells whether a launched process runs under a `time_skew`, from the
/// environment it was started with.
pub fn is_skewed(spec: &LaunchSpec) -> bool {
    spec.env.contains_key(MARKER)
}

/// Restarts a launched target with its wall clock shifted by a fixed
/// offset; reverting restarts it with the real clock.
pub struct TimeSkew {
    target: String,
    process: Arc<Mutex<ProcessTarget>>,
    journal: JournalHandle,
    /// The shift in whole seconds, negative when the clock is set back.
    offset: i64,
    /// The target's launch definition before the fault.
    original: LaunchSpec,
    /// The same definition with libfaketime preloaded.
    skewed: LaunchSpec,
    /// The `NAME=value` environment entry that marks the skewed processes.
    marker: String,
    address: SocketAddr,
    http: reqwest::Client,
    /// The target's clock before the fault, read by `inject`.
    baseline: Option<Reading>,
    /// Whether `inject` stopped the original process, so that `revert`
    /// must start it again.
    replaced: bool,
}

impl TimeSkew {
    pub async fn new(
        spec: &FaultSpec,
        target: &str,
        process: Arc<Mutex<ProcessTarget>>,
        context: FaultContext,
    ) -> Result<Self, FaultError> {
        let offset = offset_seconds(spec)?;
        let original = match &*process.lock().await {
            ProcessTarget::Launched(launched) => launched.spec.clone(),
            ProcessTarget::Attached { .. } => {
                return Err(FaultError(format!(
                    "target `{target}` was not launched by chaosc, so it cannot be restarted \
                     with a shifted clock"
                )));
            }
        };
        let address = original.ready.ok_or_else(|| {
            FaultError(format!(
                "target `{target}` has no `ready` address to read its clock from"
            ))
        })?;
        if original.env.contains_key("FAKETIME") {
            return Err(FaultError(format!(
                "target `{target}` already runs with `FAKETIME` set, so its clock cannot be \
                 shifted again"
            )));
        }
        let library = find_libfaketime().map_err(|paths| {
            FaultError(format!(
                "libfaketime is not installed (no file at {}); install it with \
                 `apt-get install faketime`",
                paths
                    .iter()
                    .map(|path| format!("`{}`", path.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;

        let run_and_target = format!("{}/{target}", context.run_id);
        let skewed = skewed_spec(&original, &library, offset, &run_and_target);
        // Responses come straight from the target: no proxy from the
        // environment, no redirects.
        let http = crate::runtime::http_client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(READ_TIMEOUT)
            .user_agent("chaosc")
            .build()
            .map_err(|error| FaultError(format!("cannot build an HTTP client: {error}")))?;
        Ok(TimeSkew {
            target: target.to_owned(),
            process,
            journal: context.journal,
            offset,
            original,
            skewed,
            marker: format!("{MARKER}={run_and_target}"),
            address,
            http,
            baseline: None,
            replaced: false,
        })
    }

    /// Reads the target's clock until its shift from the baseline contains
    /// `expected` seconds and not `excluded`. Returns the reading and the
    /// shift, or what the last reading found.
    async fn observe_shift(
        &self,
        expected: f64,
        excluded: f64,
    ) -> Result<(Reading, Shift), String> {
        let baseline = self
            .baseline
            .ok_or_else(|| "the clock was not read before the fault".to_owned())?;
        let mut last = String::new();
        for attempt in 0..READ_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(READ_PAUSE).await;
            }
            match read_clock(&self.http, self.address).await {
                Ok(reading) => {
                    let shift = reading.shift_from(&baseline);
                    if shift.contains(expected) && !shift.contains(excluded) {
                        return Ok((reading, shift));
                    }
                    last = format!("`Date` reads {}, {shift}", reading.date.to_rfc2822());
                }
                Err(error) => last = error,
            }
        }
        Err(format!("{last} ({READ_ATTEMPTS} readings)"))
    }
}

/// Returns the signed offset of `spec` in seconds.
fn offset_seconds(spec: &FaultSpec) -> Result<i64, FaultError> {
    let offset = spec
        .duration("offset")
        .ok_or_else(|| FaultError("`time_skew` needs an `offset`".to_owned()))?;
    if let Some(problem) = time_skew_offset_problem(offset) {
        return Err(FaultError(format!("invalid clock offset: {problem}")));
    }
    let seconds = i64::try_from(offset.as_secs())
        .map_err(|_| FaultError("invalid clock offset: it is too large".to_owned()))?;
    let backward = matches!(spec.params.get("backward"), Some(TypedValue::Bool(true)));
    Ok(if backward { -seconds } else { seconds })
}

/// Returns `original` with libfaketime preloaded and set to `offset`, and
/// marked with `run_and_target`.
fn skewed_spec(
    original: &LaunchSpec,
    library: &std::path::Path,
    offset: i64,
    run_and_target: &str,
) -> LaunchSpec {
    let mut skewed = original.clone();
    // A preload the target already has, from its definition or from the
    // environment chaosc passes on, stays after libfaketime.
    let inherited = original
        .env
        .get("LD_PRELOAD")
        .cloned()
        .or_else(|| std::env::var("LD_PRELOAD").ok())
        .filter(|preload| !preload.trim().is_empty());
    let preload = match inherited {
        Some(inherited) => format!("{}:{inherited}", library.display()),
        None => library.display().to_string(),
    };
    skewed.env.extend([
        ("LD_PRELOAD".to_owned(), preload),
        // An offset in seconds, signed, as libfaketime's README (section
        // 4d) describes it.
        ("FAKETIME".to_owned(), format!("{offset:+}")),
        // Only the wall clock moves: intervals measured on the monotonic
        // clock (timeouts, timers) keep their length.
        ("FAKETIME_DONT_FAKE_MONOTONIC".to_owned(), "1".to_owned()),
        // An offset needs no state shared between processes; libfaketime
        // 0.9.11 and later then create none in `/dev/shm`.
        ("FAKETIME_DISABLE_SHM".to_owned(), "1".to_owned()),
        (MARKER.to_owned(), run_and_target.to_owned()),
    ]);
    skewed
}

#[async_trait]
impl Fault for TimeSkew {
    fn kind(&self) -> &'static str {
        "time_skew"
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::Unskew {
            target: self.target.clone(),
            marker: self.marker.clone(),
            spec: self.original.clone(),
        }
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        // A target whose clock cannot be read is left untouched.
        let baseline = read_clock(&self.http, self.address)
            .await
            .map_err(|error| {
                FaultError(format!(
                    "cannot read the clock of `{}` before shifting it: {error}",
                    self.target
                ))
            })?;
        self.baseline = Some(baseline);

        let mut guard = self.process.lock().await;
        let ProcessTarget::Launched(process) = &mut *guard else {
            unreachable!("checked in new")
        };
        self.replaced = true;
        replace_launched(&self.target, process, &self.skewed, &self.journal)
            .await
            .map(drop)
            .map_err(FaultError)
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let (reading, shift) =
            self.observe_shift(self.offset as f64, 0.0)
                .await
                .map_err(|seen| {
                    FaultError(format!(
                        "the clock of `{}` is not {} after the restart: {seen}",
                        self.target,
                        describe_offset(self.offset)
                    ))
                })?;
        Ok(format!(
            "`Date` of `{}` reads {}: its clock is {} ({shift})",
            self.target,
            reading.date.to_rfc2822(),
            describe_offset(self.offset)
        ))
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        if !self.replaced {
            return Ok("the target was not restarted, so its clock was never shifted".to_owned());
        }
        let mut guard = self.process.lock().await;
        let ProcessTarget::Launched(process) = &mut *guard else {
            unreachable!("checked in new")
        };
        let skewed_pid = process.pid;
        process.stop(STOP_GRACE).await;
        // Children of the target that left its process group still carry
        // the marker; they go too, and free the target's address.
        let marker = self.marker.clone();
        let ended = tokio::task::spawn_blocking(move || end_with_env(&marker, STOP_GRACE))
            .await
            .map_err(|error| FaultError(format!("cannot end the skewed processes: {error}")))?;
        let ended = ended.map_err(|survivors| {
            FaultError(format!(
                "processes {survivors:?} of `{}` still run with a shifted clock",
                self.target
            ))
        })?;
        // A skewed process that a `process_kill` ended earlier had its files
        // removed then, and `chaosc recover` removes those of the journal's
        // launched targets.
        for pid in ended.into_iter().chain([skewed_pid]) {
            remove_libfaketime_shm(pid);
        }
        let pid = replace_launched(&self.target, process, &self.original, &self.journal)
            .await
            .map_err(FaultError)?;
        drop(guard);
        self.replaced = false;

        let (reading, shift) =
            self.observe_shift(0.0, self.offset as f64)
                .await
                .map_err(|seen| {
                    FaultError(format!(
                        "restarted `{}` as process {pid}, but its clock is not back: {seen}",
                        self.target
                    ))
                })?;
        Ok(format!(
            "restarted as process {pid} without libfaketime; `Date` reads {}, {shift}",
            reading.date.to_rfc2822()
        ))
    }
}

/// Describes a shift of `offset` seconds, such as "3600s ahead".
fn describe_offset(offset: i64) -> String {
    if offset < 0 {
        format!("{}s behind", offset.unsigned_abs())
    } else {
        format!("{offset}s ahead")
    }
}

/// One reading of a target's clock: its `Date` header, and the interval of
/// differences (the target's clock minus chaosc's, in seconds) that agree
/// with it. The header has whole seconds and was written at some moment
/// between sending the request and receiving the response, which gives the
/// interval's two ends.
#[derive(Debug, Clone, Copy)]
struct Reading {
    date: DateTime<Utc>,
    low: f64,
    high: f64,
}

impl Reading {
    fn new(date: DateTime<Utc>, sent: DateTime<Utc>, received: DateTime<Utc>) -> Reading {
        let seconds = |delta: chrono::TimeDelta| delta.as_seconds_f64();
        Reading {
            date,
            low: seconds(date - received),
            high: seconds(date - sent) + 1.0,
        }
    }

    /// Returns the shift of the target's clock since `baseline`.
    fn shift_from(&self, baseline: &Reading) -> Shift {
        Shift {
            low: self.low - baseline.high - SLACK,
            high: self.high - baseline.low + SLACK,
        }
    }
}

/// The interval, in seconds, that a clock's shift between two readings
/// lies in.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shift {
    low: f64,
    high: f64,
}

impl Shift {
    fn contains(&self, seconds: f64) -> bool {
        (self.low..=self.high).contains(&seconds)
    }
}

impl std::fmt::Display for Shift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "shifted by {:.1}s to {:.1}s since before the fault",
            self.low, self.high
        )
    }
}

/// Reads the clock of the HTTP server at `address` from the `Date` header
/// of its response to `GET /`. Any status will do, and the body is not
/// read.
async fn read_clock(http: &reqwest::Client, address: SocketAddr) -> Result<Reading, String> {
    let url = format!("http://{address}/");
    let sent = Utc::now();
    let response = http
        .get(&url)
        .send()
        .await
        .map_err(|error| format!("request to {url} failed: {}", error_chain(&error)))?;
    let received = Utc::now();
    let header = response
        .headers()
        .get(reqwest::header::DATE)
        .ok_or_else(|| format!("the response from {url} has no `Date` header"))?;
    let text = header.to_str().unwrap_or_default();
    let date = parse_http_date(text)
        .ok_or_else(|| format!("the `Date` header `{text}` from {url} is not an HTTP date"))?;
    Ok(Reading::new(date, sent, received))
}

/// Parses an HTTP date in any of the three forms that RFC 2068 (section
/// 3.3.1) requires HTTP/1.1 clients to accept: `Sun, 06 Nov 1994 08:49:37
/// GMT`, the one servers must send, and the older `Sunday, 06-Nov-94
/// 08:49:37 GMT` and `Sun Nov  6 08:49:37 1994`. All three are in GMT.
fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc2822(text) {
        return Some(date.with_timezone(&Utc));
    }
    let older = ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"];
    older.iter().find_map(|format| {
        chrono::NaiveDateTime::parse_from_str(text, format)
            .ok()
            .map(|date| date.and_utc())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn first_file_skips_missing_paths() {
        let directory = tempfile::tempdir().unwrap();
        let missing = directory.path().join("missing.so.1");
        let present = directory.path().join("libfaketime.so.1");
        std::fs::write(&present, b"").unwrap();
        assert_eq!(
            first_file(vec![missing.clone(), present.clone()]),
            Ok(present)
        );
        assert_eq!(
            first_file(vec![missing.clone(), directory.path().to_owned()]),
            Err(vec![missing, directory.path().to_owned()])
        );
    }

    #[test]
    fn http_dates_parse() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(at("1994-11-06T08:49:37Z"))
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(at("1994-11-06T08:49:37Z"))
        );
        assert_eq!(
            parse_http_date("Sun Nov  6 08:49:37 1994"),
            Some(at("1994-11-06T08:49:37Z"))
        );
        assert_eq!(parse_http_date("06/11/1994 08:49"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn reading_bounds_the_difference() {
        // The header was written between 12:00:00.2 and 12:00:00.5 and
        // reads 13:00:00, so the clock was between 59:59.5 and 60:00.8 ahead.
        let reading = Reading::new(
            at("2026-01-01T13:00:00Z"),
            at("2026-01-01T12:00:00.2Z"),
            at("2026-01-01T12:00:00.5Z"),
        );
        assert!((reading.low - 3599.5).abs() < 1e-9, "{reading:?}");
        assert!((reading.high - 3600.8).abs() < 1e-9, "{reading:?}");
    }

    #[test]
    fn shift_tells_skew_from_none() {
        let baseline = Reading::new(
            at("2026-01-01T12:00:00Z"),
            at("2026-01-01T12:00:00.1Z"),
            at("2026-01-01T12:00:00.2Z"),
        );
        let skewed = Reading::new(
            at("2026-01-01T13:00:05Z"),
            at("2026-01-01T12:00:05.1Z"),
            at("2026-01-01T12:00:05.2Z"),
        );
        let shift = skewed.shift_from(&baseline);
        assert!(shift.contains(3600.0), "{shift}");
        assert!(!shift.contains(0.0), "{shift}");
        let unshifted = Reading::new(
            at("2026-01-01T12:00:09Z"),
            at("2026-01-01T12:00:09.1Z"),
            at("2026-01-01T12:00:09.2Z"),
        );
        let shift = unshifted.shift_from(&baseline);
        assert!(shift.contains(0.0), "{shift}");
        assert!(!shift.contains(5.0), "{shift}");
    }

    #[test]
    fn skewed_spec_preloads_libfaketime() {
        let original = LaunchSpec {
            command: vec!["python3".to_owned()],
            env: BTreeMap::from([("LD_PRELOAD".to_owned(), "/opt/libtrace.so".to_owned())]),
            cwd: None,
            ready: Some("127.0.0.1:8080".parse().unwrap()),
            ready_timeout: Duration::from_secs(10),
        };
        let library = std::path::Path::new("/usr/lib/faketime/libfaketime.so.1");
        let skewed = skewed_spec(&original, library, -90, "run/web");
        assert_eq!(
            skewed.env["LD_PRELOAD"],
            "/usr/lib/faketime/libfaketime.so.1:/opt/libtrace.so"
        );
        assert_eq!(skewed.env["FAKETIME"], "-90");
        assert_eq!(skewed.env["FAKETIME_DONT_FAKE_MONOTONIC"], "1");
        assert_eq!(skewed.env["FAKETIME_DISABLE_SHM"], "1");
        assert_eq!(skewed.env["CHAOSC_TIME_SKEW"], "run/web");
        assert_eq!(skewed.command, original.command);
    }

    #[test]
    fn live_pid_keeps_libfaketime_files() {
        // This test's own process runs, so its pid is not free to clean up.
        let pid = std::process::id();
        let file = PathBuf::from(format!("/dev/shm/faketime_shm_{pid}"));
        if std::fs::write(&file, b"").is_err() {
            eprintln!("skipped: cannot write to /dev/shm");
            return;
        }
        remove_libfaketime_shm(pid);
        let still_there = file.exists();
        let _ = std::fs::remove_file(&file);
        assert!(still_there, "the file of a running process was removed");
    }
}
