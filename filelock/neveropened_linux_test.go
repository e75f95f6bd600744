package filelock

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/fsys"
)

// TestNoFIFOOpened: an os or ofd acquisition never opens a lock path that
// is not a regular file (opening a device or FIFO can block or have side
// effects): neither at its first attempt nor at a waiter's attempt with
// the descriptor it kept from a busy one, once the path has been replaced
// by a FIFO. inotify counts the FIFO's opens.
func TestNoFIFOOpened(t *testing.T) {
	for _, s := range []Strategy{OS, OFD} {
		t.Run(s.String(), func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "fifo")
			require.NoError(t, mkfifo(fifo))
			opens := countOpens(t, fifo)
			require.ErrorIs(t, newLock(t, fifo, WithStrategy(s)).TryLock(), ErrNotRegular)
			require.Zero(t, opens(), "the FIFO opened at a first attempt")

			path := filepath.Join(dir, "x.lock")
			holder, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
			require.NoError(t, err)
			locker, _ := lockerFor(s)
			require.NoError(t, locker.lock(holder.Fd(), false))
			l := newLock(t, path, WithStrategy(s))
			m := l.mech.(osMechanism)
			var kept fsys.OSFile
			_, err = m.tryKept(l, &kept)
			require.ErrorIs(t, err, errBusy)
			require.NotNil(t, kept, "no descriptor kept from the busy attempt")
			require.NoError(t, holder.Close())
			require.NoError(t, os.Remove(path))
			require.NoError(t, mkfifo(path))
			opens = countOpens(t, path)
			_, err = m.tryKept(l, &kept)
			require.ErrorIs(t, err, ErrNotRegular)
			require.Nil(t, kept)
			require.Zero(t, opens(), "the FIFO opened at an attempt with a kept descriptor")
		})
	}
}

// TestProbeLeavesTheLockFree: a probe that finds the lock free leaves it
// free while its descriptor is still open, and one that finds it held
// says so.
func TestProbeLeavesTheLockFree(t *testing.T) {
	for _, s := range []Strategy{OS, OFD} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			prober, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
			require.NoError(t, err)
			defer prober.Close()
			other, err := os.OpenFile(path, os.O_RDWR, 0)
			require.NoError(t, err)
			defer other.Close()
			locker, _ := lockerFor(s)
			held, err := locker.probe(prober.Fd())
			require.NoError(t, err)
			require.False(t, held)
			require.NoError(t, locker.lock(other.Fd(), false), "the probe kept the lock")
			held, err = locker.probe(prober.Fd())
			require.NoError(t, err)
			require.True(t, held)
			require.NoError(t, locker.unlock(other.Fd()))
		})
	}
}
