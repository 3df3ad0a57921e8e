//! Health snapshots of the host and of each process target: CPU, memory,
//! disk and load from `/proc` and `statvfs(3)`, taken before, during and
//! after a run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::process::{is_alive, proc_stat};

/// How often a snapshot is taken during a run.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(5);

/// Above this share of CPU, memory or disk in use the host is degraded.
const DEGRADED_USAGE: f64 = 0.90;

/// Above this share of memory or disk in use the host is unhealthy.
const UNHEALTHY_USAGE: f64 = 0.95;

/// Above this one-minute load per CPU the host is degraded.
const DEGRADED_LOAD_PER_CPU: f64 = 2.0;

/// The overall verdict of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    /// An alert is active, or CPU, memory, disk or load is above 90% (load:
    /// above twice the number of CPUs).
    Degraded,
    /// A process target is not running, or memory or disk is above 95%.
    Unhealthy,
}

/// The host's resources at one moment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostHealth {
    /// Share of CPU time not idle since the previous snapshot, from 0 to 1.
    pub cpu_usage: Option<f64>,
    pub cpus: usize,
    pub memory_total_bytes: Option<u64>,
    pub memory_available_bytes: Option<u64>,
    /// Share of memory not available, from 0 to 1.
    pub memory_usage: Option<f64>,
    /// Share of the state directory's file system in use, from 0 to 1.
    pub disk_usage: Option<f64>,
    pub disk_free_bytes: Option<u64>,
    pub load1: Option<f64>,
    pub load5: Option<f64>,
    pub load15: Option<f64>,
}

/// One process target at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct TargetHealth {
    pub name: String,
    pub pid: u32,
    pub alive: bool,
    /// CPU time since the previous snapshot, in CPUs (1.0 is one full CPU).
    pub cpu_usage: Option<f64>,
    /// Resident memory (`VmRSS`).
    pub rss_bytes: Option<u64>,
}

/// The health of the host and the targets at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct HealthSnapshot {
    pub at: DateTime<Utc>,
    /// `before`, `during` or `after` the faults.
    pub phase: &'static str,
    pub host: HostHealth,
    pub targets: Vec<TargetHealth>,
    /// The alert rules with an active alert.
    pub active_alerts: Vec<String>,
    pub status: HealthStatus,
    /// The reasons the status is not `healthy`.
    pub reasons: Vec<String>,
}

impl HealthSnapshot {
    /// Returns the value of a host measure by its name in alert thresholds:
    /// `host.cpu_usage`, `host.memory_usage`, `host.disk_usage`,
    /// `host.load1`, `host.load5`, `host.load15`.
    pub fn measure(&self, name: &str) -> Option<f64> {
        let host = &self.host;
        match name {
            "host.cpu_usage" => host.cpu_usage,
            "host.memory_usage" => host.memory_usage,
            "host.disk_usage" => host.disk_usage,
            "host.load1" => host.load1,
            "host.load5" => host.load5,
            "host.load15" => host.load15,
            _ => None,
        }
    }
}

/// Takes snapshots, keeping the CPU counters of the previous one so that
/// CPU usage covers the time between two snapshots.
#[derive(Debug, Default)]
pub struct HealthSampler {
    last_cpu: Option<(u64, u64)>,
    last_target_cpu: BTreeMap<u32, (u64, std::time::Instant)>,
}

impl HealthSampler {
    /// Takes a snapshot. `targets` are the process targets as (name, pid,
    /// start time); `disk` is a path on the file system to watch.
    pub fn snapshot(
        &mut self,
        phase: &'static str,
        targets: &[(String, u32, u64)],
        disk: &Path,
        active_alerts: Vec<String>,
    ) -> HealthSnapshot {
        let mut host = HostHealth {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ..HostHealth::default()
        };
        if let Some((busy, total)) = read_cpu_times() {
            if let Some((last_busy, last_total)) = self.last_cpu
                && total > last_total
            {
                host.cpu_usage =
                    Some((busy - last_busy.min(busy)) as f64 / (total - last_total) as f64);
            }
            self.last_cpu = Some((busy, total));
        }
        read_memory(&mut host);
        read_disk(&mut host, disk);
        read_load(&mut host);

        let targets = targets
            .iter()
            .map(|(name, pid, start_time)| self.target(name, *pid, *start_time))
            .collect();
        let mut snapshot = HealthSnapshot {
            at: Utc::now(),
            phase,
            host,
            targets,
            active_alerts,
            status: HealthStatus::Healthy,
            reasons: Vec::new(),
        };
        judge(&mut snapshot);
        snapshot
    }

    fn target(&mut self, name: &str, pid: u32, start_time: u64) -> TargetHealth {
        let alive = is_alive(pid, start_time);
        let now = std::time::Instant::now();
        let jiffies = alive.then(|| read_process_jiffies(pid)).flatten();
        let cpu_usage = match (jiffies, self.last_target_cpu.get(&pid)) {
            (Some(used), Some((last, at))) if now > *at => {
                let seconds = (used.saturating_sub(*last)) as f64 / clock_ticks();
                Some(seconds / now.duration_since(*at).as_secs_f64())
            }
            _ => None,
        };
        if let Some(used) = jiffies {
            self.last_target_cpu.insert(pid, (used, now));
        }
        TargetHealth {
            name: name.to_owned(),
            pid,
            alive,
            cpu_usage,
            rss_bytes: alive.then(|| read_rss(pid)).flatten(),
        }
    }
}

/// Sets the status and reasons of a snapshot from its readings.
fn judge(snapshot: &mut HealthSnapshot) {
    let mut worst = HealthStatus::Healthy;
    let mut reasons = Vec::new();
    let mut note = |status: HealthStatus, reason: String| {
        worst = worst.max(status);
        reasons.push(reason);
    };
    for target in snapshot.targets.iter().filter(|target| !target.alive) {
        note(
            HealthStatus::Unhealthy,
            format!(
                "target `{}` (process {}) is not running",
                target.name, target.pid
            ),
        );
    }
    let host = &snapshot.host;
    for (what, usage) in [("memory", host.memory_usage), ("disk", host.disk_usage)] {
        match usage {
            Some(usage) if usage >= UNHEALTHY_USAGE => note(
                HealthStatus::Unhealthy,
                format!("{what} {:.0}% used", usage * 100.0),
            ),
            Some(usage) if usage >= DEGRADED_USAGE => note(
                HealthStatus::Degraded,
                format!("{what} {:.0}% used", usage * 100.0),
            ),
            _ => {}
        }
    }
    if let Some(cpu) = host.cpu_usage.filter(|cpu| *cpu >= DEGRADED_USAGE) {
        note(
            HealthStatus::Degraded,
            format!("CPU {:.0}% busy", cpu * 100.0),
        );
    }
    if let Some(load) = host
        .load1
        .filter(|load| *load > DEGRADED_LOAD_PER_CPU * host.cpus as f64)
    {
        note(
            HealthStatus::Degraded,
            format!("load {load:.2} on {} CPUs", host.cpus),
        );
    }
    if !snapshot.active_alerts.is_empty() {
        note(
            HealthStatus::Degraded,
            format!("alerts active: {}", snapshot.active_alerts.join(", ")),
        );
    }
    snapshot.status = worst;
    snapshot.reasons = reasons;
}

/// Reads the busy and total jiffies of all CPUs from `/proc/stat`.
fn read_cpu_times() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_times(&text)
}

fn parse_cpu_times(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|line| line.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal; guest time is already
    // counted in user and nice, so it is left out of the total.
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3).copied()? + fields.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

fn read_memory(host: &mut HostHealth) {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return;
    };
    let (total, available) = parse_meminfo(&text);
    host.memory_total_bytes = total;
    host.memory_available_bytes = available;
    if let (Some(total), Some(available)) = (total, available)
        && total > 0
    {
        host.memory_usage = Some(1.0 - available as f64 / total as f64);
    }
}

/// Returns `MemTotal` and `MemAvailable` in bytes.
fn parse_meminfo(text: &str) -> (Option<u64>, Option<u64>) {
    let field = |name: &str| {
        let line = text.lines().find(|line| line.starts_with(name))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    (field("MemTotal:"), field("MemAvailable:"))
}

fn read_disk(host: &mut HostHealth, path: &Path) {
    let Ok(stat) = nix::sys::statvfs::statvfs(path) else {
        return;
    };
    let fragment = stat.fragment_size();
    let total = stat.blocks() * fragment;
    let free = stat.blocks_available() * fragment;
    host.disk_free_bytes = Some(free);
    if total > 0 {
        host.disk_usage = Some(1.0 - free as f64 / total as f64);
    }
}

fn read_load(host: &mut HostHealth) {
    let Ok(text) = std::fs::read_to_string("/proc/loadavg") else {
        return;
    };
    let mut fields = text
        .split_whitespace()
        .map(|field| field.parse::<f64>().ok());
    host.load1 = fields.next().flatten();
    host.load5 = fields.next().flatten();
    host.load15 = fields.next().flatten();
}

/// Reads `utime + stime` of a process, in clock ticks.
fn read_process_jiffies(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses; fields are counted
    // from the last `)`. utime and stime are fields 14 and 15 of the line.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Reads `VmRSS` of a process, in bytes.
fn read_rss(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn clock_ticks() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100.0, |ticks| ticks as f64)
}

/// Returns (name, pid, start time) of a process that is alive now.
pub fn identity_of(name: &str, pid: u32) -> Option<(String, u32, u64)> {
    proc_stat(pid).map(|stat| (name.to_owned(), pid, stat.start_time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_times_leave_out_idle() {
        let text = "cpu  100 5 50 800 20 1 2 3 7 0\ncpu0 1 2 3 4\n";
        assert_eq!(parse_cpu_times(text), Some((161, 981)));
    }

    #[test]
    fn meminfo_reads_kibibytes() {
        let text = "MemTotal:       2048 kB\nMemFree:         100 kB\nMemAvailable:    512 kB\n";
        assert_eq!(parse_meminfo(text), (Some(2048 * 1024), Some(512 * 1024)));
    }

    #[test]
    fn snapshot_of_this_process() {
        let mut sampler = HealthSampler::default();
        let me = identity_of("self", std::process::id()).unwrap();
        let first = sampler.snapshot("before", std::slice::from_ref(&me), Path::new("/"), vec![]);
        std::thread::sleep(Duration::from_millis(50));
        let second = sampler.snapshot("during", &[me], Path::new("/"), vec!["x".to_owned()]);
        assert!(first.targets[0].alive);
        assert!(first.targets[0].rss_bytes.unwrap() > 0);
        assert!(second.targets[0].cpu_usage.is_some());
        assert!(second.host.memory_usage.is_some());
        assert!(second.host.disk_usage.is_some());
        assert!(second.host.load1.is_some());
        assert!(second.status >= HealthStatus::Degraded);
    }

    #[test]
    fn dead_target_is_unhealthy() {
        let mut sampler = HealthSampler::default();
        let gone = ("gone".to_owned(), u32::MAX - 1, 0);
        let snapshot = sampler.snapshot("after", &[gone], Path::new("/"), vec![]);
        assert_eq!(snapshot.status, HealthStatus::Unhealthy);
    }
}
