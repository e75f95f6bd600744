package filelock

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/fsys"
)

// TestFairWaitsLeaveNoDescriptor: fair waits that end without the lock
// close the queue directory they opened, whatever ends them: 1,000 waits
// cancelled at every stage behind a holder (before queueing, while
// queueing, while waiting), waits whose ticket cannot be made (ENOSPC),
// and waits that find the queue unsafe once opened leave the process's
// descriptor count as it was, and only the holder's ticket in the queue;
// so do fair and default TryLocks, which look in the queue.
func TestFairWaitsLeaveNoDescriptor(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	h := newLock(t, path, WithFair(), WithTimeout(time.Minute))
	require.NoError(t, h.Lock())
	t.Cleanup(func() { require.NoError(t, h.Unlock()) })
	queue := path + queueSuffix
	fullDisk := &faultFS{create: func(name string) error {
		if filepath.Dir(name) == queue {
			return &fs.PathError{Op: "open", Path: name, Err: syscall.ENOSPC}
		}
		return nil
	}}
	for _, tc := range []struct {
		name  string
		n     int
		fs    fsys.FS // the waiter's: not the holder's, so that it queues
		setup func(t *testing.T)
		want  error
	}{
		{"cancelled", 1000, otherFS{}, nil, ErrTimeout},
		{"full disk", 100, fullDisk, nil, syscall.ENOSPC},
		{"unsafe", 100, otherFS{}, func(t *testing.T) {
			require.NoError(t, os.Chmod(queue, 0o777))
			t.Cleanup(func() { require.NoError(t, os.Chmod(queue, 0o755)) })
		}, ErrUnsafeDirectory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			w := newLock(t, path, WithFair(), withFS(tc.fs))
			before := openFDs(t)
			for i := range tc.n {
				// Cancelled after 0 to 3.2 ms: some waits end before they
				// queue, some while they make their ticket, most while
				// they wait. The others end of themselves.
				wait := time.Duration(i%17) * 200 * time.Microsecond
				if tc.want != ErrTimeout {
					wait = testLockWait
				}
				ctx, cancel := context.WithTimeout(context.Background(), wait)
				err := w.LockContext(ctx)
				cancel()
				require.ErrorIs(t, err, tc.want, "wait %d", i)
			}
			require.Equal(t, before, openFDs(t), "descriptors left open")
			require.Equal(t, 1, queueLen(t, path), "only the holder's ticket is left")
		})
	}
	// A TryLock opens the queue for the call: a fair one to see whether
	// anyone waits, a default one to tidy the queue at its first look.
	t.Run("try", func(t *testing.T) {
		before := openFDs(t)
		for i := range 100 {
			for _, opts := range [][]Option{{WithFair()}, nil} {
				w := newLock(t, path, append(opts, withFS(otherFS{}))...)
				require.ErrorIs(t, w.TryLock(), ErrWouldBlock, "try %d, options %d", i, len(opts))
			}
		}
		require.Equal(t, before, openFDs(t), "descriptors left open")
	})
}
