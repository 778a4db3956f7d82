package sluice

import "time"

// Now is the router's wall-clock time. Use it rather than time.Now: the
// sandbox's WASI clocks, which time.Now reads, stand still at zero. The
// router's config can freeze this clock ([plugins] frozen_clock) so that
// tests of a time-dependent plugin repeat exactly.
func Now() time.Time {
	seconds, nanoseconds := clockNow()
	return time.Unix(int64(seconds), int64(nanoseconds)).UTC()
}

// Monotonic is the time on a clock that never goes back, from an arbitrary
// start fixed for the router's process: subtract two readings for a
// duration.
func Monotonic() time.Duration { return time.Duration(clockMonotonic()) }
