//go:build unix

package fsys

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDirEntries: the operations of a Dir, through a descriptor and by
// path, on the entries of the directory: exclusive creation, reading,
// describing, touching and removing, never following a symbolic link, with
// errors naming the directory's path joined with the name.
func TestDirEntries(t *testing.T) {
	for what, open := range map[string]func(string) (Dir, error){
		"descriptor": OS{}.OpenDir,
		"path":       func(name string) (Dir, error) { return PathDir(OS{}, name), nil },
	} {
		t.Run(what, func(t *testing.T) {
			dir := t.TempDir()
			d, err := open(dir)
			require.NoError(t, err)
			defer d.Close()
			require.Equal(t, dir, d.Name())
			info, err := d.Stat()
			require.NoError(t, err)
			require.True(t, info.Mode.IsDir())

			f, err := d.CreateExcl("f", 0o600)
			require.NoError(t, err)
			_, err = f.Write([]byte("hello"))
			require.NoError(t, err)
			require.NoError(t, f.Close())
			_, err = d.CreateExcl("f", 0o600)
			require.ErrorIs(t, err, fs.ErrExist)
			data, rinfo, err := ReadAllIn(d, "f", 10)
			require.NoError(t, err)
			require.Equal(t, "hello", string(data))
			require.EqualValues(t, 0o600, rinfo.Mode.Perm())

			target := filepath.Join(t.TempDir(), "target")
			require.NoError(t, os.WriteFile(target, nil, 0o644))
			require.NoError(t, os.Symlink(target, filepath.Join(dir, "link")))
			_, err = d.CreateExcl("link", 0o600)
			require.ErrorIs(t, err, fs.ErrExist)
			_, err = d.OpenRead("link")
			require.True(t, errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK), "%v", err)
			linfo, err := d.Lstat("link")
			require.NoError(t, err)
			require.NotZero(t, linfo.Mode&fs.ModeSymlink)

			old := time.Unix(1e9, 0)
			require.NoError(t, os.Chtimes(target, old, old))
			require.NoError(t, d.Touch("link"))
			tinfo, err := os.Stat(target)
			require.NoError(t, err)
			require.True(t, tinfo.ModTime().Equal(old), "the link's target is not touched")
			require.NoError(t, os.Chtimes(filepath.Join(dir, "f"), old, old))
			require.NoError(t, d.Touch("f"))
			finfo, err := d.Lstat("f")
			require.NoError(t, err)
			require.WithinDuration(t, time.Now(), finfo.ModTime, time.Minute)

			require.NoError(t, d.Remove("link"))
			require.FileExists(t, target)
			require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
			require.NoError(t, d.Remove("sub"))
			require.NoError(t, d.Remove("f"))
			err = d.Remove("f")
			require.ErrorIs(t, err, fs.ErrNotExist)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, filepath.Join(dir, "f"), pe.Path)
			_, err = d.Lstat("missing")
			require.ErrorIs(t, err, fs.ErrNotExist)
			require.ErrorContains(t, err, filepath.Join(dir, "missing"))
			require.Equal(t, "", names(t, d))
		})
	}
}

// TestDirStaysTheDirectoryOpened: the directory moved aside and a
// symbolic link to another put in its place, its open Dir still works in
// it and in nothing else, and describes it.
func TestDirStaysTheDirectoryOpened(t *testing.T) {
	parent, other := t.TempDir(), t.TempDir()
	dir := filepath.Join(parent, "q")
	require.NoError(t, os.Mkdir(dir, 0o755))
	d, err := OS{}.OpenDir(dir)
	require.NoError(t, err)
	defer d.Close()
	aside := filepath.Join(parent, "aside")
	require.NoError(t, os.Rename(dir, aside))
	require.NoError(t, os.Symlink(other, dir))

	f, err := d.CreateExcl("t", 0o644)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.FileExists(t, filepath.Join(aside, "t"))
	require.NoError(t, os.WriteFile(filepath.Join(other, "u"), nil, 0o644))
	require.Equal(t, "t", names(t, d))
	require.NoError(t, d.Touch("t"))
	_, err = d.Lstat("u")
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorIs(t, d.Remove("u"), fs.ErrNotExist)
	require.FileExists(t, filepath.Join(other, "u"))
	require.NoError(t, d.Remove("t"))
	require.NoFileExists(t, filepath.Join(aside, "t"))

	info, err := d.Stat()
	require.NoError(t, err)
	want, err := OS{}.Lstat(aside)
	require.NoError(t, err)
	require.Equal(t, want.ID, info.ID)
	require.NoError(t, d.Close())
	require.ErrorIs(t, d.Close(), fs.ErrClosed)
}

// TestOpenDirRefuses: a symbolic link to a directory, a file or nothing at
// the name is an error naming it, and no descriptor is made.
func TestOpenDirRefuses(t *testing.T) {
	parent := t.TempDir()
	link, file, missing := filepath.Join(parent, "link"), filepath.Join(parent, "file"), filepath.Join(parent, "missing")
	require.NoError(t, os.Symlink(t.TempDir(), link))
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := OS{}.OpenDir(link)
	require.True(t, errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK), "%v", err)
	require.ErrorContains(t, err, link)
	_, err = OS{}.OpenDir(file)
	require.ErrorIs(t, err, syscall.ENOTDIR)
	_, err = OS{}.OpenDir(missing)
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = OpenDir(OS{}, missing)
	require.ErrorIs(t, err, fs.ErrNotExist)
	d, err := OpenDir(struct{ FS }{OS{}}, link)
	require.NoError(t, err, "by path, only Lstat can fail")
	require.NoError(t, d.Close())
}

// names lists d, sorted, joined with commas.
func names(t *testing.T, d Dir) string {
	t.Helper()
	var got []string
	require.NoError(t, d.Scan(func(name []byte) { got = append(got, string(name)) }))
	slices.Sort(got)
	return strings.Join(got, ",")
}
