package filelock

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/fsys"
)

// epermFS reports a losing exclusive create as EPERM, as sshfs does.
type epermFS struct{ fsys.OS }

func (e epermFS) CreateExcl(name string, perm fs.FileMode) (fsys.File, error) {
	f, err := e.OS.CreateExcl(name, perm)
	if errors.Is(err, fs.ErrExist) {
		err = &fs.PathError{Op: "open", Path: name, Err: syscall.EPERM}
	}
	return f, err
}

func TestEPERMMeansBusyOnlyWhenTheFileExists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	a, _ := New(path, withFS(epermFS{}))
	b, _ := New(path, withFS(epermFS{}))
	require.NoError(t, a.Lock())
	// Bypass the process-wide table so that b reaches the file.
	processLocks.release(a.slot, false)
	require.ErrorIs(t, b.TryLock(), ErrWouldBlock, "EPERM with a lock file there is contention")
	require.NoError(t, processLocks.acquire(t.Context(), a.slot, false, false))
	require.NoError(t, a.Unlock())
	require.NoError(t, b.TryLock())
	require.NoError(t, b.Unlock())
}
