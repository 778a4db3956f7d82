//! The deadline of one plugin call, counted in the CPU time its thread used.
//!
//! A deadline exists to stop a plugin that loops, not to punish a slow
//! machine: a worker thread that the kernel descheduled in favour of other
//! work, or a guest waiting on a WASI clock, has not used its budget. The
//! runtime's epoch ticker interrupts a call once it has run for its deadline
//! of wall time; [`CallClock::on_epoch`] then reads the thread's CPU clock and
//! lets the call go on for as long as the CPU it used stays under the
//! deadline. The CPU clock is read once when a call starts and once per
//! interruption, never in the guest's hot path.
//!
//! A thread starved for ever, or a guest waiting without end, must still
//! end: every call also has a wall-clock ceiling of [`WALL_CEILING`] times its
//! deadline, which the sandbox applies to the guest's clock waits as well.

use std::time::{Duration, Instant};
use wasmtime::UpdateDeadline;

/// How often the engine's epoch advances; deadlines are checked in whole ticks.
pub const TICK: Duration = Duration::from_millis(10);

/// A call ends after this many deadlines of wall time, whatever CPU it used.
pub const WALL_CEILING: u32 = 10;

/// When the current call started, in CPU and wall time, and what cut it.
#[derive(Debug)]
pub struct CallClock {
    deadline: Duration,
    started_cpu: Duration,
    started_wall: Instant,
    cut_at_ceiling: bool,
}

impl CallClock {
    pub fn new(deadline: Duration) -> Self {
        CallClock { deadline, started_cpu: thread_cpu_time(), started_wall: Instant::now(), cut_at_ceiling: false }
    }

    /// Start timing a call made on this thread. Returns the epoch ticks after
    /// which [`CallClock::on_epoch`] first looks at the CPU clock.
    pub fn start(&mut self) -> u64 {
        self.started_cpu = thread_cpu_time();
        self.started_wall = Instant::now();
        self.cut_at_ceiling = false;
        // One extra tick: the current one may be almost over.
        ticks(self.deadline) + 1
    }

    /// The epoch deadline was reached: interrupt the call if its thread has
    /// used its deadline of CPU or the call its wall-clock ceiling, or else
    /// look again when the rest of the deadline could have been used.
    pub fn on_epoch(&mut self) -> UpdateDeadline {
        let wall = self.started_wall.elapsed();
        let ceiling = self.ceiling();
        if wall >= ceiling {
            self.cut_at_ceiling = true;
            return UpdateDeadline::Interrupt;
        }
        let cpu = thread_cpu_time().saturating_sub(self.started_cpu);
        if cpu >= self.deadline {
            return UpdateDeadline::Interrupt;
        }
        UpdateDeadline::Continue(ticks((self.deadline - cpu).min(ceiling - wall)))
    }

    /// How much longer the current call may wait: the guest's clock waits
    /// end there, so the ceiling holds while it waits too.
    pub fn wall_left(&self) -> Duration {
        self.ceiling().saturating_sub(self.started_wall.elapsed())
    }

    /// Whether the last interruption was the wall-clock ceiling, not the CPU.
    pub fn cut_at_ceiling(&self) -> bool {
        self.cut_at_ceiling
    }

    pub fn ceiling(&self) -> Duration {
        self.deadline * WALL_CEILING
    }
}

/// Whole ticks in `span`, at least one.
fn ticks(span: Duration) -> u64 {
    (span.as_millis() as u64).div_ceil(TICK.as_millis() as u64).max(1)
}

/// The CPU time the calling thread has used since it started.
pub fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec to write to; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if rc != 0 {
        // Cannot happen on Linux for the calling thread; counting nothing
        // leaves the wall-clock ceiling to end the call.
        return Duration::ZERO;
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_clock_counts_work_not_sleep() {
        let started = thread_cpu_time();
        std::thread::sleep(Duration::from_millis(50));
        assert!(thread_cpu_time() - started < Duration::from_millis(20), "sleeping uses no CPU");
        let started = thread_cpu_time();
        let wall = Instant::now();
        while wall.elapsed() < Duration::from_millis(30) {
            std::hint::spin_loop();
        }
        assert!(thread_cpu_time() - started > Duration::ZERO, "spinning does");
    }

    #[test]
    fn a_call_under_its_deadline_of_cpu_goes_on_until_the_ceiling() {
        let mut clock = CallClock::new(Duration::from_millis(30));
        assert_eq!(clock.start(), 4, "three ticks and one for the tick under way");
        assert!(matches!(clock.on_epoch(), UpdateDeadline::Continue(1..=3)));
        assert!(!clock.cut_at_ceiling());
        clock.started_wall -= clock.ceiling();
        assert!(matches!(clock.on_epoch(), UpdateDeadline::Interrupt));
        assert!(clock.cut_at_ceiling());
        assert_eq!(clock.wall_left(), Duration::ZERO);
        clock.start();
        assert!(!clock.cut_at_ceiling(), "each call starts afresh");
        while thread_cpu_time() - clock.started_cpu < clock.deadline {
            std::hint::spin_loop();
        }
        assert!(matches!(clock.on_epoch(), UpdateDeadline::Interrupt), "a thread that used its CPU");
        assert!(!clock.cut_at_ceiling());
    }
}
