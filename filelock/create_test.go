package filelock

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/fsys"
)

// TestFailedWriteOrCloseTakesNoLock: a lock file (or claim) whose record
// cannot be written, or whose close fails (NFS reports a failed write-back
// there), is no lock: the acquisition fails with the cause and leaves
// nothing behind.
func TestFailedWriteOrCloseTakesNoLock(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		for _, step := range []string{"write", "close"} {
			t.Run(s.String()+"/"+step, func(t *testing.T) {
				dir := t.TempDir()
				l := newLock(t, filepath.Join(dir, "x.lock"), WithStrategy(s), withFS(failingFileFS{step: step}))
				err := l.TryLock()
				require.ErrorIs(t, err, syscall.ENOSPC)
				require.Zero(t, l.Depth())
				require.Empty(t, dirEntries(t, dir), "something left behind")
			})
		}
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
