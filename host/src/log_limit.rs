//! Rate limiting for log lines that a peer can trigger at will (a flood of
//! bad frames, refused connections, failed handshakes): a few lines of each
//! kind per window, then one line saying how many similar ones were held
//! back. The counters stay exact; only the log is thinned, so that a hostile
//! client cannot turn the router's log into the hot path or fill its disk.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lines of one kind let through per window by [`LogLimit::default`].
const BURST: u32 = 10;
/// The window of [`LogLimit::default`].
const WINDOW: Duration = Duration::from_secs(10);

/// At most `burst` lines of each kind per `window`. The lines held back are
/// counted and reported by the next line of that kind that gets through.
#[derive(Debug)]
pub struct LogLimit {
    burst: u32,
    window: Duration,
    /// Few kinds per component: a list is enough.
    kinds: Mutex<Vec<(&'static str, Kind)>>,
}

#[derive(Debug)]
struct Kind {
    since: Instant,
    logged: u32,
    suppressed: u64,
}

impl Default for LogLimit {
    fn default() -> Self {
        LogLimit::new(BURST, WINDOW)
    }
}

impl LogLimit {
    pub fn new(burst: u32, window: Duration) -> Self {
        LogLimit { burst, window, kinds: Mutex::new(Vec::new()) }
    }

    /// Whether a line of `kind` may be logged now: `Some(n)`, where `n`
    /// lines of that kind were held back since the last one logged (to be
    /// reported with it), or `None` when this one is held back.
    pub fn allow(&self, kind: &'static str) -> Option<u64> {
        self.allow_at(kind, Instant::now())
    }

    fn allow_at(&self, kind: &'static str, now: Instant) -> Option<u64> {
        let mut kinds = self.kinds.lock().expect("log limit lock");
        let index = match kinds.iter().position(|(k, _)| *k == kind) {
            Some(index) => index,
            None => {
                kinds.push((kind, Kind { since: now, logged: 0, suppressed: 0 }));
                kinds.len() - 1
            }
        };
        let state = &mut kinds[index].1;
        if now.duration_since(state.since) >= self.window {
            state.since = now;
            state.logged = 0;
        }
        if state.logged < self.burst {
            state.logged += 1;
            Some(std::mem::take(&mut state.suppressed))
        } else {
            state.suppressed += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_per_kind_and_window_then_a_count_of_what_was_held_back() {
        let limit = LogLimit::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(limit.allow_at("bad frame", at(0)), Some(0));
        assert_eq!(limit.allow_at("bad frame", at(1)), Some(0));
        assert_eq!(limit.allow_at("bad frame", at(2)), None);
        assert_eq!(limit.allow_at("bad frame", at(3)), None);
        // Another kind has a budget of its own.
        assert_eq!(limit.allow_at("handshake", at(3)), Some(0));
        assert_eq!(limit.allow_at("bad frame", at(9)), None);
        // A new window: the first line through carries the count.
        assert_eq!(limit.allow_at("bad frame", at(10)), Some(3));
        assert_eq!(limit.allow_at("bad frame", at(11)), Some(0));
        assert_eq!(limit.allow_at("bad frame", at(12)), None);
        assert_eq!(limit.allow_at("bad frame", at(30)), Some(1));
    }
}
