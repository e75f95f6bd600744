package filelock

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBadPathsRejectedByNew(t *testing.T) {
	for _, tc := range []struct{ name, path string }{
		{"empty", ""},
		{"NUL byte", "a\x00b.lock"},
		{"trailing separator", "dir/"},
		{"dot", "."},
		{"dot dot", "a/.."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := New(tc.path)
			require.Nil(t, l)
			require.ErrorIs(t, err, ErrInvalidPath)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.path, pe.Path)
		})
	}
}

// requireImmediateError acquires path in every way and requires each to
// fail at once with target, leaving dir as it was. The blocking calls carry
// a generous timeout only so that a regression fails instead of hanging.
func requireImmediateError(t *testing.T, s Strategy, path, dir string, target error, opts ...Option) {
	t.Helper()
	before := dirEntries(t, dir)
	l := newLock(t, path, append([]Option{WithStrategy(s), WithTimeout(time.Minute)}, opts...)...)
	for name, acquire := range map[string]func() error{"TryLock": l.TryLock, "Lock": l.Lock} {
		err := acquire()
		require.ErrorIs(t, err, target, name)
		require.NotErrorIs(t, err, ErrTimeout, name)
		require.NotErrorIs(t, err, ErrWouldBlock, name)
		var pe *fs.PathError
		require.ErrorAs(t, err, &pe, name)
		require.Equal(t, path, pe.Path, name)
		require.Zero(t, l.Depth())
	}
	require.Equal(t, before, dirEntries(t, dir), "nothing left behind")
	require.Zero(t, processLocks.size())
}

// requireNotRegular checks that acquiring and inspecting path with
// strategy s fail at once with ErrNotRegular, naming path.
func requireNotRegular(t *testing.T, s Strategy, path, dir string) {
	t.Helper()
	requireImmediateError(t, s, path, dir, ErrNotRegular)
	_, err := Inspect(path, WithStrategy(s))
	requireLockPathError(t, err, path, ErrNotRegular)
}

func TestPathIsNotARegularFile(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		target := filepath.Join(dir, "target")
		require.NoError(t, os.WriteFile(target, []byte("precious\n"), 0o644))

		t.Run("directory", func(t *testing.T) {
			sub := filepath.Join(dir, "sub")
			require.NoError(t, os.Mkdir(sub, 0o755))
			requireNotRegular(t, s, sub, dir)
			require.Contains(t, errString(s, sub), "directory")
		})
		t.Run("symlink to a file", func(t *testing.T) {
			link := filepath.Join(dir, "link")
			require.NoError(t, os.Symlink(target, link))
			requireNotRegular(t, s, link, dir)
			data, err := os.ReadFile(target)
			require.NoError(t, err)
			require.Equal(t, "precious\n", string(data), "the link was not followed")
		})
		t.Run("dangling symlink", func(t *testing.T) {
			link := filepath.Join(dir, "dangling")
			require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere"), link))
			requireNotRegular(t, s, link, dir)
			require.NoFileExists(t, filepath.Join(dir, "nowhere"))
		})
		if runtime.GOOS == "windows" {
			return
		}
		t.Run("FIFO", func(t *testing.T) {
			fifo := filepath.Join(dir, "fifo")
			require.NoError(t, mkfifo(fifo))
			requireNotRegular(t, s, fifo, dir)
		})
		t.Run("device", func(t *testing.T) {
			requireNotRegular(t, s, "/dev/null", "/dev")
		})
		if runtime.GOOS == "linux" {
			// A directory where no one, root included, may make a claim
			// (as /dev is to any other user): the path is still said to
			// be no lock file, not that a claim could not be made.
			t.Run("in a directory no one may write", func(t *testing.T) {
				requireNotRegular(t, s, "/proc/self/exe", "/proc/self")
			})
		}
	})
}

func errString(s Strategy, path string) string {
	l, err := New(path, WithStrategy(s))
	if err != nil {
		return err.Error()
	}
	return l.TryLock().Error()
}

func TestMissingParentDirectory(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		path := filepath.Join(dir, "no", "such", "x.lock")
		requireImmediateError(t, s, path, dir, fs.ErrNotExist)
		msg := errString(s, path)
		require.Contains(t, msg, "parent directory")
		require.Contains(t, msg, filepath.Join(dir, "no", "such"))

		// A parent that is a file is just as clear.
		file := filepath.Join(dir, "file")
		require.NoError(t, os.WriteFile(file, nil, 0o644))
		l := newLock(t, filepath.Join(file, "x.lock"), WithStrategy(s))
		err := lockWithin(l)
		require.Error(t, err)
		require.True(t, strings.Contains(err.Error(), "not a directory"), err.Error())

		// With WithCreateDirs the parents are made.
		l = newLock(t, path, WithStrategy(s), WithCreateDirs(0o755))
		require.NoError(t, lockWithin(l))
		require.FileExists(t, path)
		require.NoError(t, l.Unlock())
	})
}
