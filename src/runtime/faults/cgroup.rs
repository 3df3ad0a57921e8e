//! `cgroup_limit`: moves the processes of a launched target into a cgroup
//! that chaosc creates, named after the run, and limits its CPU, memory and
//! block I/O there.
//!
//! cgroup v2 (`cpu.max`, `memory.max`, `io.max`) is used when a cgroup2
//! file system is mounted with every controller the fault needs. The new
//! cgroup is then made under the root of that mount, and the root's
//! `cgroup.subtree_control` gets the controllers if it lacks them.
//! Otherwise each needed cgroup v1 hierarchy (`cpu`, `memory`, `blkio`) gets
//! a child of the cgroup the target is in, so the limits of its parents
//! still apply. The v1 limit files are `cpu.cfs_quota_us` and
//! `cpu.cfs_period_us`, `memory.limit_in_bytes`, and
//! `blkio.throttle.read_bps_device` and `write_bps_device`.
//!
//! Reverting moves every process still in the new cgroup back to the
//! cgroup the target was in and removes the new cgroup. The journal records
//! the paths of both, so `chaosc recover` and the guardian can do the same.
//! No limit file of the cgroup the target was in is written, so its limits
//! are the same after the fault as before. In v2 the root's
//! `cgroup.subtree_control` keeps the controllers it was given.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::FaultContext;
use super::cgroup_layout::{CgroupVersion, Controller, Layout};
use super::procfs::{cpu_shares, format_bytes, group_members};
use crate::model::{FaultSpec, TypedValue};
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::revert::{RevertAction, RevertOutcome};
use crate::runtime::targets::ProcessTarget;

/// The CPU period the quota of a CPU limit is a share of, in microseconds.
const CPU_PERIOD_US: u64 = 100_000;

/// The smallest CPU quota the kernel accepts, in microseconds.
const MIN_CPU_QUOTA_US: u64 = 1_000;

/// The start of the names of the cgroups chaosc creates.
const CGROUP_PREFIX: &str = "chaosc-";

/// How long the CPU use of the limited processes is measured.
const MEASURE_WINDOW: Duration = Duration::from_millis(500);

/// How far above its quota the measured CPU share may be (clock ticks and
/// the window's edges add noise).
const CPU_TOLERANCE: f64 = 0.15;

/// A cgroup that a fault created, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedCgroup {
    /// The cgroup's directory, named `chaosc-`, the run id and 8 hex digits
    /// of the fault's seed.
    pub path: PathBuf,
    /// The cgroup the target was in, where its processes go back to.
    pub original: PathBuf,
}

/// The limits of one fault.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Limits {
    /// The share of one CPU.
    cpu: Option<f64>,
    /// Bytes.
    memory: Option<u64>,
    /// Bytes per second, for reads and for writes, on one block device.
    io: Option<u64>,
}

impl Limits {
    fn from_spec(spec: &FaultSpec) -> Limits {
        let cpu = match spec.params.get("cpu") {
            Some(TypedValue::Percent(share)) if *share > 0.0 => Some(*share),
            _ => None,
        };
        let memory = match spec.params.get("memory") {
            Some(TypedValue::Size(bytes)) if *bytes > 0 => Some(*bytes),
            _ => None,
        };
        let io = match spec.params.get("io_bandwidth") {
            Some(TypedValue::Bandwidth(bits)) if *bits > 0 => Some((*bits / 8).max(1)),
            _ => None,
        };
        Limits { cpu, memory, io }
    }

    fn controllers(&self) -> Vec<Controller> {
        Controller::ALL
            .into_iter()
            .filter(|c| match c {
                Controller::Cpu => self.cpu.is_some(),
                Controller::Memory => self.memory.is_some(),
                Controller::Io => self.io.is_some(),
            })
            .collect()
    }

    fn cpu_quota_us(&self) -> Option<u64> {
        self.cpu
            .map(|share| ((share * CPU_PERIOD_US as f64).round() as u64).max(MIN_CPU_QUOTA_US))
    }
}

/// One created cgroup and the controllers it limits.
#[derive(Debug, Clone)]
struct Placed {
    controllers: Vec<Controller>,
    cgroup: CreatedCgroup,
}

/// Limits a launched target in a cgroup of its own.
pub struct CgroupLimit {
    target: String,
    process: Arc<Mutex<ProcessTarget>>,
    version: CgroupVersion,
    limits: Limits,
    /// The block device (major, minor) of an I/O limit.
    device: Option<(u64, u64)>,
    /// The cgroup2 mount point, whose subtree must offer the controllers.
    v2_root: Option<PathBuf>,
    placed: Vec<Placed>,
}

impl CgroupLimit {
    /// Chooses the cgroup interface and names the cgroups, creating nothing.
    pub async fn new(
        spec: &FaultSpec,
        target: &str,
        process: Arc<Mutex<ProcessTarget>>,
        context: &FaultContext,
    ) -> Result<Self, FaultError> {
        let limits = Limits::from_spec(spec);
        let needed = limits.controllers();
        if needed.is_empty() {
            return Err(FaultError(
                "`cgroup_limit` needs at least one of `cpu`, `memory` and `io_bandwidth` above 0"
                    .to_owned(),
            ));
        }
        let pid = match &*process.lock().await {
            ProcessTarget::Launched(launched) => launched.pid,
            ProcessTarget::Attached { .. } => {
                return Err(FaultError(format!(
                    "target `{target}` was not launched by chaosc, and `cgroup_limit` acts only on launched targets"
                )));
            }
        };
        let layout = Layout::read();
        let version = layout.choose(&needed).map_err(FaultError)?;
        let device = match limits.io {
            Some(_) => Some(block_device_of_cwd(pid).map_err(FaultError)?),
            None => None,
        };

        let name = format!(
            "{CGROUP_PREFIX}{}-{:08x}",
            context.run_id, context.seed as u32
        );
        let placed = place_cgroups(&layout, version, &needed, pid, &name).map_err(FaultError)?;
        if let Some(existing) = placed.iter().find(|p| p.cgroup.path.exists()) {
            return Err(FaultError(format!(
                "cgroup `{}` already exists",
                existing.cgroup.path.display()
            )));
        }
        let v2_root = match version {
            CgroupVersion::V2 => layout.v2_mount().map(|mount| mount.point.clone()),
            CgroupVersion::V1 => None,
        };
        Ok(CgroupLimit {
            target: target.to_owned(),
            process,
            version,
            limits,
            device,
            v2_root,
            placed,
        })
    }

    /// Writes the limit files of one created cgroup.
    fn write_limits(&self, placed: &Placed) -> Result<(), String> {
        let dir = &placed.cgroup.path;
        for controller in &placed.controllers {
            for (file, value) in self.limit_files(*controller) {
                write_file(&dir.join(file), &value)?;
            }
        }
        Ok(())
    }

    /// Returns the files that set the limit of `controller`, with their
    /// values, in the order they must be written.
    fn limit_files(&self, controller: Controller) -> Vec<(&'static str, String)> {
        let device = self
            .device
            .map(|(major, minor)| format!("{major}:{minor}"))
            .unwrap_or_default();
        match (controller, self.version) {
            (Controller::Cpu, CgroupVersion::V1) => vec![
                ("cpu.cfs_period_us", CPU_PERIOD_US.to_string()),
                (
                    "cpu.cfs_quota_us",
                    self.limits.cpu_quota_us().unwrap_or_default().to_string(),
                ),
            ],
            (Controller::Cpu, CgroupVersion::V2) => vec![(
                "cpu.max",
                format!(
                    "{} {CPU_PERIOD_US}",
                    self.limits.cpu_quota_us().unwrap_or_default()
                ),
            )],
            (Controller::Memory, CgroupVersion::V1) => vec![(
                "memory.limit_in_bytes",
                self.limits.memory.unwrap_or_default().to_string(),
            )],
            (Controller::Memory, CgroupVersion::V2) => vec![(
                "memory.max",
                self.limits.memory.unwrap_or_default().to_string(),
            )],
            (Controller::Io, CgroupVersion::V1) => {
                let rate = self.limits.io.unwrap_or_default();
                vec![
                    ("blkio.throttle.read_bps_device", format!("{device} {rate}")),
                    (
                        "blkio.throttle.write_bps_device",
                        format!("{device} {rate}"),
                    ),
                ]
            }
            (Controller::Io, CgroupVersion::V2) => {
                let rate = self.limits.io.unwrap_or_default();
                vec![("io.max", format!("{device} rbps={rate} wbps={rate}"))]
            }
        }
    }

    /// Reads back the limit files and returns their contents. Fails when one
    /// does not contain the value written.
    fn read_back(&self, placed: &Placed) -> Result<Vec<String>, String> {
        let mut seen = Vec::new();
        let page = page_size();
        for controller in &placed.controllers {
            for (file, written) in self.limit_files(*controller) {
                let path = placed.cgroup.path.join(file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
                let matches = match (controller, self.version) {
                    // The kernel rounds memory limits down to whole pages.
                    (Controller::Memory, _) => text.trim().parse::<u64>().is_ok_and(|value| {
                        let requested: u64 = written.parse().unwrap_or_default();
                        value == requested / page * page || value == requested
                    }),
                    (Controller::Io, CgroupVersion::V2) => {
                        let device = written.split(' ').next().unwrap_or_default();
                        text.lines().any(|line| {
                            line.starts_with(&format!("{device} "))
                                && written
                                    .split(' ')
                                    .skip(1)
                                    .all(|part| line.split(' ').any(|have| have == part))
                        })
                    }
                    (Controller::Io, CgroupVersion::V1) => {
                        text.lines().any(|line| line.trim() == written)
                    }
                    (Controller::Cpu, _) => text.trim() == written,
                };
                if !matches {
                    return Err(format!(
                        "`{}` contains {:?}, not {written:?}",
                        path.display(),
                        text.trim()
                    ));
                }
                seen.push(format!("{file} {}", text.trim().replace('\n', "; ")));
            }
        }
        Ok(seen)
    }

    fn memory_in_use(&self) -> Option<u64> {
        let placed = self
            .placed
            .iter()
            .find(|p| p.controllers.contains(&Controller::Memory))?;
        let file = match self.version {
            CgroupVersion::V1 => "memory.usage_in_bytes",
            CgroupVersion::V2 => "memory.current",
        };
        std::fs::read_to_string(placed.cgroup.path.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

/// Returns the cgroups named `name` to create for the `needed` controllers,
/// each with the cgroup `pid` is in now. cgroup v2 gets one under the root
/// of its mount. cgroup v1 gets one per hierarchy, as a child of the
/// process's cgroup there, and controllers mounted together share it.
fn place_cgroups(
    layout: &Layout,
    version: CgroupVersion,
    needed: &[Controller],
    pid: u32,
    name: &str,
) -> Result<Vec<Placed>, String> {
    if version == CgroupVersion::V2 {
        let mount = layout
            .v2_mount()
            .ok_or_else(|| "no cgroup2 file system is mounted".to_owned())?;
        let original = layout.cgroup_dir(mount, pid, None)?;
        return Ok(vec![Placed {
            controllers: needed.to_vec(),
            cgroup: CreatedCgroup {
                path: mount.point.join(name),
                original,
            },
        }]);
    }

    let mut placed: Vec<Placed> = Vec::new();
    for controller in needed {
        let v1_name = controller.name(CgroupVersion::V1);
        let mount = layout
            .v1_mount(*controller)
            .ok_or_else(|| format!("no cgroup v1 `{v1_name}` hierarchy is mounted"))?;
        let original = layout.cgroup_dir(mount, pid, Some(v1_name))?;
        let path = original.join(name);
        match placed.iter_mut().find(|p| p.cgroup.path == path) {
            Some(shared) => shared.controllers.push(*controller),
            None => placed.push(Placed {
                controllers: vec![*controller],
                cgroup: CreatedCgroup { path, original },
            }),
        }
    }
    Ok(placed)
}

fn write_file(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value)
        .map_err(|error| format!("cannot write {value:?} to `{}`: {error}", path.display()))
}

fn page_size() -> u64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE) {
        Ok(Some(size)) if size > 0 => size as u64,
        _ => 4096,
    }
}

/// Returns the pids listed in a cgroup's `cgroup.procs`.
fn procs(dir: &Path) -> Vec<u32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .map(|text| {
            text.lines()
                .filter_map(|line| line.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Moves `pid` into the cgroup at `dir`. Returns `false` when the process
/// has ended.
fn move_pid(dir: &Path, pid: u32) -> Result<bool, String> {
    match std::fs::write(dir.join("cgroup.procs"), pid.to_string()) {
        Ok(()) => Ok(true),
        Err(error) if error.raw_os_error() == Some(nix::errno::Errno::ESRCH as i32) => Ok(false),
        Err(error) => Err(format!(
            "cannot move process {pid} into `{}`: {error}",
            dir.display()
        )),
    }
}

/// Returns the whole block device (major, minor) that holds the working
/// directory of `pid`.
fn block_device_of_cwd(pid: u32) -> Result<(u64, u64), String> {
    let cwd = PathBuf::from(format!("/proc/{pid}/cwd"));
    let metadata = std::fs::metadata(&cwd)
        .map_err(|error| format!("cannot read the working directory of process {pid}: {error}"))?;
    let dev = metadata.dev();
    let (major, minor) = (nix::sys::stat::major(dev), nix::sys::stat::minor(dev));
    if major == 0 {
        let cwd_path = std::fs::read_link(&cwd).unwrap_or(cwd);
        return Err(format!(
            "the working directory `{}` of process {pid} is on a file system without a block device, so `io_bandwidth` cannot be applied",
            cwd_path.display()
        ));
    }
    // A partition is throttled through its disk.
    let sys = PathBuf::from(format!("/sys/dev/block/{major}:{minor}"));
    if sys.join("partition").exists()
        && let Ok(text) = std::fs::read_to_string(sys.join("../dev"))
        && let Some((disk_major, disk_minor)) = text.trim().split_once(':')
        && let (Ok(disk_major), Ok(disk_minor)) = (disk_major.parse(), disk_minor.parse())
    {
        return Ok((disk_major, disk_minor));
    }
    Ok((major, minor))
}

#[async_trait]
impl Fault for CgroupLimit {
    fn kind(&self) -> &'static str {
        "cgroup_limit"
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::RemoveCgroups {
            cgroups: self.placed.iter().map(|p| p.cgroup.clone()).collect(),
        }
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        let (pid, _) = self.process.lock().await.identity();
        if let Some(root) = &self.v2_root {
            enable_controllers(root, &self.limits.controllers()).map_err(FaultError)?;
        }
        for placed in &self.placed {
            std::fs::create_dir(&placed.cgroup.path).map_err(|error| {
                FaultError(format!(
                    "cannot create cgroup `{}`: {error}",
                    placed.cgroup.path.display()
                ))
            })?;
            self.write_limits(placed).map_err(FaultError)?;
        }
        // The whole process group of the target is moved, because a launched
        // target leads its own group and its children are in it.
        let mut members = group_members(pid);
        if !members.contains(&pid) {
            members.insert(0, pid);
        }
        for placed in &self.placed {
            for member in &members {
                let moved = move_pid(&placed.cgroup.path, *member).map_err(FaultError)?;
                if !moved && *member == pid {
                    return Err(FaultError(format!(
                        "process {pid} of `{}` ended before it could be limited",
                        self.target
                    )));
                }
            }
        }
        Ok(())
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let (pid, _) = self.process.lock().await.identity();
        let mut seen = Vec::new();
        for placed in &self.placed {
            if !procs(&placed.cgroup.path).contains(&pid) {
                return Err(FaultError(format!(
                    "process {pid} is not in `{}`",
                    placed.cgroup.path.display()
                )));
            }
            seen.extend(self.read_back(placed).map_err(FaultError)?);
        }
        if let Some(placed) = self
            .placed
            .iter()
            .find(|p| p.controllers.contains(&Controller::Cpu))
        {
            let members = procs(&placed.cgroup.path);
            let shares = cpu_shares(&members, MEASURE_WINDOW).await;
            let used: f64 = shares.iter().flatten().sum();
            let quota = self.limits.cpu.unwrap_or_default();
            if used > quota + CPU_TOLERANCE {
                return Err(FaultError(format!(
                    "the processes in `{}` used {:.0}% of a CPU over {}ms, above the {:.0}% limit",
                    placed.cgroup.path.display(),
                    used * 100.0,
                    MEASURE_WINDOW.as_millis(),
                    quota * 100.0
                )));
            }
            seen.push(format!(
                "they used {:.0}% of a CPU over {}ms",
                used * 100.0,
                MEASURE_WINDOW.as_millis()
            ));
        }
        if let Some(bytes) = self.memory_in_use() {
            seen.push(format!("{} of memory charged", format_bytes(bytes)));
        }
        let paths: Vec<String> = self
            .placed
            .iter()
            .map(|p| format!("`{}`", p.cgroup.path.display()))
            .collect();
        Ok(format!(
            "process {pid} is in cgroup {} {}: {}",
            match self.version {
                CgroupVersion::V1 => "v1",
                CgroupVersion::V2 => "v2",
            },
            paths.join(", "),
            seen.join(", ")
        ))
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        let cgroups: Vec<CreatedCgroup> = self.placed.iter().map(|p| p.cgroup.clone()).collect();
        // Removing waits in short sleeps for the kernel to let go of the
        // cgroups, so it runs off the async worker threads.
        let outcome = tokio::task::spawn_blocking(move || remove_cgroups(&cgroups))
            .await
            .map_err(|error| FaultError(format!("removing the cgroups failed: {error}")))?;
        match outcome.map_err(FaultError)? {
            RevertOutcome::Reverted(text) | RevertOutcome::NothingLeft(text) => Ok(text),
        }
    }
}

/// Makes the root of the cgroup2 mount offer `controllers` to its children.
///
/// NOTE: the cgroup v2 path is covered only by unit tests on a plain
/// directory, not on a real cgroup2 mount. Where the mount root is not the
/// real root (a container with its own cgroup namespace) and has processes
/// of its own, the kernel rejects this write with EBUSY and the fault fails.
fn enable_controllers(root: &Path, controllers: &[Controller]) -> Result<(), String> {
    let path = root.join("cgroup.subtree_control");
    let enabled = std::fs::read_to_string(&path).unwrap_or_default();
    for controller in controllers {
        let name = controller.name(CgroupVersion::V2);
        if !enabled.split_whitespace().any(|have| have == name) {
            write_file(&path, &format!("+{name}"))?;
        }
    }
    Ok(())
}

/// Moves the processes of cgroups that a fault created back to where they
/// came from, and removes the cgroups, newest first. Safe to repeat.
pub fn remove_cgroups(cgroups: &[CreatedCgroup]) -> Result<RevertOutcome, String> {
    // A process limited in several v1 hierarchies is counted once.
    let mut moved = BTreeSet::new();
    let mut removed = Vec::new();
    for cgroup in cgroups.iter().rev() {
        let named_by_chaosc = cgroup
            .path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with(CGROUP_PREFIX));
        if !named_by_chaosc {
            return Err(format!(
                "`{}` is not a cgroup that chaosc created, so it was left in place",
                cgroup.path.display()
            ));
        }
        if !cgroup.path.exists() {
            continue;
        }
        let back = if cgroup.original.join("cgroup.procs").exists() {
            cgroup.original.clone()
        } else {
            // The original cgroup is gone; its parent takes the processes.
            cgroup
                .path
                .parent()
                .map(Path::to_owned)
                .unwrap_or_else(|| cgroup.original.clone())
        };
        // A process may fork while the others are moved, so the list is
        // read again until it is empty.
        let mut tries = 0;
        loop {
            let left = procs(&cgroup.path);
            if left.is_empty() {
                break;
            }
            tries += 1;
            if tries > 50 {
                return Err(format!(
                    "processes {left:?} are still in `{}` after 50 attempts to move them out",
                    cgroup.path.display()
                ));
            }
            for pid in left {
                if move_pid(&back, pid)? {
                    moved.insert(pid);
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut tries = 0;
        loop {
            match std::fs::remove_dir(&cgroup.path) {
                Ok(()) => break,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => break,
                // A process that just left may still be counted briefly.
                Err(error)
                    if tries < 100
                        && error.raw_os_error() == Some(nix::errno::Errno::EBUSY as i32) =>
                {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(error) => {
                    return Err(format!(
                        "cannot remove cgroup `{}`: {error}",
                        cgroup.path.display()
                    ));
                }
            }
        }
        removed.push(format!("`{}`", cgroup.path.display()));
    }
    if removed.is_empty() {
        return Ok(RevertOutcome::NothingLeft(
            "no cgroup of the fault is left".to_owned(),
        ));
    }
    Ok(RevertOutcome::Reverted(format!(
        "moved {} process{} back and removed cgroup {}",
        moved.len(),
        if moved.len() == 1 { "" } else { "es" },
        removed.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(version: CgroupVersion, limits: Limits) -> CgroupLimit {
        CgroupLimit {
            target: "web".to_owned(),
            process: Arc::new(Mutex::new(ProcessTarget::Attached {
                pid: 1,
                start_time: 1,
            })),
            version,
            limits,
            device: Some((254, 0)),
            v2_root: None,
            placed: Vec::new(),
        }
    }

    #[test]
    fn limit_files_of_each_version() {
        let limits = Limits {
            cpu: Some(0.25),
            memory: Some(64 << 20),
            io: Some(1 << 20),
        };
        let v1 = limit(CgroupVersion::V1, limits);
        assert_eq!(
            v1.limit_files(Controller::Cpu),
            vec![
                ("cpu.cfs_period_us", "100000".to_owned()),
                ("cpu.cfs_quota_us", "25000".to_owned())
            ]
        );
        assert_eq!(
            v1.limit_files(Controller::Io)[1],
            (
                "blkio.throttle.write_bps_device",
                "254:0 1048576".to_owned()
            )
        );
        let v2 = limit(CgroupVersion::V2, limits);
        assert_eq!(
            v2.limit_files(Controller::Cpu),
            vec![("cpu.max", "25000 100000".to_owned())]
        );
        assert_eq!(
            v2.limit_files(Controller::Memory),
            vec![("memory.max", "67108864".to_owned())]
        );
        assert_eq!(
            v2.limit_files(Controller::Io),
            vec![("io.max", "254:0 rbps=1048576 wbps=1048576".to_owned())]
        );
    }

    /// The file handling of both versions, on a plain directory in place of
    /// a cgroup file system: limits written and read back, processes moved
    /// back, the cgroup removed.
    #[test]
    fn writes_reads_back_and_removes() {
        let fs = tempfile::tempdir().unwrap();
        let original = fs.path().join("app");
        std::fs::create_dir(&original).unwrap();
        std::fs::write(original.join("cgroup.procs"), "").unwrap();
        for version in [CgroupVersion::V1, CgroupVersion::V2] {
            let created = original.join("chaosc-run-00000001");
            std::fs::create_dir(&created).unwrap();
            let mut fault = limit(
                version,
                Limits {
                    cpu: Some(0.5),
                    memory: Some(64 << 20),
                    io: Some(4096),
                },
            );
            let placed = Placed {
                controllers: Controller::ALL.to_vec(),
                cgroup: CreatedCgroup {
                    path: created.clone(),
                    original: original.clone(),
                },
            };
            fault.placed.push(placed.clone());
            fault.write_limits(&placed).unwrap();
            let seen = fault.read_back(&placed).unwrap();
            assert_eq!(
                seen.len(),
                fault.limit_files(Controller::Cpu).len()
                    + fault.limit_files(Controller::Memory).len()
                    + fault.limit_files(Controller::Io).len()
            );
            // A real cgroup directory has no files of its own to remove.
            for entry in std::fs::read_dir(&created).unwrap().flatten() {
                std::fs::remove_file(entry.path()).unwrap();
            }
            let outcome = remove_cgroups(std::slice::from_ref(&placed.cgroup)).unwrap();
            assert!(matches!(outcome, RevertOutcome::Reverted(_)), "{outcome:?}");
            assert!(!created.exists());
            let again = remove_cgroups(&[placed.cgroup]).unwrap();
            assert!(matches!(again, RevertOutcome::NothingLeft(_)), "{again:?}");
        }
    }

    #[test]
    fn remove_cgroups_rejects_foreign_cgroups() {
        let error = remove_cgroups(&[CreatedCgroup {
            path: PathBuf::from("/sys/fs/cgroup/cpu/system.slice"),
            original: PathBuf::from("/sys/fs/cgroup/cpu"),
        }])
        .unwrap_err();
        assert!(
            error.contains("not a cgroup that chaosc created"),
            "{error}"
        );
    }
}
