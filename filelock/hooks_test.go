package filelock

// Test-only options and accessors: the hooks by which tests replace the
// process identity, the mechanism, the filesystem and the clock.

import (
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
)

// withProcess sets the identity written into holder records and the
// liveness check applied to recorded holders (simulations and tests).
func withProcess(self proc.Identity, liveness func(proc.Identity) proc.State) Option {
	return func(c *config) { c.self, c.liveness = self, liveness }
}

// withMechanism wraps or replaces the strategy's mechanism (tests).
func withMechanism(wrap func(mechanism) mechanism) Option {
	return func(c *config) { c.mech = wrap }
}

// withFS runs the file-based strategies over another filesystem (tests).
func withFS(f fsys.FS) Option { return func(c *config) { c.fs = f } }

// withClock sets the clock used for waiting and time stamps (tests).
//
// The host's monotonic clock, which sighting files are kept by, then reads
// k's time as the real monotonic clock would read that wall-clock time
// (testMonotonic), so that handles with fake clocks of the same time
// agree with each other, and those with fakes started now with handles
// on the real clock.
func withClock(k clock.Clock) Option {
	return func(c *config) {
		c.clock = k
		c.monotonic = func() (time.Duration, bool) {
			return testMonotonic.mono + k.Now().Sub(testMonotonic.wall), testMonotonic.ok
		}
	}
}

// testMonotonic pairs a reading of the host's monotonic clock with the
// wall clock's time of it.
var testMonotonic = func() (r struct {
	mono time.Duration
	ok   bool
	wall time.Time
}) {
	r.mono, r.ok = proc.Monotonic()
	r.wall = time.Now()
	return r
}()

// size returns the number of slots in use (tests check it returns to 0).
func (t *table) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.slots)
}
