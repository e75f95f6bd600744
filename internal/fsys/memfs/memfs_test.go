package memfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
)

// impl is one filesystem the conformance table runs on.
type impl struct {
	fs   fsys.FS
	root string
	// now is the filesystem's current time and slack how far a time it
	// stamps may be from it.
	now   func() time.Time
	slack time.Duration
	// advance moves the filesystem's clock, where the test can.
	advance func(time.Duration)
}

func (i impl) path(elem ...string) string {
	return filepath.Join(append([]string{i.root}, elem...)...)
}

// impls returns the in-memory filesystem and, on the POSIX systems whose
// semantics it copies, the real one in a temporary directory.
func impls(t *testing.T) map[string]impl {
	t.Helper()
	fake := clock.NewFake(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	out := map[string]impl{
		"memfs": {fs: New(fake), root: "/data/x", now: fake.Now, advance: fake.Advance},
	}
	require.NoError(t, out["memfs"].fs.MkdirAll("/data/x", 0o755))
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" {
		out["os"] = impl{fs: fsys.OS{}, root: t.TempDir(), now: time.Now, slack: 2 * time.Second, advance: func(time.Duration) {}}
	}
	return out
}

// conformance holds behaviours that the real filesystem and memfs share.
var conformance = []struct {
	name string
	run  func(t *testing.T, i impl)
}{
	{"create is exclusive", func(t *testing.T, i impl) {
		name := i.path("f")
		f, err := i.fs.CreateExcl(name, 0o644)
		require.NoError(t, err)
		_, err = i.fs.CreateExcl(name, 0o644)
		require.ErrorIs(t, err, fs.ErrExist)
		requirePathError(t, err, name)
		_, err = i.fs.CreateExcl(i.root, 0o644)
		require.ErrorIs(t, err, fs.ErrExist, "a directory exists too")
		_, err = f.Write([]byte("hello\n"))
		require.NoError(t, err)
		info, err := f.Stat()
		require.NoError(t, err)
		require.True(t, info.Mode.IsRegular())
		require.Equal(t, fs.FileMode(0o600), info.Mode.Perm()&0o700, "owner bits as asked")
		require.EqualValues(t, 6, info.Size)
		require.EqualValues(t, 1, info.Nlink)
		require.False(t, info.ID.IsZero())
		require.NoError(t, f.Close())
		require.ErrorIs(t, f.Close(), fs.ErrClosed)
		_, err = f.Write([]byte("x"))
		require.Error(t, err, "write after close")

		data, rinfo, err := fsys.ReadAll(i.fs, name, 100)
		require.NoError(t, err)
		require.Equal(t, "hello\n", string(data))
		require.Equal(t, info.ID, rinfo.ID)
	}},
	{"missing and non-directory parents", func(t *testing.T, i impl) {
		_, err := i.fs.CreateExcl(i.path("no", "f"), 0o644)
		require.ErrorIs(t, err, fs.ErrNotExist)
		writeFile(t, i, "file", "")
		_, err = i.fs.CreateExcl(i.path("file", "f"), 0o644)
		require.ErrorIs(t, err, syscall.ENOTDIR)
		_, err = i.fs.Lstat(i.path("file", "f"))
		require.ErrorIs(t, err, syscall.ENOTDIR)
		_, err = i.fs.OpenRead(i.path("no"))
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.ErrorIs(t, i.fs.MkdirAll(i.path("file", "d"), 0o755), syscall.ENOTDIR)
		require.ErrorIs(t, i.fs.Touch(i.path("no")), fs.ErrNotExist)
		require.ErrorIs(t, i.fs.SyncDir(i.path("no")), fs.ErrNotExist)
	}},
	{"remove a name, keep the open file", func(t *testing.T, i impl) {
		name := i.path("f")
		writeFile(t, i, "f", "data")
		f, err := i.fs.OpenRead(name)
		require.NoError(t, err)
		require.NoError(t, i.fs.Remove(name))
		_, err = i.fs.Lstat(name)
		require.ErrorIs(t, err, fs.ErrNotExist)
		requirePathError(t, i.fs.Remove(name), name)
		require.ErrorIs(t, i.fs.Remove(name), fs.ErrNotExist)
		data, err := io.ReadAll(f)
		require.NoError(t, err)
		require.Equal(t, "data", string(data))
		info, err := f.Stat()
		require.NoError(t, err)
		require.Zero(t, info.Nlink)
		require.NoError(t, f.Close())
		_, err = i.fs.CreateExcl(name, 0o644)
		require.NoError(t, err, "the name is free again")
	}},
	{"hard links", func(t *testing.T, i impl) {
		a, b := i.path("a"), i.path("b")
		writeFile(t, i, "a", "x")
		require.NoError(t, i.fs.Link(a, b))
		ia, err := i.fs.Lstat(a)
		require.NoError(t, err)
		ib, err := i.fs.Stat(b)
		require.NoError(t, err)
		require.Equal(t, ia.ID, ib.ID)
		require.EqualValues(t, 2, ia.Nlink)

		err = i.fs.Link(a, b)
		require.ErrorIs(t, err, fs.ErrExist)
		var le *os.LinkError
		require.ErrorAs(t, err, &le)
		require.ErrorIs(t, i.fs.Link(i.path("none"), i.path("c")), fs.ErrNotExist)
		require.ErrorIs(t, i.fs.Link(a, i.path("none", "c")), fs.ErrNotExist)
		require.NoError(t, i.fs.MkdirAll(i.path("d"), 0o755))
		require.ErrorIs(t, i.fs.Link(i.path("d"), i.path("d2")), fs.ErrPermission)

		require.NoError(t, i.fs.Remove(a))
		ib, err = i.fs.Lstat(b)
		require.NoError(t, err)
		require.EqualValues(t, 1, ib.Nlink)
		require.Equal(t, ia.ID, ib.ID)
	}},
	{"rename replaces", func(t *testing.T, i impl) {
		a, b := i.path("a"), i.path("b")
		writeFile(t, i, "a", "new")
		writeFile(t, i, "b", "old")
		ia, err := i.fs.Lstat(a)
		require.NoError(t, err)
		old, err := i.fs.OpenRead(b)
		require.NoError(t, err)
		require.NoError(t, i.fs.Rename(a, b))
		_, err = i.fs.Lstat(a)
		require.ErrorIs(t, err, fs.ErrNotExist)
		ib, err := i.fs.Lstat(b)
		require.NoError(t, err)
		require.Equal(t, ia.ID, ib.ID)
		data, err := io.ReadAll(old)
		require.NoError(t, err)
		require.Equal(t, "old", string(data), "the replaced file stays readable")
		require.NoError(t, old.Close())

		err = i.fs.Rename(a, b)
		require.ErrorIs(t, err, fs.ErrNotExist)
		var le *os.LinkError
		require.ErrorAs(t, err, &le)

		// Two names of one file: nothing happens.
		c := i.path("c")
		require.NoError(t, i.fs.Link(b, c))
		require.NoError(t, i.fs.Rename(b, c))
		for _, n := range []string{b, c} {
			info, err := i.fs.Lstat(n)
			require.NoError(t, err)
			require.EqualValues(t, 2, info.Nlink)
		}
	}},
	{"rename of directories", func(t *testing.T, i impl) {
		require.NoError(t, i.fs.MkdirAll(i.path("d", "sub"), 0o755))
		require.NoError(t, i.fs.MkdirAll(i.path("e"), 0o755))
		writeFile(t, i, "f", "")
		require.ErrorIs(t, i.fs.Rename(i.path("d"), i.path("f")), syscall.ENOTDIR)
		require.ErrorIs(t, i.fs.Rename(i.path("f"), i.path("e")), fs.ErrExist, "never replaces a directory")
		require.ErrorIs(t, i.fs.Rename(i.path("d"), i.path("e")), fs.ErrExist, "not even an empty one")
		require.ErrorIs(t, i.fs.Rename(i.path("d"), i.path("d", "sub", "x")), syscall.EINVAL)
		require.NoError(t, i.fs.Rename(i.path("d"), i.path("g")))
		info, err := i.fs.Lstat(i.path("g", "sub"))
		require.NoError(t, err)
		require.True(t, info.Mode.IsDir())
	}},
	{"directories", func(t *testing.T, i impl) {
		d := i.path("a", "b")
		require.NoError(t, i.fs.MkdirAll(d, 0o755))
		require.NoError(t, i.fs.MkdirAll(d, 0o755), "existing")
		require.NoError(t, i.fs.SyncDir(d))
		info, err := i.fs.Stat(d)
		require.NoError(t, err)
		require.True(t, info.Mode.IsDir())
		_, err = i.fs.CreateExcl(d, 0o644)
		require.ErrorIs(t, err, fs.ErrExist)

		err = i.fs.Remove(i.path("a"))
		require.ErrorIs(t, err, syscall.ENOTEMPTY)
		require.NoError(t, i.fs.Remove(d))
		require.NoError(t, i.fs.Remove(i.path("a")))

		// A directory opens, but is not read as a file.
		f, err := i.fs.OpenRead(i.root)
		require.NoError(t, err)
		_, err = f.Read(make([]byte, 1))
		require.ErrorIs(t, err, syscall.EISDIR)
		require.NoError(t, f.Close())
		_, _, err = fsys.ReadAll(i.fs, i.root, 10)
		require.ErrorIs(t, err, fsys.ErrNotRegular)
	}},
	{"read-only files", func(t *testing.T, i impl) {
		writeFile(t, i, "f", "")
		f, err := i.fs.OpenRead(i.path("f"))
		require.NoError(t, err)
		_, err = f.Write([]byte("x"))
		require.ErrorIs(t, err, syscall.EBADF)
		_, err = f.WriteAt([]byte("x"), 0)
		require.ErrorIs(t, err, syscall.EBADF)
		require.NoError(t, f.Close())
	}},
	{"offsets", func(t *testing.T, i impl) {
		f, err := i.fs.CreateExcl(i.path("f"), 0o644)
		require.NoError(t, err)
		_, err = f.Write([]byte("abc"))
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("Z"), 5)
		require.NoError(t, err)
		_, err = f.Write([]byte("d"))
		require.NoError(t, err, "WriteAt leaves the offset")
		require.NoError(t, f.Sync())
		require.NoError(t, f.Close())
		data, _, err := fsys.ReadAll(i.fs, i.path("f"), 100)
		require.NoError(t, err)
		require.Equal(t, "abcd\x00Z", string(data))
	}},
	{"modification times", func(t *testing.T, i impl) {
		name := i.path("f")
		i.advance(time.Hour)
		f, err := i.fs.CreateExcl(name, 0o644)
		require.NoError(t, err)
		requireNow(t, i, name)
		i.advance(time.Hour)
		_, err = f.Write([]byte("x"))
		require.NoError(t, err)
		require.NoError(t, f.Close())
		requireNow(t, i, name)
		i.advance(time.Hour)
		require.NoError(t, i.fs.Touch(name))
		requireNow(t, i, name)
		info, err := i.fs.Lstat(name)
		require.NoError(t, err)
		require.EqualValues(t, 1, info.Size, "touch keeps the contents")
	}},
	{"a file made with no permission is written through its descriptor, then given its mode", func(t *testing.T, i impl) {
		name := i.path("f")
		f, err := i.fs.CreateExcl(name, 0)
		require.NoError(t, err)
		_, err = f.Write([]byte("x"))
		require.NoError(t, err)
		info, err := i.fs.Lstat(name)
		require.NoError(t, err)
		require.Equal(t, fs.FileMode(0), info.Mode.Perm())
		c, ok := f.(interface{ Chmod(fs.FileMode) error })
		require.True(t, ok, "no Chmod")
		require.NoError(t, c.Chmod(0o640))
		require.NoError(t, f.Close())
		info, err = i.fs.Lstat(name)
		require.NoError(t, err)
		require.Equal(t, fs.FileMode(0o640), info.Mode.Perm())
		require.True(t, info.Mode.IsRegular())
		require.Error(t, c.Chmod(0o600), "chmod of a closed file")
	}},
}

func TestConformance(t *testing.T) {
	for _, c := range conformance {
		t.Run(c.name, func(t *testing.T) {
			for name, i := range impls(t) {
				t.Run(name, func(t *testing.T) { c.run(t, i) })
			}
		})
	}
}

func writeFile(t *testing.T, i impl, name, data string) {
	t.Helper()
	f, err := i.fs.CreateExcl(i.path(name), 0o644)
	require.NoError(t, err)
	_, err = f.Write([]byte(data))
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func requireNow(t *testing.T, i impl, name string) {
	t.Helper()
	info, err := i.fs.Lstat(name)
	require.NoError(t, err)
	require.WithinDuration(t, i.now(), info.ModTime, i.slack)
}

func requirePathError(t *testing.T, err error, name string) {
	t.Helper()
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, name, pe.Path)
}

func TestDistinctFilesystemsHaveDistinctIDs(t *testing.T) {
	k := clock.NewFake(time.Unix(0, 0))
	a, b := New(k), New(k)
	for _, m := range []*FS{a, b} {
		f, err := m.CreateExcl("/f", 0o600)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	ia, err := a.Lstat("/f")
	require.NoError(t, err)
	ib, err := b.Lstat("/f")
	require.NoError(t, err)
	require.NotEqual(t, ia.ID, ib.ID)
	require.Equal(t, fs.FileMode(0o600), ia.Mode, "no umask")
}

func TestPathsAreCleaned(t *testing.T) {
	m := New(clock.NewFake(time.Unix(0, 0)))
	require.NoError(t, m.MkdirAll("d/e", 0o755))
	f, err := m.CreateExcl("/d/./e/../e/f", 0o644)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	names, err := m.ReadDirNames(filepath.Join("d", "e"))
	require.NoError(t, err)
	require.Equal(t, []string{"f"}, names)
	_, err = m.ReadDirNames("/d/e/f")
	require.ErrorIs(t, err, syscall.ENOTDIR)
	_, err = m.Lstat("")
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorIs(t, m.Remove("/"), syscall.EINVAL)
	require.ErrorIs(t, m.Rename("/d", "/"), syscall.EINVAL)
}

func TestDirectoryLinkCounts(t *testing.T) {
	m := New(clock.NewFake(time.Unix(0, 0)))
	require.NoError(t, m.MkdirAll("/a/b", 0o755))
	require.NoError(t, m.MkdirAll("/a/c", 0o755))
	nlink := func(name string) uint64 {
		t.Helper()
		info, err := m.Lstat(name)
		require.NoError(t, err)
		return info.Nlink
	}
	require.EqualValues(t, 4, nlink("/a"))
	require.NoError(t, m.Rename("/a/c", "/c"))
	require.EqualValues(t, 3, nlink("/a"))
	require.EqualValues(t, 4, nlink("/"))
	require.NoError(t, m.Remove("/a/b"))
	require.EqualValues(t, 2, nlink("/a"))
	require.True(t, errors.Is(m.Remove("/a/b"), fs.ErrNotExist))
}
