//! The quickstart scenario runs to `completed` on real processes and a real
//! proxy: the latency is measured, the killed process is really gone and
//! then restarted, and nothing is left afterwards.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{RunningChaosc, Sandbox, pids_with, port_accepts, repo};

/// The marker of the quickstart's web process on its command line.
const WEB_MARKER: &str = "http.server 18181";

#[test]
fn quickstart_completes_and_cleans_up() {
    let sandbox = Sandbox::new();
    assert!(
        pids_with(WEB_MARKER).is_empty(),
        "a quickstart server is already running"
    );

    // Watch the web process from outside while the run goes on.
    let seen = Arc::new(Mutex::new(Vec::<BTreeSet<u32>>::new()));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let seen = Arc::clone(&seen);
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                seen.lock()
                    .unwrap()
                    .push(pids_with(WEB_MARKER).into_iter().collect());
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let run = RunningChaosc::start(sandbox.chaosc().current_dir(repo()).args([
        "run",
        "--format",
        "json",
        "scenarios/quickstart.chaos",
    ]));
    let finished = run.finish(Duration::from_secs(90));
    done.store(true, Ordering::Relaxed);
    watcher.join().unwrap();

    assert_eq!(finished.code, Some(0), "stderr:\n{}", finished.stderr);
    let result = finished.json();
    assert_eq!(result["status"], "completed");
    assert_eq!(result["success"], true);
    assert_eq!(result["rollback_complete"], true);

    // The latency step: the verifier measured the added delay, and the
    // probe that ran through the proxy during the step saw it too.
    let latency = &result["faults"][0];
    assert_eq!(latency["fault"], "latency");
    assert_eq!(latency["verified"], true);
    assert_eq!(latency["rollback"], "reverted");
    let grew = measured_growth_ms(latency["verification"].as_str().unwrap());
    assert!(
        (195.0..=260.0).contains(&grew),
        "latency grew by {grew}ms, requested 200ms"
    );
    let slow = &result["steps"][0];
    let during = probe_latencies_between(
        &result,
        slow["started_at"].as_str().unwrap(),
        slow["ended_at"].as_str().unwrap(),
    );
    assert!(
        !during.is_empty(),
        "no probe sample during the latency step"
    );
    let median = during[during.len() / 2];
    assert!(
        (195.0..=400.0).contains(&median),
        "probe median {median}ms during 200ms of latency"
    );

    // The kill step: the original process vanished and a new one took its
    // place, as seen from outside chaosc.
    let kill = &result["faults"][1];
    assert_eq!(kill["fault"], "process_kill");
    assert_eq!(kill["verified"], true);
    assert_eq!(kill["rollback"], "reverted");
    let snapshots = seen.lock().unwrap().clone();
    let first = snapshots
        .iter()
        .find(|pids| !pids.is_empty())
        .expect("the web process was never seen")
        .clone();
    let gap = snapshots
        .iter()
        .position(|pids| pids.is_empty() && !first.is_empty());
    assert!(gap.is_some(), "the web process never disappeared");
    let all: BTreeSet<u32> = snapshots.iter().flatten().copied().collect();
    assert!(
        all.len() >= 2,
        "the web process was not restarted: pids seen {all:?}"
    );

    // Nothing left behind.
    assert!(pids_with(WEB_MARKER).is_empty(), "web process left running");
    assert!(!port_accepts(18180), "proxy port still bound");
    assert!(!port_accepts(18181), "web port still bound");
    sandbox.assert_no_journal();
}

/// Reads the growth from a verification such as "round trip grew by 201.3ms
/// (from 1.0ms to 202.3ms)".
fn measured_growth_ms(verification: &str) -> f64 {
    let rest = verification
        .split("grew by ")
        .nth(1)
        .expect("a measured growth");
    rest.split("ms")
        .next()
        .unwrap()
        .parse()
        .expect("a number of milliseconds")
}

/// Returns the sorted latencies of the probe samples taken in a window.
fn probe_latencies_between(result: &serde_json::Value, start: &str, end: &str) -> Vec<f64> {
    let start = chrono::DateTime::parse_from_rfc3339(start).unwrap();
    let end = chrono::DateTime::parse_from_rfc3339(end).unwrap();
    let mut latencies: Vec<f64> = result["probes"][0]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|sample| {
            let at = chrono::DateTime::parse_from_rfc3339(sample["at"].as_str().unwrap()).unwrap();
            // Skip the first half second, while the toxic is being verified.
            at > start + chrono::Duration::milliseconds(500) && at < end
        })
        .filter(|sample| sample["ok"] == true)
        .map(|sample| sample["latency_ms"].as_f64().unwrap())
        .collect();
    latencies.sort_by(f64::total_cmp);
    latencies
}
