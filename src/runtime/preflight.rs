//! Checks over the whole plan that run before anything is journaled or
//! injected, so that a run that cannot finish never starts.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::check::stdlib;
use crate::model::{Privilege, TargetSpec};
use crate::plan::Plan;

/// How long a connection to a `ready` address may take before the address
/// counts as free.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);

/// Returns the steps whose fault needs root, as "`step` (`fault`)".
pub fn steps_needing_root(plan: &Plan) -> Vec<String> {
    plan.experiment
        .steps
        .iter()
        .filter(|step| {
            stdlib::find_fault(&step.fault.kind)
                .is_some_and(|(_, def)| def.privilege == Privilege::Root)
        })
        .map(|step| format!("`{}` (`{}`)", step.name, step.fault.kind))
        .collect()
}

/// Tells whether this process runs as root.
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Returns the addresses the run needs that something else holds, as
/// "`target` on ADDRESS: reason": a proxy's listen address that cannot be
/// bound, and a launched target's `ready` address that already accepts
/// connections (an earlier run's process, or another program).
pub fn busy_addresses(plan: &Plan) -> Vec<String> {
    let mut busy = Vec::new();
    for target in &plan.targets {
        let problem = match &target.spec {
            TargetSpec::Proxy(proxy) if proxy.listen.port() != 0 => TcpListener::bind(proxy.listen)
                .err()
                .map(|error| (proxy.listen, error.to_string())),
            TargetSpec::Launched(launch) => launch
                .ready
                .filter(|address| accepts(*address))
                .map(|address| (address, "it already accepts connections".to_owned())),
            _ => None,
        };
        if let Some((address, reason)) = problem {
            busy.push(format!("`{}` on {address}: {reason}", target.name));
        }
    }
    busy
}

fn accepts(address: SocketAddr) -> bool {
    let address = crate::runtime::proxy::loopback_if_unspecified(address);
    TcpStream::connect_timeout(&address, CONNECT_TIMEOUT).is_ok()
}
