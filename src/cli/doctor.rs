//! `chaosc doctor`: which fault kinds this host can inject, and for each
//! that it cannot, why and how to fix it.

use std::io::Read;
use std::process::{Command, Stdio};

use clap::Args;
use serde::Serialize;

use super::{OutputFormat, exit};
use crate::check::stdlib;
use crate::model::Privilege;

/// Arguments of `chaosc doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

/// A host requirement that some fault kinds have.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub reason: String,
    pub fix: String,
}

/// Whether one fault kind can be injected here.
#[derive(Debug, Clone, Serialize)]
pub struct FaultSupport {
    pub fault: String,
    pub available: bool,
    pub problems: Vec<Problem>,
}

/// What the host offers, looked up once.
struct Host {
    is_root: bool,
    has_ip: bool,
    has_tc: bool,
    has_nft: bool,
    /// The kernel configuration, when `/proc/config.gz` is readable.
    kernel_config: Option<String>,
}

impl Host {
    fn probe() -> Host {
        Host {
            is_root: crate::runtime::preflight::is_root(),
            has_ip: runs(&["ip", "-V"]),
            has_tc: runs(&["tc", "-V"]),
            has_nft: runs(&["nft", "--version"]),
            kernel_config: kernel_config(),
        }
    }

    /// Tells whether the kernel has a qdisc: `None` when it cannot be known.
    fn has_qdisc(&self, option: &str) -> Option<bool> {
        let config = self.kernel_config.as_ref()?;
        Some(
            config
                .lines()
                .any(|line| line == format!("{option}=y") || line == format!("{option}=m")),
        )
    }
}

fn runs(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Reads `/proc/config.gz` with `zcat`; `None` when either is missing.
fn kernel_config() -> Option<String> {
    let mut child = Command::new("zcat")
        .arg("/proc/config.gz")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut text = String::new();
    child.stdout.take()?.read_to_string(&mut text).ok()?;
    child.wait().ok()?.success().then_some(text)
}

/// Returns what stops `fault` on this host.
fn problems(fault: &str, privilege: Privilege, host: &Host) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut need = |missing: bool, reason: &str, fix: &str| {
        if missing {
            problems.push(Problem {
                reason: reason.to_owned(),
                fix: fix.to_owned(),
            });
        }
    };
    if privilege == Privilege::Root {
        need(
            !host.is_root,
            "chaosc does not run as root",
            "run chaosc as root, for example with sudo",
        );
        need(
            !host.has_ip && matches!(fault, "netem" | "link_bandwidth" | "partition"),
            "`ip` is not installed",
            "install iproute2 (`apt-get install iproute2`)",
        );
    }
    match fault {
        "netem" | "link_bandwidth" => {
            need(
                !host.has_tc,
                "`tc` is not installed",
                "install iproute2 (`apt-get install iproute2`)",
            );
            let (option, name) = if fault == "netem" {
                ("CONFIG_NET_SCH_NETEM", "netem")
            } else {
                ("CONFIG_NET_SCH_TBF", "tbf")
            };
            need(
                host.has_qdisc(option) == Some(false),
                &format!("the kernel has no `{name}` qdisc (`{option}` is not set)"),
                &format!("use a kernel built with `{option}=y` or `=m`"),
            );
        }
        "partition" => {
            need(
                !host.has_nft,
                "`nft` is not installed",
                "install nftables (`apt-get install nftables`)",
            );
        }
        "time_skew" => {
            if let Err(paths) = crate::runtime::faults::find_libfaketime() {
                let searched: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                need(
                    true,
                    &format!(
                        "libfaketime is not installed (searched {})",
                        searched.join(", ")
                    ),
                    "install libfaketime (`apt-get install faketime`)",
                );
            }
        }
        _ => {
            for (reason, fix) in crate::runtime::faults::compute_problems(fault) {
                need(true, &reason, &fix);
            }
        }
    }
    problems
}

/// Runs `chaosc doctor`.
pub fn execute(args: &DoctorArgs) -> u8 {
    let host = Host::probe();
    let mut report: Vec<FaultSupport> = stdlib::all_faults()
        .map(|def| {
            let problems = problems(&def.name, def.privilege, &host);
            FaultSupport {
                fault: def.name.clone(),
                available: problems.is_empty(),
                problems,
            }
        })
        .collect();
    report.sort_by(|a, b| b.available.cmp(&a.available).then(a.fault.cmp(&b.fault)));

    match args.format {
        OutputFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("the report serializes")
            );
        }
        OutputFormat::Human => print_human(&report),
    }
    exit::SUCCESS
}

fn print_human(report: &[FaultSupport]) {
    let available: Vec<&str> = report
        .iter()
        .filter(|support| support.available)
        .map(|support| support.fault.as_str())
        .collect();
    println!("available on this host: {}", available.join(", "));
    for support in report.iter().filter(|support| !support.available) {
        println!("\n{}: not available", support.fault);
        for problem in &support.problems {
            println!("  - {}; fix: {}", problem.reason, problem.fix);
        }
    }
}
