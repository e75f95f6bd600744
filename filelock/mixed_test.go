//go:build unix

package filelock

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSoftRefusesAKernelLockedFile: a Soft or Link waiter that finds the
// lock file held by an os holder (another process) never breaks it, even
// when it is old enough to be stale, and fails with ErrMixedStrategies;
// the os holder still holds its file.
func TestSoftRefusesAKernelLockedFile(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			h := startStaleHolder(t, OS, path, time.Second)
			l := newLock(t, path, WithStrategy(s), WithStaleAfter(time.Second), WithTimeout(30*time.Second))
			err := l.Lock()
			require.ErrorIs(t, err, ErrMixedStrategies)
			require.NotErrorIs(t, err, ErrTimeout)
			require.FileExists(t, path)
			require.Equal(t, "unlocked", h.ask(t, "unlock"))
		})
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
