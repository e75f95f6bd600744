//go:build unix

package filelock

import (
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/proc"
	"github.com/stretchr/testify/require"
)

// TestSoftRefusesAKernelLockedFile: a Soft or Link waiter that finds the
// lock file held by an os or ofd holder (another process) never breaks
// it, even when it is old enough to be stale, and fails with
// ErrMixedStrategies; the holder still holds its file, and Inspect does
// not call it stale. (On Linux neither
// kernel lock shows through the other's probe: each must be asked.)
func TestSoftRefusesAKernelLockedFile(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		for _, k := range []Strategy{OS, OFD} {
			if !supported(k) {
				continue
			}
			t.Run(s.String()+"/"+k.String(), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "x.lock")
				h := startStaleHolder(t, k, path, time.Second)
				l := newLock(t, path, WithStrategy(s), WithStaleAfter(time.Second), WithTimeout(30*time.Second))
				err := l.Lock()
				require.ErrorIs(t, err, ErrMixedStrategies)
				require.NotErrorIs(t, err, ErrTimeout)
				require.FileExists(t, path)
				// Inspect says what a break would find: not stale.
				st, err := l.Inspect()
				require.NoError(t, err)
				require.True(t, st.Held)
				require.False(t, st.Stale, "stale, %s", st.StaleReason)
				require.Contains(t, st.StaleReason, ErrMixedStrategies.Error())
				require.Equal(t, "unlocked", h.ask(t, "unlock"))
			})
		}
	}
}

// TestKernelLockRefusesALiveRecord: a kernel lock taken on a lock file
// that holds the record of a live process, which therefore holds the lock
// some other way (Soft or Link, or on Linux the other kernel strategy), is
// given up with ErrMixedStrategies, and the record is left as it was.
func TestKernelLockRefusesALiveRecord(t *testing.T) {
	for _, tc := range []struct{ holder, taker Strategy }{
		{Soft, OS}, {Soft, OFD}, {Link, OS}, {OFD, OS}, {OS, OFD},
	} {
		t.Run(tc.holder.String()+"-then-"+tc.taker.String(), func(t *testing.T) {
			if !supported(tc.holder) || !supported(tc.taker) {
				t.Skipf("%v or %v is not a strategy of this platform", tc.holder, tc.taker)
			}
			if tc.holder.fileBased() == tc.taker.fileBased() && runtime.GOOS != "linux" {
				t.Skip("flock and fcntl locks are one kind of lock here")
			}
			path := filepath.Join(t.TempDir(), "x.lock")
			startHolder(t, tc.holder, path)
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			l := newLock(t, path, WithStrategy(tc.taker))
			require.ErrorIs(t, l.TryLock(), ErrMixedStrategies)
			require.Zero(t, l.Depth())
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(before), string(after), "the holder's record is left as it was")
		})
	}
}

// TestKernelLockWaitsForADyingHolder: the record left by a holder killed
// while it held names a process that may still look alive for a moment
// after the kernel dropped its lock. A kernel lock taken then is kept if
// the process is gone within dyingRecheckTotal, and given up if it is
// still alive after that. The process's states are played, and the
// handle's clock is fake: the test moves it.
func TestKernelLockWaitsForADyingHolder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		aliveOn int // how many looks see it alive (-1: every one)
		want    error
	}{
		{"gone at once", 0, nil},
		{"gone after three looks", 3, nil},
		{"alive throughout", -1, ErrMixedStrategies},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			holder := newRecord(proc.Identity{PID: 1 << 22, Host: proc.Self().Host, BootID: proc.Self().BootID, PIDNS: proc.Self().PIDNS, Start: 1}, time.Now())
			data, err := holder.MarshalText()
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, data, 0o644))
			var looks atomic.Int32
			liveness := func(id proc.Identity) proc.State {
				if id.PID != holder.PID {
					return proc.Alive
				}
				if n := looks.Add(1); tc.aliveOn < 0 || int(n) <= tc.aliveOn {
					return proc.Alive
				}
				return proc.Dead
			}
			fake := clock.NewFake(time.Now())
			l := newLock(t, path, WithStrategy(OS), withClock(fake), withProcess(proc.Self(), liveness))
			got := make(chan error, 1)
			go func() { got <- l.TryLock() }()
			for {
				select {
				case err := <-got:
					if tc.want == nil {
						require.NoError(t, err)
						require.NoError(t, l.Unlock())
					} else {
						require.ErrorIs(t, err, tc.want)
						require.Greater(t, looks.Load(), int32(5), "given up after %d looks", looks.Load())
						after, err := os.ReadFile(path)
						require.NoError(t, err)
						require.Equal(t, string(data), string(after), "the record is left as it was")
					}
					return
				case <-fake.TimerAdded():
					fake.Advance(maxDyingRecheck)
				}
			}
		})
	}
}
