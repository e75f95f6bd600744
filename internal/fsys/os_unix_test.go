//go:build unix

package fsys

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestCreateExclAndReadAll(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	var fsys OS
	f, err := fsys.CreateExcl(name, 0o644)
	require.NoError(t, err)
	_, err = f.Write([]byte("hello\n"))
	require.NoError(t, err)
	info, err := f.Stat()
	require.NoError(t, err)
	require.True(t, info.Mode.IsRegular())
	require.EqualValues(t, 6, info.Size)
	require.EqualValues(t, 1, info.Nlink)
	require.False(t, info.ID.IsZero())
	require.NoError(t, f.Close())
	require.ErrorIs(t, f.Close(), fs.ErrClosed)

	_, err = fsys.CreateExcl(name, 0o644)
	require.ErrorIs(t, err, fs.ErrExist)

	data, rinfo, err := ReadAll(fsys, name, 3)
	require.NoError(t, err)
	require.Equal(t, "hel", string(data), "at most limit bytes")
	require.Equal(t, info.ID, rinfo.ID)

	require.NoError(t, fsys.Link(name, name+".2"))
	linfo, err := fsys.Lstat(name)
	require.NoError(t, err)
	require.EqualValues(t, 2, linfo.Nlink)
}

func TestNeverFollowsOrBlocks(t *testing.T) {
	dir := t.TempDir()
	var fsys OS
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("x"), 0o644))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))

	_, err := fsys.CreateExcl(link, 0o644)
	require.ErrorIs(t, err, fs.ErrExist)
	_, err = fsys.OpenRead(link)
	require.True(t, errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK), "%v", err)
	info, err := fsys.Lstat(link)
	require.NoError(t, err)
	require.NotZero(t, info.Mode&fs.ModeSymlink)
	info, err = fsys.Stat(link)
	require.NoError(t, err)
	require.True(t, info.Mode.IsRegular())

	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, unix.Mkfifo(fifo, 0o644))
	_, info, err = ReadAll(fsys, fifo, 10)
	require.ErrorIs(t, err, ErrNotRegular)
	require.NotZero(t, info.Mode&fs.ModeNamedPipe)

	dinfo, err := fsys.Lstat(dir)
	require.NoError(t, err)
	require.True(t, dinfo.Mode.IsDir())
}

func TestTouchUsesTheCurrentTime(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(name, nil, 0o644))
	old := time.Unix(1e9, 0)
	require.NoError(t, os.Chtimes(name, old, old))
	var fsys OS
	require.NoError(t, fsys.Touch(name))
	info, err := fsys.Lstat(name)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), info.ModTime, time.Minute)
	require.ErrorIs(t, fsys.Touch(name+".missing"), fs.ErrNotExist)
	require.NoError(t, fsys.SyncDir(filepath.Dir(name)))
}

// TestReadDirNames: every entry but "." and "..", over several reads of
// the directory (more names than one buffer holds); a missing directory is
// fs.ErrNotExist with its path, and a file is not a directory.
func TestReadDirNames(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 600 {
		name := fmt.Sprintf("a-rather-long-name-so-that-the-entries-fill-more-than-one-buffer-%04d", i)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
		want = append(want, name)
	}
	require.NoError(t, os.Remove(filepath.Join(dir, want[300]))) // a hole
	want = slices.Delete(want, 300, 301)
	listings := map[string]func(string) ([]string, error){
		"ReadDirNames": OS{}.ReadDirNames,
		"ScanDir": func(dir string) ([]string, error) {
			var names []string
			err := OS{}.ScanDir(dir, func(name []byte) { names = append(names, string(name)) })
			return names, err
		},
		"Dir.Scan": func(dir string) ([]string, error) {
			d, err := OS{}.OpenDir(dir)
			if err != nil {
				return nil, err
			}
			defer d.Close()
			var names []string
			for range 2 { // a second listing starts from the beginning again
				names = names[:0]
				err = d.Scan(func(name []byte) { names = append(names, string(name)) })
			}
			return names, err
		},
	}
	for what, list := range listings {
		t.Run(what, func(t *testing.T) {
			got, err := list(dir)
			require.NoError(t, err)
			slices.Sort(got)
			require.Equal(t, want, got)

			_, err = list(filepath.Join(dir, "missing"))
			require.ErrorIs(t, err, fs.ErrNotExist)
			require.ErrorContains(t, err, filepath.Join(dir, "missing"))
			_, err = list(filepath.Join(dir, want[0]))
			require.ErrorIs(t, err, syscall.ENOTDIR)
		})
	}
}

// BenchmarkScanDir lists a directory of 64 entries, as a fair queue of 64
// waiters is listed.
func BenchmarkScanDir(b *testing.B) {
	dir := b.TempDir()
	for i := range 64 {
		require.NoError(b, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d-%032x", i, i)), nil, 0o644))
	}
	b.Run("ReadDirNames", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := (OS{}).ReadDirNames(dir); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ScanDir", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			if err := (OS{}).ScanDir(dir, func([]byte) { n++ }); err != nil || n != 64 {
				b.Fatal(n, err)
			}
		}
	})
}

// TestOpenLockFileKeepsAModeItDidNotSet: a lock file that another process
// makes between OpenLockFile's finding it missing and making it is opened
// as it is, its mode (that process's choice) untouched: only the maker of
// a lock file sets its mode, so the file is made exclusively.
func TestOpenLockFileKeepsAModeItDidNotSet(t *testing.T) {
	name := filepath.Join(t.TempDir(), "x.lock")
	missingHook = func(string) {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		require.NoError(t, err)
		require.NoError(t, f.Chmod(0o664))
		require.NoError(t, f.Close())
	}
	t.Cleanup(func() { missingHook = nil })
	f, err := OpenLockFile(name, 0o644)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	info, err := os.Lstat(name)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o664), info.Mode().Perm(), "the other process's mode changed")
}
