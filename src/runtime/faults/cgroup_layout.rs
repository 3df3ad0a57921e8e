//! The cgroup file systems of the host as `cgroup_limit` needs them. This
//! module reads the cgroup mounts from `/proc/self/mountinfo` and the
//! cgroup a process is in from `/proc/PID/cgroup`, chooses between cgroup
//! v2 and v1, and gives `chaosc doctor` its reasons when the fault cannot
//! run here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The cgroup interface in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CgroupVersion {
    V1,
    V2,
}

/// A resource a cgroup controller limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Controller {
    Cpu,
    Memory,
    Io,
}

impl Controller {
    pub(super) const ALL: [Controller; 3] = [Controller::Cpu, Controller::Memory, Controller::Io];

    pub(super) fn name(self, version: CgroupVersion) -> &'static str {
        match (self, version) {
            (Controller::Cpu, _) => "cpu",
            (Controller::Memory, _) => "memory",
            (Controller::Io, CgroupVersion::V1) => "blkio",
            (Controller::Io, CgroupVersion::V2) => "io",
        }
    }

    fn param(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Memory => "memory",
            Controller::Io => "io_bandwidth",
        }
    }
}

/// A mounted cgroup file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mount {
    /// The path of the mounted part of the hierarchy, `/` when the whole
    /// hierarchy is mounted.
    root: String,
    pub(super) point: PathBuf,
    v2: bool,
    /// The options of a v1 mount, which name its controllers.
    options: Vec<String>,
}

/// Undoes the octal escapes of `/proc/self/mountinfo` (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\'
            && index + 4 <= bytes.len()
            && bytes[index + 1..index + 4].iter().all(u8::is_ascii_digit)
            && let Ok(value) = u8::from_str_radix(&field[index + 1..index + 4], 8)
        {
            out.push(value);
            index += 4;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the cgroup mounts from the text of `/proc/self/mountinfo`.
fn parse_mounts(mountinfo: &str) -> Vec<Mount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            let fs_type = *right.first()?;
            let v2 = match fs_type {
                "cgroup2" => true,
                "cgroup" => false,
                _ => return None,
            };
            Some(Mount {
                root: unescape(left.get(3)?),
                point: PathBuf::from(unescape(left.get(4)?)),
                v2,
                options: right
                    .get(2)
                    .map(|options| options.split(',').map(str::to_owned).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Returns the path of `pid`'s cgroup in the hierarchy that has
/// `controller` (a v1 name), or in the v2 hierarchy when it is `None`, from
/// the text of `/proc/PID/cgroup`.
fn parse_proc_cgroup(text: &str, controller: Option<&str>) -> Option<String> {
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let id = parts.next()?;
        let controllers = parts.next()?;
        let path = parts.next()?;
        let matches = match controller {
            None => id == "0" && controllers.is_empty(),
            Some(name) => controllers.split(',').any(|c| c == name),
        };
        matches.then(|| path.to_owned())
    })
}

/// The cgroup mounts of the host.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    mounts: Vec<Mount>,
}

impl Layout {
    pub(super) fn read() -> Layout {
        let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Layout {
            mounts: parse_mounts(&text),
        }
    }

    /// Returns the cgroup2 mount, preferring `/sys/fs/cgroup`.
    pub(super) fn v2_mount(&self) -> Option<&Mount> {
        let mut mounts = self.mounts.iter().filter(|mount| mount.v2);
        let first = mounts.clone().next();
        mounts
            .find(|mount| mount.point == Path::new("/sys/fs/cgroup"))
            .or(first)
    }

    /// Returns the controllers the cgroup2 mount offers.
    fn v2_controllers(&self) -> Vec<String> {
        self.v2_mount()
            .and_then(|mount| std::fs::read_to_string(mount.point.join("cgroup.controllers")).ok())
            .map(|text| text.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Returns the v1 mount of a controller.
    pub(super) fn v1_mount(&self, controller: Controller) -> Option<&Mount> {
        let name = controller.name(CgroupVersion::V1);
        self.mounts
            .iter()
            .find(|mount| !mount.v2 && mount.options.iter().any(|option| option == name))
    }

    /// Chooses the interface for `needed`: v2 when its mount offers them
    /// all, else v1 when each has a hierarchy.
    pub(super) fn choose(&self, needed: &[Controller]) -> Result<CgroupVersion, String> {
        let offered = self.v2_controllers();
        if self.v2_mount().is_some()
            && needed
                .iter()
                .all(|c| offered.iter().any(|o| o == c.name(CgroupVersion::V2)))
        {
            return Ok(CgroupVersion::V2);
        }
        let missing: Vec<&str> = needed
            .iter()
            .filter(|c| self.v1_mount(**c).is_none())
            .map(|c| c.name(CgroupVersion::V1))
            .collect();
        if missing.is_empty() {
            return Ok(CgroupVersion::V1);
        }
        Err(format!(
            "no cgroup2 mount offers the {} controller{} and no cgroup v1 hierarchy of {} is mounted",
            needed
                .iter()
                .map(|c| format!("`{}`", c.name(CgroupVersion::V2)))
                .collect::<Vec<_>>()
                .join(", "),
            if needed.len() == 1 { "" } else { "s" },
            missing
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// Returns the directory of the cgroup `pid` is in, in the hierarchy of
    /// `mount`.
    pub(super) fn cgroup_dir(
        &self,
        mount: &Mount,
        pid: u32,
        v1_name: Option<&str>,
    ) -> Result<PathBuf, String> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .map_err(|error| format!("cannot read /proc/{pid}/cgroup: {error}"))?;
        let path = parse_proc_cgroup(&text, v1_name).ok_or_else(|| {
            format!(
                "/proc/{pid}/cgroup names no {} cgroup",
                v1_name.unwrap_or("v2")
            )
        })?;
        join_cgroup(mount, &path).ok_or_else(|| {
            format!(
                "process {pid} is in cgroup `{path}`, outside the part of the hierarchy mounted at `{}`",
                mount.point.display()
            )
        })
    }
}

/// Returns the directory of the cgroup at `path` of a hierarchy, under the
/// mount point of `mount`.
fn join_cgroup(mount: &Mount, path: &str) -> Option<PathBuf> {
    let root = mount.root.trim_end_matches('/');
    let relative = path.strip_prefix(root)?;
    if !(relative.is_empty() || relative.starts_with('/')) {
        return None;
    }
    let relative = relative.trim_start_matches('/');
    if relative.split('/').any(|part| part == "..") {
        return None;
    }
    Some(if relative.is_empty() {
        mount.point.clone()
    } else {
        mount.point.join(relative)
    })
}

/// Returns why `cgroup_limit` cannot limit a resource on this host, as a
/// reason and a fix for each resource that neither a writable cgroup2 mount
/// nor a writable v1 hierarchy offers.
pub fn host_problems() -> Vec<(String, String)> {
    let layout = Layout::read();
    let offered = layout.v2_controllers();
    layout_problems(&layout, &offered, |path| {
        nix::unistd::access(path, nix::unistd::AccessFlags::W_OK).is_ok()
    })
}

/// Returns the problems of a layout whose cgroup2 mount offers the
/// controllers `offered`. `writable` reports whether a mount point is
/// writable.
fn layout_problems(
    layout: &Layout,
    offered: &[String],
    writable: impl Fn(&Path) -> bool,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for controller in Controller::ALL {
        let v2 = layout.v2_mount().is_some_and(|mount| {
            writable(&mount.point)
                && offered
                    .iter()
                    .any(|name| name == controller.name(CgroupVersion::V2))
        });
        let v1 = layout
            .v1_mount(controller)
            .is_some_and(|mount| writable(&mount.point));
        if v2 || v1 {
            continue;
        }
        let (v2_name, v1_name) = (
            controller.name(CgroupVersion::V2),
            controller.name(CgroupVersion::V1),
        );
        problems.push((
            format!(
                "no writable cgroup2 mount offers the `{v2_name}` controller and no writable cgroup v1 `{v1_name}` hierarchy is mounted, so `{}` cannot be limited",
                controller.param()
            ),
            format!(
                "boot with cgroup v2 (kernel option `systemd.unified_cgroup_hierarchy=1`) so that /sys/fs/cgroup offers `{v2_name}`, or mount the v1 `{v1_name}` controller read-write at /sys/fs/cgroup/{v1_name} (a container needs its cgroup file system mounted read-write), or leave `{}` out of the step",
                controller.param()
            ),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blk\\040io rw,relatime - cgroup cgroup rw,blkio
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn parses_mounts() {
        let mounts = parse_mounts(MOUNTINFO);
        assert_eq!(mounts.len(), 4);
        assert_eq!(mounts[1].root, "/docker/abc");
        assert_eq!(mounts[2].point, PathBuf::from("/sys/fs/cgroup/blk io"));
        assert!(mounts[3].v2);
        let layout = Layout { mounts };
        assert_eq!(
            layout.v1_mount(Controller::Io).unwrap().point,
            PathBuf::from("/sys/fs/cgroup/blk io")
        );
        assert_eq!(
            layout.v2_mount().unwrap().point,
            PathBuf::from("/sys/fs/cgroup/unified")
        );
        // The unified mount has no controllers file here, so v1 is chosen.
        assert_eq!(
            layout.choose(&[Controller::Cpu, Controller::Memory]),
            Ok(CgroupVersion::V1)
        );
    }

    #[test]
    fn chooses_and_reports_missing() {
        let layout = Layout {
            mounts: parse_mounts(
                "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct\n",
            ),
        };
        assert_eq!(layout.choose(&[Controller::Cpu]), Ok(CgroupVersion::V1));
        let error = layout
            .choose(&[Controller::Cpu, Controller::Io])
            .unwrap_err();
        assert!(error.contains("`blkio`"), "{error}");
    }

    #[test]
    fn parses_proc_cgroup() {
        let text = "4:memory:/process_api/805d\n2:cpu,cpuacct:/\n0::/user.slice\n";
        assert_eq!(
            parse_proc_cgroup(text, Some("memory")).as_deref(),
            Some("/process_api/805d")
        );
        assert_eq!(parse_proc_cgroup(text, Some("cpu")).as_deref(), Some("/"));
        assert_eq!(parse_proc_cgroup(text, Some("blkio")), None);
        assert_eq!(
            parse_proc_cgroup(text, None).as_deref(),
            Some("/user.slice")
        );
    }

    #[test]
    fn joins_cgroup_paths_under_mount_root() {
        let mount = Mount {
            root: "/docker/abc".to_owned(),
            point: PathBuf::from("/sys/fs/cgroup/memory"),
            v2: false,
            options: Vec::new(),
        };
        assert_eq!(
            join_cgroup(&mount, "/docker/abc/app"),
            Some(PathBuf::from("/sys/fs/cgroup/memory/app"))
        );
        assert_eq!(
            join_cgroup(&mount, "/docker/abc"),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
        assert_eq!(join_cgroup(&mount, "/docker/abcd"), None);
        assert_eq!(join_cgroup(&mount, "/other"), None);
        let root = Mount {
            root: "/".to_owned(),
            ..mount
        };
        assert_eq!(
            join_cgroup(&root, "/"),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
        assert_eq!(join_cgroup(&root, "/a/../b"), None);
    }

    #[test]
    fn problems_name_each_missing_controller() {
        let none = Layout { mounts: Vec::new() };
        let problems = layout_problems(&none, &[], |_| true);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[2].0.contains("`io_bandwidth`"), "{problems:?}");

        let v1 = Layout {
            mounts: parse_mounts(MOUNTINFO),
        };
        assert!(layout_problems(&v1, &[], |_| true).is_empty());
        // Read-only v1 mounts do not count.
        let read_only = layout_problems(&v1, &[], |_| false);
        assert_eq!(read_only.len(), 3, "{read_only:?}");
        // A cgroup2 mount that offers `cpu` and `memory` leaves only I/O.
        let v2 = Layout {
            mounts: parse_mounts("41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
        };
        let offered = vec!["cpu".to_owned(), "memory".to_owned()];
        let problems = layout_problems(&v2, &offered, |_| true);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .1
                .contains("leave `io_bandwidth` out of the step"),
            "{problems:?}"
        );
    }
}
