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
			holder, _ := heldElsewhere(t, s, path)
			l, m, kept := keptFromABusyAttempt(t, s, path)
			require.NoError(t, holder.Close())
			require.NoError(t, os.Remove(path))
			require.NoError(t, mkfifo(path))
			opens = countOpens(t, path)
			_, err := m.tryKept(l, &kept)
			require.ErrorIs(t, err, ErrNotRegular)
			require.Nil(t, kept)
			require.Zero(t, opens(), "the FIFO opened at an attempt with a kept descriptor")
		})
	}
}

// TestKeptDescriptorReused: an os or ofd waiter's attempt with the
// descriptor it kept from a busy one, while the path still names that
// file, opens nothing: not while the lock is busy, nor when it takes it.
// (Opening anew each time would cost an open, and its close would wake
// the lock's watchers for nothing.) inotify counts the opens.
func TestKeptDescriptorReused(t *testing.T) {
	for _, s := range []Strategy{OS, OFD} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			holder, locker := heldElsewhere(t, s, path)
			defer holder.Close()
			l, m, kept := keptFromABusyAttempt(t, s, path)
			opens := countOpens(t, path)
			_, err := m.tryKept(l, &kept)
			require.ErrorIs(t, err, errBusy)
			require.NotNil(t, kept, "no descriptor kept from the second busy attempt")
			require.Zero(t, opens(), "the path opened at a busy attempt with a kept descriptor")
			require.NoError(t, locker.unlock(holder.Fd()))
			h, err := m.tryKept(l, &kept)
			require.NoError(t, err)
			require.Zero(t, opens(), "the path opened at the attempt that took the lock")
			require.NoError(t, h.release())
		})
	}
}

// heldElsewhere makes the lock file at path and locks it, as another
// process's holder of strategy s would, through the returned file.
func heldElsewhere(t *testing.T, s Strategy, path string) (*os.File, osLocker) {
	t.Helper()
	holder, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	locker, _ := lockerFor(s)
	require.NoError(t, locker.lock(holder.Fd(), false))
	return holder, locker
}

// keptFromABusyAttempt makes an attempt of a new handle of strategy s at
// the lock at path, held elsewhere, and returns the handle, its mechanism
// and the descriptor the attempt kept.
func keptFromABusyAttempt(t *testing.T, s Strategy, path string) (*Lock, osMechanism, fsys.OSFile) {
	t.Helper()
	l := newLock(t, path, WithStrategy(s))
	m := l.mech.(osMechanism)
	var kept fsys.OSFile
	_, err := m.tryKept(l, &kept)
	require.ErrorIs(t, err, errBusy)
	require.NotNil(t, kept, "no descriptor kept from the busy attempt")
	return l, m, kept
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
