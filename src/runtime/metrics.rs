//! Prometheus metrics of a run: served on `--metrics-addr` while it runs and
//! written in the text format to `--metrics-file` at its end (the format the
//! node exporter's textfile collector reads).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing::{debug, warn};

use super::result::RunResult;

/// Buckets for durations in seconds, from a tenth of a second to an hour.
const SECONDS_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0];

/// Buckets for probe latencies in seconds, from a millisecond to ten seconds.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The metrics of chaosc, registered in their own registry.
pub struct Metrics {
    registry: Registry,
    experiments: IntCounterVec,
    duration: HistogramVec,
    recovery_time: HistogramVec,
    recovery_seconds: Gauge,
    /// When the recovery plans of the current run started, while they run.
    recovery_started: std::sync::Mutex<Option<std::time::Instant>>,
    blast_radius: IntGauge,
    injections: IntCounterVec,
    active_faults: IntGauge,
    probe_latency: HistogramVec,
    probe_failure_ratio: FailureRatio,
    http_error_ratio: FailureRatio,
    success: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Arc<Metrics> {
        let registry = Registry::new();
        let experiments = IntCounterVec::new(
            Opts::new(
                "chaosc_experiments_total",
                "Experiments run, by final status, category and severity",
            ),
            &["status", "category", "severity"],
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "chaosc_experiment_duration_seconds",
                "Wall time of experiments",
            )
            .buckets(SECONDS_BUCKETS.to_vec()),
            &["category", "severity"],
        )
        .expect("valid metric");
        let recovery_time = HistogramVec::new(
            HistogramOpts::new("chaosc_recovery_time_seconds", "Time recovery plans took")
                .buckets(SECONDS_BUCKETS.to_vec()),
            &["category", "severity"],
        )
        .expect("valid metric");
        let recovery_seconds = Gauge::new(
            "chaosc_recovery_seconds",
            "Seconds the current run's recovery has taken, rising while its plans run",
        )
        .expect("valid metric");
        let blast_radius = IntGauge::new(
            "chaosc_blast_radius_size",
            "Targets the current experiment acts on",
        )
        .expect("valid metric");
        let injections = IntCounterVec::new(
            Opts::new(
                "chaosc_injections_total",
                "Faults injected, by fault kind and target",
            ),
            &["fault", "target"],
        )
        .expect("valid metric");
        let active_faults =
            IntGauge::new("chaosc_active_faults", "Faults in place now").expect("valid metric");
        let probe_latency = HistogramVec::new(
            HistogramOpts::new("chaosc_probe_latency_seconds", "Latency of probe samples")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["probe", "outcome"],
        )
        .expect("valid metric");
        let probe_failure_ratio = FailureRatio::new(
            "chaosc_probe_failure_ratio",
            "Share of the probe samples of this run that failed",
        );
        let http_error_ratio = FailureRatio::new(
            "chaosc_http_error_ratio",
            "Share of the requests of this run's HTTP probes that failed",
        );
        let success = Gauge::new(
            "chaosc_last_run_success",
            "1 when the last run met its success criteria",
        )
        .expect("valid metric");

        for collector in [
            Box::new(experiments.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(recovery_time.clone()),
            Box::new(recovery_seconds.clone()),
            Box::new(blast_radius.clone()),
            Box::new(injections.clone()),
            Box::new(active_faults.clone()),
            Box::new(probe_latency.clone()),
            Box::new(probe_failure_ratio.gauge.clone()),
            Box::new(http_error_ratio.gauge.clone()),
            Box::new(success.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Arc::new(Metrics {
            registry,
            experiments,
            duration,
            recovery_time,
            recovery_seconds,
            recovery_started: std::sync::Mutex::new(None),
            blast_radius,
            injections,
            active_faults,
            probe_latency,
            probe_failure_ratio,
            http_error_ratio,
            success,
        })
    }

    /// Sets the blast radius of the current experiment.
    pub fn set_blast_radius(&self, targets: usize) {
        self.blast_radius.set(targets as i64);
    }

    /// Counts an injected fault.
    pub fn injected(&self, fault: &str, target: &str) {
        self.injections.with_label_values(&[fault, target]).inc();
        self.active_faults.inc();
    }

    /// Counts a reverted fault.
    pub fn reverted(&self) {
        self.active_faults.dec();
    }

    /// Records a probe sample's latency and outcome. `http` marks the
    /// samples of HTTP probes, which count toward the HTTP error ratio too.
    pub fn probe_sampled(&self, probe: &str, http: bool, ok: bool, seconds: f64) {
        let outcome = if ok { "success" } else { "failure" };
        self.probe_latency
            .with_label_values(&[probe, outcome])
            .observe(seconds);
        self.probe_failure_ratio.count(ok);
        if http {
            self.http_error_ratio.count(ok);
        }
    }

    /// Starts the clock of `chaosc_recovery_seconds`: from now on every
    /// render shows the seconds since.
    pub fn recovery_started(&self) {
        *self.recovery_started.lock().unwrap() = Some(std::time::Instant::now());
        self.recovery_seconds.set(0.0);
    }

    /// Stops the clock of `chaosc_recovery_seconds` at the recovery's time.
    pub fn recovery_ended(&self, seconds: f64) {
        *self.recovery_started.lock().unwrap() = None;
        self.recovery_seconds.set(seconds);
    }

    /// Records the end of a run.
    pub fn finished(&self, result: &RunResult, category: &str, severity: &str) {
        self.experiments
            .with_label_values(&[result.status.name(), category, severity])
            .inc();
        self.duration
            .with_label_values(&[category, severity])
            .observe(result.duration_seconds);
        for recovery in &result.recovery {
            self.recovery_time
                .with_label_values(&[category, severity])
                .observe(recovery.recovery_time_seconds);
        }
        self.success.set(if result.success { 1.0 } else { 0.0 });
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        if let Some(started) = *self.recovery_started.lock().unwrap() {
            self.recovery_seconds.set(started.elapsed().as_secs_f64());
        }
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }

    /// Writes the metrics to `path` atomically: a reader never sees half a
    /// file.
    pub fn write_file(&self, path: &Path) -> std::io::Result<()> {
        let temporary = path.with_extension("prom.tmp");
        std::fs::write(&temporary, self.render())?;
        std::fs::rename(&temporary, path)
    }

    /// Serves `GET /metrics` on `listener` until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            let Ok((mut stream, peer)) = listener.accept().await else {
                continue;
            };
            let metrics = Arc::clone(&self);
            tokio::spawn(async move {
                let mut request = [0u8; 2048];
                // Only the request line matters; the rest is ignored.
                let read = tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    stream.read(&mut request),
                )
                .await;
                let Ok(Ok(length)) = read else { return };
                let line = String::from_utf8_lossy(&request[..length]);
                let response = if line.starts_with("GET /metrics") || line.starts_with("GET / ") {
                    let body = metrics.render();
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned()
                };
                if let Err(error) = stream.write_all(response.as_bytes()).await {
                    debug!(%peer, %error, "metrics client went away");
                }
            });
        }
    }
}

/// A gauge of the share of failed samples among all samples of a run.
struct FailureRatio {
    gauge: Gauge,
    /// Samples and failed samples so far.
    counts: std::sync::Mutex<(u64, u64)>,
}

impl FailureRatio {
    fn new(name: &str, help: &str) -> FailureRatio {
        FailureRatio {
            gauge: Gauge::new(name, help).expect("valid metric"),
            counts: std::sync::Mutex::new((0, 0)),
        }
    }

    fn count(&self, ok: bool) {
        let mut counts = self.counts.lock().unwrap();
        counts.0 += 1;
        counts.1 += u64::from(!ok);
        self.gauge.set(counts.1 as f64 / counts.0 as f64);
    }
}

/// Binds the metrics address and serves it in the background.
pub async fn start_server(
    metrics: &Arc<Metrics>,
    address: SocketAddr,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(address).await?;
    let metrics = Arc::clone(metrics);
    Ok(tokio::spawn(async move {
        metrics.serve(listener).await;
        warn!("the metrics server stopped");
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::Metrics;
    use crate::model::OWN_METRICS;

    #[test]
    fn failure_ratios_count_failed_samples() {
        let metrics = Metrics::new();
        for ok in [true, false, true, true] {
            metrics.probe_sampled("home", true, ok, 0.01);
        }
        metrics.probe_sampled("port", false, false, 0.01);
        let text = metrics.render();
        assert!(text.contains("chaosc_probe_failure_ratio 0.4"), "{text}");
        assert!(text.contains("chaosc_http_error_ratio 0.25"), "{text}");
    }

    #[test]
    fn recovery_seconds_rise_then_stop() {
        let metrics = Metrics::new();
        metrics.recovery_started();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let running = seconds_of(&metrics.render(), "chaosc_recovery_seconds");
        metrics.recovery_ended(7.5);
        let ended = seconds_of(&metrics.render(), "chaosc_recovery_seconds");
        assert!(running >= 0.02, "{running}");
        assert_eq!(ended, 7.5);
    }

    /// The names the checker accepts in alert rules are the names exported.
    #[test]
    fn own_metrics_lists_every_exported_name() {
        let metrics = Metrics::new();
        metrics.injected("latency", "front");
        metrics.probe_sampled("home", true, true, 0.01);
        let labels = ["network", "low"];
        metrics
            .experiments
            .with_label_values(&["completed", labels[0], labels[1]])
            .inc();
        metrics.duration.with_label_values(&labels).observe(1.0);
        metrics
            .recovery_time
            .with_label_values(&labels)
            .observe(1.0);
        let text = metrics.render();
        let exported: BTreeSet<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("# TYPE "))
            .filter_map(|rest| rest.split(' ').next())
            .collect();
        let listed: BTreeSet<&str> = OWN_METRICS.iter().copied().collect();
        assert_eq!(exported, listed);
    }

    fn seconds_of(text: &str, metric: &str) -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{metric} ")))
            .and_then(|value| value.parse().ok())
            .unwrap_or(f64::NAN)
    }
}
