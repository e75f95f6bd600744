package filelock

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/proc"
)

// TestAtomicInitMarkerNeedsProof: a regular file at the marker path that
// holds no record (empty, or written by anyone) is not taken for proof
// that fn ran: fn runs and the marker replaces the file.
func TestAtomicInitMarkerNeedsProof(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"text", "done\n"},
		{"pid", "12345\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "done")
			require.NoError(t, os.WriteFile(marker, []byte(tc.data), 0o644))
			calls := 0
			ran, err := AtomicInit(marker, func() error { calls++; return nil })
			require.NoError(t, err)
			require.True(t, ran)
			require.Equal(t, 1, calls)
			data, err := os.ReadFile(marker)
			require.NoError(t, err)
			_, err = ParseRecord(data)
			require.NoError(t, err, "the marker now holds a record")

			ran, err = AtomicInit(marker, func() error { calls++; return nil })
			require.NoError(t, err)
			require.False(t, ran, "a real marker is proof")
			require.Equal(t, 1, calls)
		})
	}
}

// TestRecordLeftBeforeExecIsDead: a lock file whose record names this very
// process but that no handle of this process image made (it was left by
// this process before an exec, which keeps the PID and the start time) is
// taken over at once; one that a handle of this process holds is not.
func TestRecordLeftBeforeExecIsDead(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			require.NoError(t, os.WriteFile(path, forgedRecord(t, proc.Self()), 0o644))
			l := newLock(t, path, WithStrategy(s))
			require.NoError(t, l.TryLock(), "the record left before the exec is dead")

			// A handle of this process that holds the lock is alive,
			// even to a handle that gets past the process-wide table.
			processLocks.release(l.slot, false)
			other := newLock(t, path, WithStrategy(s))
			require.ErrorIs(t, other.TryLock(), ErrWouldBlock)
			require.NoError(t, processLocks.acquire(t.Context(), l.slot, false, false))
			require.NoError(t, l.Unlock())
		})
	}
}
