//go:build unix

package filelock

import (
	"path/filepath"
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
			l, err := New(path, WithStrategy(s), WithStaleAfter(time.Second), WithTimeout(30*time.Second))
			require.NoError(t, err)
			err = l.Lock()
			require.ErrorIs(t, err, ErrMixedStrategies)
			require.NotErrorIs(t, err, ErrTimeout)
			require.FileExists(t, path)
			require.Equal(t, "unlocked", h.ask(t, "unlock"))
		})
	}
}
