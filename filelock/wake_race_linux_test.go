//go:build linux

package filelock

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
)

// hookedMechanism runs after(n, err) after the n-th attempt (from 1) of
// the mechanism it wraps, before the attempt's result is returned.
type hookedMechanism struct {
	mechanism
	after func(n int, err error)
	n     int // guarded by the handle's one acquisition at a time
}

func (m *hookedMechanism) try(ctx context.Context, l *Lock, wait bool) (held, error) {
	h, err := m.mechanism.try(ctx, l, wait)
	m.n++
	m.after(m.n, err)
	return h, err
}

// TestDeathAroundTheWatchIsSeen forces the two interleavings in which a
// watching waiter once missed a holder's death, with a clock that never
// moves (so no judgement is ever due by time, and no poll ever fires):
//
//   - before-watch: the holder dies after the first attempt judged it
//     alive and before the watch starts, so no event reports the death;
//     the attempt made right after arming must judge the lock again.
//   - after-watch: the holder dies while the waiter watches; the event of
//     its lock file's close must lead to a judgement, although the last
//     one was made at this very (fake) instant.
//
// Either one missed waits for ever here (for a poll, 2 s in production),
// and fails at the deadline.
func TestDeathAroundTheWatchIsSeen(t *testing.T) {
	skipWithoutDeadRule(t)
	for _, s := range []Strategy{Soft, Link} {
		for name, killAfter := range map[string]int{"before-watch": 1, "after-watch": 2} {
			t.Run(s.String()+"/"+name, func(t *testing.T) {
				testDeathAroundTheWatch(t, s, killAfter)
			})
		}
	}
}

func testDeathAroundTheWatch(t *testing.T, s Strategy, killAfter int) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	h := startStaleHolder(t, s, path, time.Hour)
	hook := func(n int, err error) {
		if n != killAfter {
			return
		}
		require.ErrorIs(t, err, errBusy, "attempt %d finds the live holder", n)
		h.signal(t, syscall.SIGKILL)
		h.cmd.Wait() // dead, its lock file closed, before the next step
	}
	wrap := func(m mechanism) mechanism { return &hookedMechanism{mechanism: m, after: hook} }
	l, err := New(path, WithStrategy(s), WithStaleAfter(time.Hour), WithBackoff(time.Hour, time.Hour),
		withClock(clock.NewFake(time.Now())), withMechanism(wrap))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, l.LockContext(ctx), "the dead holder's lock is taken over")
	require.NoError(t, l.Unlock())
	require.Empty(t, dirEntries(t, dir))
}
