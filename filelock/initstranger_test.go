//go:build unix

package filelock

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/fsys"
)

// A marker found in a directory another user made in a sticky directory
// all users may write (as /tmp) proves nothing: that user may have put it
// there, and the lock would refuse that directory. AtomicInit refuses it
// too, with ErrUnsafeDirectory, before it trusts the marker: fn is never
// skipped on a stranger's word.
func TestAtomicInitMarkerInAStrangersDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a directory to another user (nobody) needs root")
	}
	app := filepath.Join(tempDirMode(t, 0o777|fs.ModeSticky), "app")
	mkdirOwned(t, app, 0o755, nobody)
	marker := filepath.Join(app, "init.done")
	require.NoError(t, os.WriteFile(marker, forgedRecord(t, otherHost()), 0o644))
	require.NoError(t, os.Chown(marker, nobody, nobody))
	ran, err := AtomicInit(marker, func() error { t.Error("fn ran in a refused directory"); return nil })
	require.False(t, ran)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, marker, pe.Path)
	require.ErrorIs(t, err, ErrUnsafeDirectory)
}

// A marker path that is another name of a file holding a record (another
// marker, or a lock file of ours, linked there) proves nothing: fn runs,
// and its marker replaces that name, the other file left as it was.
func TestAtomicInitHardLinkedMarker(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.done")
	record := forgedRecord(t, otherHost())
	require.NoError(t, os.WriteFile(other, record, 0o644))
	marker := filepath.Join(dir, "app.done")
	require.NoError(t, os.Link(other, marker))
	calls := 0
	ran, err := AtomicInit(marker, func() error { calls++; return nil })
	require.NoError(t, err)
	require.True(t, ran)
	require.Equal(t, 1, calls)
	info, err := (fsys.OS{}).Lstat(marker)
	require.NoError(t, err)
	require.Equal(t, uint64(1), info.Nlink, "the marker is a file of its own")
	data, err := os.ReadFile(other)
	require.NoError(t, err)
	require.Equal(t, string(record), string(data), "the other name's content")
}

// Only this user's debris of an initializer is removed before fn runs:
// files whose names merely begin like a temporary marker's, another
// user's file, a file with another name and a directory are left alone.
func TestAtomicInitLeavesOthersFilesOfTemporaryNames(t *testing.T) {
	dir := tempDirMode(t, 0o777|fs.ModeSticky)
	marker := filepath.Join(dir, "app.done")
	debris := tempName(marker, kindTemp)
	kept := []string{marker + ".tmp.backup", marker + ".tmp.b.lock", tempName(marker, kindTemp), tempName(marker, kindTemp)}
	for _, name := range append([]string{debris}, kept[:2]...) {
		require.NoError(t, os.WriteFile(name, nil, 0o644))
	}
	require.NoError(t, os.Link(kept[1], kept[2]))
	require.NoError(t, os.Mkdir(kept[3], 0o755))
	if os.Geteuid() == 0 {
		strangers := tempName(marker, kindTemp)
		require.NoError(t, os.WriteFile(strangers, nil, 0o644))
		require.NoError(t, os.Chown(strangers, nobody, nobody))
		kept = append(kept, strangers)
	}
	ran, err := AtomicInit(marker, func() error { return nil })
	require.NoError(t, err)
	require.True(t, ran)
	require.NoFileExists(t, debris)
	for _, name := range kept {
		_, err := os.Lstat(name)
		require.NoError(t, err, "%s was removed", filepath.Base(name))
	}
}
