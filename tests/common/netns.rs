//! Network namespaces for the kernel fault tests: a veth pair between two
//! namespaces that the test creates and always deletes.

use std::process::Command;

/// Two network namespaces joined by a veth pair, deleted on drop.
pub struct Link {
    pub near: String,
    pub far: String,
    /// The /30 prefix both ends use, as `10.231.N`.
    pub prefix: String,
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("run ip");
    assert!(status.success(), "ip {} failed", args.join(" "));
}

impl Link {
    pub fn create() -> Link {
        let tag = format!("{:06x}", rand_tag());
        let link = Link {
            near: format!("chaosc-test-{tag}-a"),
            far: format!("chaosc-test-{tag}-b"),
            prefix: format!("10.231.{}", rand_tag() % 250),
        };
        ip(&["netns", "add", &link.near]);
        ip(&["netns", "add", &link.far]);
        ip(&[
            "-n", &link.near, "link", "add", "vnear", "type", "veth", "peer", "name", "vfar",
            "netns", &link.far,
        ]);
        ip(&[
            "-n",
            &link.near,
            "addr",
            "add",
            &format!("{}.1/30", link.prefix),
            "dev",
            "vnear",
        ]);
        ip(&[
            "-n",
            &link.far,
            "addr",
            "add",
            &format!("{}.2/30", link.prefix),
            "dev",
            "vfar",
        ]);
        for (netns, device) in [
            (&link.near, "vnear"),
            (&link.far, "vfar"),
            (&link.near, "lo"),
            (&link.far, "lo"),
        ] {
            ip(&["-n", netns, "link", "set", device, "up"]);
        }
        link
    }

    /// Returns the root qdisc of `vnear`, as `tc` prints it.
    pub fn qdisc(&self) -> String {
        let output = Command::new("tc")
            .args(["-n", &self.near, "qdisc", "show", "dev", "vnear", "root"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Returns whether the kernel has the netem qdisc, by adding one to
    /// `vnear` and deleting it again.
    pub fn has_netem(&self) -> bool {
        let added = Command::new("tc")
            .args([
                "-n", &self.near, "qdisc", "add", "dev", "vnear", "root", "netem", "delay", "1ms",
            ])
            .output()
            .is_ok_and(|output| output.status.success());
        if added {
            let _ = Command::new("tc")
                .args(["-n", &self.near, "qdisc", "del", "dev", "vnear", "root"])
                .status();
        }
        added
    }

    /// Returns the nftables tables of the near namespace.
    pub fn tables(&self) -> String {
        let output = Command::new("ip")
            .args(["netns", "exec", &self.near, "nft", "list", "tables"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Deleting a namespace removes its interfaces, qdiscs and tables.
        for netns in [&self.near, &self.far] {
            let _ = Command::new("ip").args(["netns", "del", netns]).status();
        }
    }
}

fn rand_tag() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos ^ std::process::id().rotate_left(12)
}

/// Returns whether kernel network faults can run here (root, `ip`, `tc`
/// and `nft`), printing why not.
pub fn can_run() -> bool {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: kernel network faults need root");
        return false;
    }
    let tools = ["ip", "tc", "nft"]
        .iter()
        .all(|tool| Command::new(tool).arg("-V").output().is_ok());
    if !tools {
        eprintln!("skipped: `ip`, `tc` or `nft` is missing");
    }
    tools
}
