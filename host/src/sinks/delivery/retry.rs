//! The timing of retries, shared by every sink that sends to a destination:
//! exponential backoff with jitter, and the grace period a destination that
//! is down still gets once the router stops.

use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The timing of retries.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// The delay after the first failure; it doubles with each further one…
    pub first: Duration,
    /// …up to this.
    pub max: Duration,
    /// How long a batch may still be retried once the router stops.
    pub grace: Duration,
}

impl Retry {
    pub const DEFAULT: Retry =
        Retry { first: Duration::from_millis(100), max: Duration::from_secs(30), grace: Duration::from_secs(5) };
}

/// Exponential backoff with jitter.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(retry: Retry) -> Self {
        Backoff { next: retry.first, max: retry.max }
    }

    /// The delay before the next attempt: between half and all of the
    /// current step ("equal jitter"), so that many sinks cut off by the same
    /// outage do not all come back at the same instant.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.next;
        self.next = (step * 2).min(self.max);
        step / 2 + step.mul_f64(fastrand::f64() / 2.0)
    }
}

/// Resolves once the router has stopped and `grace` has passed since: how
/// long a batch may still be retried. The grace period starts once the
/// router stops, or once a batch is taken up after that: a healthy
/// destination still gets every batch, one that is down holds up shutdown
/// only this long.
pub async fn give_up(shutdown: &CancellationToken, grace: Duration) {
    shutdown.cancelled().await;
    tokio::time::sleep(grace).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter() {
        let retry =
            Retry { first: Duration::from_millis(100), max: Duration::from_millis(1000), grace: Duration::ZERO };
        let mut backoff = Backoff::new(retry);
        let steps = [100, 200, 400, 800, 1000, 1000];
        for step in steps {
            let delay = backoff.next_delay().as_millis();
            assert!((step / 2..=step).contains(&delay), "{delay} ms for a step of {step} ms");
        }
    }
}
