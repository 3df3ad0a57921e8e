//! Admission of new connections by a proxy during recovery: the upstream it
//! forwards to (switched for a blue-green failover), the share of
//! connections it sheds, and a circuit breaker that fails fast while the
//! upstream is down.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

/// A circuit breaker over upstream connections.
#[derive(Debug, Clone, Copy)]
struct Breaker {
    /// Failures in a row that open the circuit.
    threshold: u32,
    cooldown: Duration,
    failures: u32,
    /// While set and in the future, connections are refused at once.
    open_until: Option<Instant>,
    /// Whether the one trial connection of a half-open circuit is out.
    trial_out: bool,
}

/// What the proxy decides for a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Forward it to this upstream.
    Forward(SocketAddr),
    /// Close it at once: the proxy is shedding load.
    Shed,
    /// Close it at once: the circuit is open.
    CircuitOpen,
}

/// Counts of the connections the proxy refused, for observation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdmissionCounts {
    pub shed: u64,
    pub failed_fast: u64,
    pub upstream_failures: u64,
}

/// The admission state of a proxy.
#[derive(Debug)]
pub struct Gate {
    upstream: SocketAddr,
    shed_share: f64,
    breaker: Option<Breaker>,
    counts: AdmissionCounts,
}

impl Gate {
    /// Creates a gate that forwards everything to `upstream`.
    pub fn new(upstream: SocketAddr) -> Self {
        Gate {
            upstream,
            shed_share: 0.0,
            breaker: None,
            counts: AdmissionCounts::default(),
        }
    }

    /// Returns the upstream new connections go to.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// Sends new connections to `upstream`; open ones stay where they are.
    pub fn switch_upstream(&mut self, upstream: SocketAddr) -> SocketAddr {
        std::mem::replace(&mut self.upstream, upstream)
    }

    /// Sheds a share (0 to 1) of new connections; 0 stops shedding.
    pub fn set_shed_share(&mut self, share: f64) {
        self.shed_share = share.clamp(0.0, 1.0);
    }

    /// Arms a circuit breaker that opens after `threshold` failures in a row.
    pub fn arm_breaker(&mut self, threshold: u32, cooldown: Duration) {
        self.breaker = Some(Breaker {
            threshold: threshold.max(1),
            cooldown,
            failures: 0,
            open_until: None,
            trial_out: false,
        });
    }

    /// Returns the counts of refused connections so far.
    pub fn counts(&self) -> AdmissionCounts {
        self.counts
    }

    /// Decides for a new connection; `shed_draw` is a uniform draw in [0, 1)
    /// from the run's seeded generator.
    pub fn admit(&mut self, now: Instant, shed_draw: f64) -> Admission {
        if shed_draw < self.shed_share {
            self.counts.shed += 1;
            return Admission::Shed;
        }
        if let Some(breaker) = &mut self.breaker
            && let Some(open_until) = breaker.open_until
        {
            // Open: refuse until the cooldown ends, then let one trial
            // connection through (half-open) and refuse the rest meanwhile.
            if now < open_until || breaker.trial_out {
                self.counts.failed_fast += 1;
                return Admission::CircuitOpen;
            }
            breaker.trial_out = true;
        }
        Admission::Forward(self.upstream)
    }

    /// Records whether the upstream connection of an admitted connection
    /// opened.
    pub fn record(&mut self, now: Instant, connected: bool) {
        if !connected {
            self.counts.upstream_failures += 1;
        }
        let Some(breaker) = &mut self.breaker else {
            return;
        };
        let was_trial = breaker.trial_out;
        breaker.trial_out = false;
        if connected {
            breaker.failures = 0;
            breaker.open_until = None;
            return;
        }
        breaker.failures += 1;
        if was_trial || breaker.failures >= breaker.threshold {
            breaker.open_until = Some(now + breaker.cooldown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn breaker_opens_then_half_opens() {
        let mut gate = Gate::new(address(1));
        gate.arm_breaker(2, Duration::from_secs(10));
        let start = Instant::now();
        for _ in 0..2 {
            assert_eq!(gate.admit(start, 0.5), Admission::Forward(address(1)));
            gate.record(start, false);
        }
        assert_eq!(gate.admit(start, 0.5), Admission::CircuitOpen);

        let later = start + Duration::from_secs(11);
        assert_eq!(gate.admit(later, 0.5), Admission::Forward(address(1)));
        // Only one trial while half-open.
        assert_eq!(gate.admit(later, 0.5), Admission::CircuitOpen);
        gate.record(later, true);
        assert_eq!(gate.admit(later, 0.5), Admission::Forward(address(1)));
        assert_eq!(gate.counts().failed_fast, 2);
    }

    #[test]
    fn failed_trial_opens_again() {
        let mut gate = Gate::new(address(1));
        gate.arm_breaker(1, Duration::from_secs(5));
        let start = Instant::now();
        gate.admit(start, 0.5);
        gate.record(start, false);
        let later = start + Duration::from_secs(6);
        assert_eq!(gate.admit(later, 0.5), Admission::Forward(address(1)));
        gate.record(later, false);
        assert_eq!(gate.admit(later, 0.5), Admission::CircuitOpen);
    }

    #[test]
    fn shedding_uses_the_draw() {
        let mut gate = Gate::new(address(1));
        gate.set_shed_share(0.3);
        let now = Instant::now();
        assert_eq!(gate.admit(now, 0.1), Admission::Shed);
        assert_eq!(gate.admit(now, 0.5), Admission::Forward(address(1)));
        assert_eq!(gate.counts().shed, 1);
    }

    #[test]
    fn switch_keeps_previous() {
        let mut gate = Gate::new(address(1));
        assert_eq!(gate.switch_upstream(address(2)), address(1));
        assert_eq!(gate.upstream(), address(2));
    }
}
