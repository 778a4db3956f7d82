//! The router's clock: wall time for timestamps and windows, monotonic time
//! for durations. The router's config can freeze it (`[plugins]
//! frozen_clock`), so tests of a time-dependent plugin repeat exactly.
//!
//! Outside WebAssembly (a plugin's native unit tests) these read the
//! machine's clocks.

use std::time::{Duration, SystemTime};

/// The current wall-clock time.
#[cfg(target_arch = "wasm32")]
pub fn now() -> SystemTime {
    let now = crate::bindings::sluice::plugin::clock::now();
    SystemTime::UNIX_EPOCH + Duration::new(now.seconds, now.nanoseconds)
}

/// The current wall-clock time.
#[cfg(not(target_arch = "wasm32"))]
pub fn now() -> SystemTime {
    SystemTime::now()
}

/// Time on a clock that never goes back, from an arbitrary start: subtract
/// two readings for a duration.
#[cfg(target_arch = "wasm32")]
pub fn monotonic() -> Duration {
    Duration::from_nanos(crate::bindings::sluice::plugin::clock::monotonic())
}

/// Time on a clock that never goes back, from an arbitrary start: subtract
/// two readings for a duration.
#[cfg(not(target_arch = "wasm32"))]
pub fn monotonic() -> Duration {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clocks_move_forward() {
        let (wall, mono) = (now(), monotonic());
        std::thread::sleep(Duration::from_millis(2));
        assert!(now() > wall);
        assert!(monotonic() >= mono + Duration::from_millis(2));
    }
}
