//! Faults applied by the built-in proxy: latency and blackhole.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rand::RngExt;

use crate::model::{Direction, FaultSpec};
use crate::runtime::fault::{Fault, FaultError};
use crate::runtime::proxy::{ProxyHandle, Toxic, measure_round_trip};
use crate::runtime::revert::RevertAction;

use super::peer;

/// How long one verification round trip may take at most.
const ROUND_TRIP_LIMIT: Duration = Duration::from_secs(10);

/// How many times a latency is measured before it counts as not observed.
const VERIFY_ATTEMPTS: usize = 3;

/// How many pairs of round trips a verification takes. The fastest of each
/// kind counts, so that a scheduling hiccup on the host does not make a
/// fault look stronger or weaker.
const SAMPLES: usize = 3;

/// The maximum pause before the second attempt of a verification; each
/// later attempt may wait this much longer. Many faults injected together
/// on a busy host (a thousand proxies) measure at the same moments and slow
/// each other down, and a random pause spreads them apart.
const RETRY_SPREAD: Duration = Duration::from_millis(250);

fn direction_of(spec: &FaultSpec) -> Direction {
    spec.text("direction")
        .and_then(Direction::from_name)
        .unwrap_or(Direction::Both)
}

/// Measures the fastest of a few round trips through the proxy.
async fn fastest_round_trip(
    proxy: &ProxyHandle,
    samples: usize,
    limit: Duration,
) -> Option<Duration> {
    let mut fastest: Option<Duration> = None;
    for _ in 0..samples {
        let measured = measure_round_trip(proxy.listen_addr(), limit).await?;
        fastest = Some(fastest.map_or(measured, |best| best.min(measured)));
    }
    fastest
}

/// Returns the time of a verification round trip, or why there is none.
fn completed(round_trip: std::io::Result<Option<Duration>>) -> Result<Duration, FaultError> {
    match round_trip {
        Ok(Some(time)) => Ok(time),
        Ok(None) => Err(FaultError(
            "no round trip completed through the proxy".to_owned(),
        )),
        Err(error) => Err(FaultError(format!(
            "cannot measure latency through the proxy: {error}"
        ))),
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.1}ms", duration.as_secs_f64() * 1000.0)
}

/// Adds delay to the data through a proxy.
pub struct Latency {
    proxy: Arc<ProxyHandle>,
    toxic: Toxic,
    toxicity: f64,
    toxic_id: Option<u64>,
}

impl Latency {
    pub fn new(spec: &FaultSpec, proxy: Arc<ProxyHandle>, toxicity: f64) -> Self {
        let toxic = Toxic::Latency {
            delay: spec.duration("delay").unwrap_or_default(),
            jitter: spec.duration("jitter").unwrap_or_default(),
            direction: direction_of(spec),
        };
        Latency {
            proxy,
            toxic,
            toxicity,
            toxic_id: None,
        }
    }

    /// Measures pairs of round trips through the proxy's listener to peers
    /// of the verifier's own, started together: one that the toxic acts
    /// on, and one exempt from every toxic. Comparing the two at the same
    /// moment leaves out the upstream and the load of the host, which
    /// slow both alike. The fastest of each kind counts (the slowest toxic
    /// one, for a toxic on a share of the connections).
    async fn observe(&self, samples: usize) -> Result<String, FaultError> {
        // A toxic that affects only a share of the connections needs more
        // samples to be seen at all; the slowest sample then shows it.
        let samples = if self.toxicity < 1.0 {
            samples.max(10)
        } else {
            samples
        };
        let mut slowest = Duration::ZERO;
        let mut fastest = Duration::MAX;
        let mut control = Duration::MAX;
        for _ in 0..samples {
            let (toxic, exempt) = tokio::join!(
                peer::round_trip(&self.proxy, false, ROUND_TRIP_LIMIT),
                peer::round_trip(&self.proxy, true, ROUND_TRIP_LIMIT)
            );
            let (toxic, exempt) = (completed(toxic)?, completed(exempt)?);
            slowest = slowest.max(toxic);
            fastest = fastest.min(toxic);
            control = control.min(exempt);
        }
        let observed = if self.toxicity < 1.0 {
            slowest
        } else {
            fastest
        };
        let gain = observed.saturating_sub(control);
        // Two conditions: the round trip must take at least the requested
        // delay (less 1ms of timer slack), and it must have grown by most
        // of it over the exempt one.
        let expected = self.expected_gain();
        let floor = expected.saturating_sub(Duration::from_millis(1));
        let least_gain = expected.saturating_sub((expected / 5).max(Duration::from_millis(2)));
        if observed < floor || gain < least_gain {
            return Err(FaultError(format!(
                "latency not observed: a round trip through the proxy took {} with the fault \
                 and {} without it, {} more, expected at least {}",
                millis(observed),
                millis(control),
                millis(gain),
                millis(least_gain)
            )));
        }
        Ok(format!(
            "round trip grew by {} (from {} without the fault to {})",
            millis(gain),
            millis(control),
            millis(observed)
        ))
    }

    /// The delay a round trip should gain at least: both directions count
    /// when the toxic acts on both.
    fn expected_gain(&self) -> Duration {
        let Toxic::Latency {
            delay,
            jitter,
            direction,
        } = self.toxic
        else {
            unreachable!()
        };
        let one_way = delay.saturating_sub(jitter);
        if direction == Direction::Both {
            one_way * 2
        } else {
            one_way
        }
    }
}

#[async_trait]
impl Fault for Latency {
    fn kind(&self) -> &'static str {
        "latency"
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::EndsWithRun
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        self.toxic_id = Some(self.proxy.add_toxic(self.toxic.clone(), self.toxicity));
        Ok(())
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let mut attempt = 1;
        loop {
            // Each attempt takes twice the samples of the one before, which
            // brings the fastest of each kind closer to the unloaded cost.
            let samples = SAMPLES << (attempt - 1);
            match self.observe(samples).await {
                Ok(seen) => return Ok(seen),
                Err(error) if attempt >= VERIFY_ATTEMPTS => return Err(error),
                Err(_) => {
                    let spread = RETRY_SPREAD * attempt as u32;
                    let pause = rand::rng().random_range(Duration::ZERO..=spread);
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
            }
        }
    }

    fn can_ramp(&self) -> bool {
        true
    }

    async fn ramp(&mut self, level: f64) -> Result<String, FaultError> {
        let Toxic::Latency {
            delay,
            jitter,
            direction,
        } = self.toxic.clone()
        else {
            unreachable!("a latency fault holds a latency toxic")
        };
        let level = level.clamp(0.0, 1.0);
        let weaker = Toxic::Latency {
            delay: delay.mul_f64(level),
            jitter: jitter.mul_f64(level),
            direction,
        };
        // The weaker toxic goes in before the stronger one comes out, so no
        // chunk passes with no delay at all in between.
        let weaker_id = self.proxy.add_toxic(weaker, self.toxicity);
        if let Some(id) = self.toxic_id.replace(weaker_id) {
            self.proxy.remove_toxic(id);
        }
        match fastest_round_trip(&self.proxy, SAMPLES, ROUND_TRIP_LIMIT).await {
            Some(measured) => Ok(format!(
                "latency at {:.0}%: round trip {}",
                level * 100.0,
                millis(measured)
            )),
            None => Err(FaultError(
                "no round trip completed at the lower level".to_owned(),
            )),
        }
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        if let Some(id) = self.toxic_id.take() {
            self.proxy.remove_toxic(id);
        }
        match fastest_round_trip(&self.proxy, SAMPLES, ROUND_TRIP_LIMIT).await {
            Some(measured) => Ok(format!("round trip back to {}", millis(measured))),
            None => Ok("latency removed; no round trip completed to confirm it".to_owned()),
        }
    }
}

/// Drops everything a proxy receives in a direction.
pub struct Blackhole {
    proxy: Arc<ProxyHandle>,
    toxic: Toxic,
    toxicity: f64,
    toxic_id: Option<u64>,
    baseline: Option<Duration>,
}

impl Blackhole {
    pub fn new(spec: &FaultSpec, proxy: Arc<ProxyHandle>, toxicity: f64) -> Self {
        let toxic = Toxic::Blackhole {
            direction: direction_of(spec),
        };
        Blackhole {
            proxy,
            toxic,
            toxicity,
            toxic_id: None,
            baseline: None,
        }
    }

    /// How long a round trip must stay unanswered to count as blackholed.
    fn silence(&self) -> Duration {
        let baseline = self.baseline.unwrap_or_default();
        (baseline * 10).max(Duration::from_millis(500))
    }
}

#[async_trait]
impl Fault for Blackhole {
    fn kind(&self) -> &'static str {
        "blackhole"
    }

    fn revert_action(&self) -> RevertAction {
        RevertAction::EndsWithRun
    }

    async fn inject(&mut self) -> Result<(), FaultError> {
        self.baseline = fastest_round_trip(&self.proxy, 1, ROUND_TRIP_LIMIT).await;
        self.toxic_id = Some(self.proxy.add_toxic(self.toxic.clone(), self.toxicity));
        Ok(())
    }

    async fn verify(&mut self) -> Result<String, FaultError> {
        let silence = self.silence();
        let attempts = if self.toxicity < 1.0 { 10 } else { 1 };
        for _ in 0..attempts {
            if measure_round_trip(self.proxy.listen_addr(), silence)
                .await
                .is_none()
            {
                return Ok(format!(
                    "no answer through the proxy within {}",
                    millis(silence)
                ));
            }
        }
        Err(FaultError(format!(
            "blackhole not observed: round trips through {} still complete",
            self.proxy.listen_addr()
        )))
    }

    async fn revert(&mut self) -> Result<String, FaultError> {
        if let Some(id) = self.toxic_id.take() {
            self.proxy.remove_toxic(id);
        }
        match fastest_round_trip(&self.proxy, 1, ROUND_TRIP_LIMIT).await {
            Some(measured) => Ok(format!(
                "round trips complete again in {}",
                millis(measured)
            )),
            None => Ok("blackhole removed; no round trip completed to confirm it".to_owned()),
        }
    }
}
