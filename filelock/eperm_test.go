package filelock

import (
	"errors"
	"io/fs"
	"os"
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

// Link reports a losing link as EPERM too.
func (e epermFS) Link(oldname, newname string) error {
	err := e.OS.Link(oldname, newname)
	if errors.Is(err, fs.ErrExist) {
		err = &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
	}
	return err
}

// deniedFS refuses every exclusive create with EPERM, with nothing there.
type deniedFS struct{ fsys.OS }

func (deniedFS) CreateExcl(name string, _ fs.FileMode) (fsys.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EPERM}
}

func TestEPERMMeansBusyOnlyWhenTheFileExists(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			a := newLock(t, path, WithStrategy(s), withFS(epermFS{}))
			b := newLock(t, path, WithStrategy(s), withFS(epermFS{}))
			require.NoError(t, lockWithin(a))
			// Bypass the process-wide table so that b reaches the file.
			processLocks.release(a.slot, false)
			require.ErrorIs(t, b.TryLock(), ErrWouldBlock, "EPERM with a lock file there is contention")
			require.NoError(t, processLocks.acquire(t.Context(), a.slot, false, false))
			require.NoError(t, a.Unlock())
			require.NoError(t, b.TryLock())
			require.NoError(t, b.Unlock())

			c := newLock(t, path, WithStrategy(s), withFS(deniedFS{}))
			err := c.TryLock()
			require.ErrorIs(t, err, fs.ErrPermission, "EPERM with nothing there is the real error")
			require.NotErrorIs(t, err, ErrWouldBlock)
			require.Empty(t, dirEntries(t, dir))
		})
	}
}
