package filelock

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/fsys"
)

// TestFailedWriteOrCloseTakesNoLock: a lock file (or claim) whose record
// cannot be written, or whose close fails (NFS reports a failed write-back
// there), is no lock: the acquisition fails with the cause and leaves
// nothing behind. A link claim fails so beside a lock file that is there
// too (a link lock makes its claim first). (Through a wrapped filesystem
// no lock file is kept open, so a kept file's close is not reached here.)
func TestFailedWriteOrCloseTakesNoLock(t *testing.T) {
	for _, tc := range []struct {
		s      Strategy
		step   string
		beside bool // a live holder's lock file at the path
	}{
		{Soft, "write", false}, {Soft, "close", false},
		{Link, "write", false}, {Link, "close", false},
		{Link, "write", true},
	} {
		t.Run(fmt.Sprintf("%v/%s/beside a lock file %v", tc.s, tc.step, tc.beside), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			var want string
			if tc.beside {
				require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
				want = "x.lock"
			}
			l := newLock(t, path, WithStrategy(tc.s), withFS(failingFileFS{step: tc.step}))
			err := l.TryLock()
			require.ErrorIs(t, err, syscall.ENOSPC)
			require.Zero(t, l.Depth())
			require.Equal(t, want, dirEntries(t, dir), "something left behind")
		})
	}
}

// failingFileFS is the real filesystem on which every file made
// exclusively fails its first write or its close with ENOSPC.
type failingFileFS struct {
	fsys.OS
	step string
}

func (f failingFileFS) CreateExcl(name string, perm fs.FileMode) (fsys.File, error) {
	file, err := f.OS.CreateExcl(name, perm)
	if err != nil {
		return nil, err
	}
	return &failingFile{File: file, step: f.step}, nil
}

type failingFile struct {
	fsys.File
	step string
}

func (f *failingFile) Write(p []byte) (int, error) {
	if f.step == "write" {
		return 0, &fs.PathError{Op: "write", Path: "file", Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

func (f *failingFile) Close() error {
	err := f.File.Close()
	if f.step == "close" && err == nil {
		return &fs.PathError{Op: "close", Path: "file", Err: syscall.ENOSPC}
	}
	return err
}

func (f *failingFile) Chmod(mode fs.FileMode) error {
	return f.File.(interface{ Chmod(fs.FileMode) error }).Chmod(mode)
}

// TestRenameAnsweredWithAnErrorAfterAll: a soft claim renamed into place
// whose rename reports an error all the same (a network filesystem that
// lost the reply and retried the request, which then found the name
// taken: by the claim itself) is a lock taken: the path names the claim.
func TestRenameAnsweredWithAnErrorAfterAll(t *testing.T) {
	if !fsys.CanRenameNoReplace(fsys.OS{}) {
		t.Skip("no rename that never replaces on this system (Linux and macOS have one)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	l := newLock(t, path, withFS(lostReplyFS{}))
	require.NoError(t, l.TryLock(), "a claim renamed into place taken for a failure")
	require.Equal(t, "x.lock", dirEntries(t, dir))
	require.NoError(t, l.Unlock())
}

// lostReplyFS renames as asked, then answers EEXIST, as a retried request
// whose first reply was lost does.
type lostReplyFS struct{ fsys.OS }

func (lostReplyFS) RenameNoReplace(oldname, newname string) error {
	if err := (fsys.OS{}).RenameNoReplace(oldname, newname); err != nil {
		return err
	}
	return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.EEXIST}
}
