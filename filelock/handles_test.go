package filelock

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newLock makes a handle for a test, which fails at once if New fails. The
// handle's holds are released when the test ends, whether it passed or
// not: a test that fails while holding must not keep the process's slot
// for the lock taken, where a later test's lock, in a directory that got
// the same inode number back, would wait on it for ever.
func newLock(t testing.TB, path string, opts ...Option) *Lock {
	t.Helper()
	l, err := New(path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { abandon(l) })
	return l
}

// abandon releases every hold of l; where a release fails and the handle
// keeps its hold, it gives up the process's slot all the same. It makes at
// most as many releases as l has holds, so that a broken release that does
// not lower the count cannot keep it going for ever.
func abandon(l *Lock) {
	for n := l.Depth(); n > 0 && l.Depth() > 0; n-- {
		if l.Unlock() != nil {
			break
		}
	}
	l.mu.Lock()
	if l.depth > 0 {
		dropHeld(l.held)
		l.depth, l.held = 0, nil
		processLocks.release(l.slot, l.cfg.shared)
	}
	l.mu.Unlock()
}

// dropHeld stops what a hold kept going: a fair hold's refresh and ticket,
// a soft or link hold's heartbeat and kept descriptor. (An os or ofd
// release always ends its hold.)
func dropHeld(h held) {
	if f, ok := h.(*fairHeld); ok {
		f.stop()
		_ = f.q.leave()
		h = f.held
	}
	if f, ok := h.(*fileHeld); ok {
		f.stopHeartbeat()
		f.closeKept()
	}
}

// endedTest is a test's view for newLock whose cleanups run when end is
// called, as when a test ends.
type endedTest struct {
	testing.TB
	cleanups []func()
}

func (e *endedTest) Cleanup(f func()) { e.cleanups = append(e.cleanups, f) }

func (e *endedTest) end() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

// TestEndedTestLeavesNothingHeld: a test that ends while its handle holds
// the lock, twice over, or with a release that keeps failing, leaves the
// process's slot free for the next handle. (A lock file whose removal
// failed stays, in a directory of its own test.)
func TestEndedTestLeavesNothingHeld(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []Option
		freed bool // the lock file is gone too
	}{
		{"held twice", nil, true},
		{"release fails", []Option{WithStrategy(Soft), withFS(&faultFS{remove: func(string) error { return syscall.EIO }})}, false},
		{"fair release fails", []Option{WithStrategy(Soft), WithFair(), withFS(&faultFS{remove: func(string) error { return syscall.EIO }})}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			ended := &endedTest{TB: t}
			l := newLock(ended, path, append(tc.opts, WithTimeout(time.Minute))...)
			require.NoError(t, l.Lock())
			require.NoError(t, l.Lock())
			ended.end()
			require.Zero(t, l.Depth())
			require.Zero(t, processLocks.size())
			if !tc.freed {
				return
			}
			other := newLock(t, path, WithTimeout(time.Minute))
			require.NoError(t, other.Lock())
			require.NoError(t, other.Unlock())
		})
	}
}

// TestReleaseForgetsItsRecords: a release forgets the records this
// process counted as its own (ownRecords) rather than keeping them at a
// count of zero, so that a process that locks for ever does not grow.
func TestReleaseForgetsItsRecords(t *testing.T) {
	zeros := func() (n int) {
		ownRecords.Lock()
		defer ownRecords.Unlock()
		for _, c := range ownRecords.m {
			if c == 0 {
				n++
			}
		}
		return n
	}
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		l := newLock(t, filepath.Join(t.TempDir(), "x.lock"), WithStrategy(s), WithTimeout(time.Minute))
		for range 3 {
			require.NoError(t, l.Lock())
			require.NoError(t, l.Unlock())
		}
		require.Zero(t, zeros(), "records kept at a count of zero")
	})
}
