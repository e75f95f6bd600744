//go:build unix

package filelock

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
)

// Where lock files are not kept open (a network filesystem, FUSE), a lock
// path replaced by a symbolic link, a directory or a FIFO after a break
// is a lost lock: Lost fires at the next beat, and Unlock lets the handle
// go. Before, each beat failed to read it, Lost never fired, and no
// Unlock could release the handle, which shut every other handle of this
// process out of the lock for good.
func TestLockPathReplacedByWhatIsNotAFileIsLost(t *testing.T) {
	for _, kind := range []string{"symbolic link", "directory", "FIFO"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			fk := clock.NewFake(time.Now())
			l := newLock(t, path, WithStaleAfter(3*time.Second), WithHeartbeat(time.Second), withFS(&faultFS{}), withClock(fk))
			require.NoError(t, lockWithin(l))
			lost := l.Lost()
			require.NoError(t, os.Remove(path)) // broken, as stale
			switch kind {
			case "symbolic link":
				require.NoError(t, os.Symlink(filepath.Join(dir, "elsewhere"), path))
			case "directory":
				require.NoError(t, os.Mkdir(path, 0o755))
			case "FIFO":
				require.NoError(t, syscall.Mkfifo(path, 0o644))
			}
			fk.Advance(time.Second)
			fk.Settle()
			select {
			case <-lost:
			default:
				t.Fatalf("Lost still open after a beat found a %s at the lock path", kind)
			}
			require.ErrorIs(t, l.Unlock(), ErrLockLost)
			require.Zero(t, l.Depth())
			require.NoError(t, os.Remove(path))
		})
	}
}
