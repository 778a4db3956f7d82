//! Whether the router is ready for traffic, as `/health` tells a load
//! balancer or systemd: only once every source listens and every plugin is
//! loaded, and no longer once a stop has begun (so traffic drains elsewhere).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// Where the topology is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Loading plugins, opening sources.
    Starting,
    /// Every source listens and every plugin is loaded.
    Ready,
    /// Draining in-flight events after a stop signal (or every source ended).
    Stopping,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Ready => "ok",
            Phase::Stopping => "stopping",
        }
    }
}

/// A shared [`Phase`]: the topology sets it, the API reads it.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicU8>);

impl Readiness {
    pub fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::Release);
    }

    pub fn phase(&self) -> Phase {
        match self.0.load(Ordering::Acquire) {
            0 => Phase::Starting,
            1 => Phase::Ready,
            _ => Phase::Stopping,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_not_ready_and_every_clone_sees_a_change() {
        let readiness = Readiness::default();
        assert_eq!(readiness.phase(), Phase::Starting);
        readiness.clone().set(Phase::Ready);
        assert_eq!(readiness.phase(), Phase::Ready);
        readiness.set(Phase::Stopping);
        assert_eq!(readiness.phase(), Phase::Stopping);
    }
}
