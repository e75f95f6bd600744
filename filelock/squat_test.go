//go:build unix

package filelock

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSquattedDirectoryRule: a lock's directory that another user owns, or
// that stands in one another user owns, in a sticky directory all users may
// write (as /tmp), may have been made there by anyone first, whose owner
// could move the lock file away while it is held: it is refused with
// ErrUnsafeDirectory, under every strategy, and nothing is made in it; so
// is one reached through another user's symbolic link there. A
// directory of another user inside one of this user's that others may not
// write is trusted, as a team's is, and so is everything with
// WithDirectoryWritableByAll.
func TestSquattedDirectoryRule(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving directories to another user (nobody) needs root")
	}
	for _, tc := range []struct {
		name       string
		make       func(t *testing.T, shared string) string // returns the lock's directory
		createDirs bool                                     // the lock is in a directory created below it
		openDir    bool
		safe       bool
	}{
		{"another user's directory", func(t *testing.T, s string) string {
			mkdirOwned(t, s+"/app", 0o755, nobody)
			return s + "/app"
		}, false, false, false},
		{"another user's sticky directory", func(t *testing.T, s string) string {
			mkdirOwned(t, s+"/app", 0o777|fs.ModeSticky, nobody)
			return s + "/app"
		}, false, false, false},
		{"this user's directory in another user's", func(t *testing.T, s string) string {
			mkdirOwned(t, s+"/app", 0o755, nobody)
			mkdirOwned(t, s+"/app/sub", 0o755, 0)
			return s + "/app/sub"
		}, false, false, false},
		{"another user's directory, created through", func(t *testing.T, s string) string {
			mkdirOwned(t, s+"/app", 0o777|fs.ModeSticky, nobody)
			return s + "/app"
		}, true, false, false},
		{"this user's link to another user's directory", func(t *testing.T, s string) string {
			mkdirOwned(t, s+"/app", 0o777|fs.ModeSticky, nobody)
			link := filepath.Join(t.TempDir(), "link")
			require.NoError(t, os.Symlink(s+"/app", link))
			return link
		}, false, false, false},
		{"another user's link on the way", func(t *testing.T, s string) string {
			target := filepath.Join(t.TempDir(), "d")
			mkdirOwned(t, target, 0o755, 0)
			mkdirOwned(t, target+"/locks", 0o755, 0)
			require.NoError(t, os.Symlink(target, s+"/app"))
			require.NoError(t, os.Lchown(s+"/app", nobody, nobody))
			return s + "/app/locks"
		}, false, false, false},
		{"this user's link on the way", func(t *testing.T, s string) string {
			target := filepath.Join(t.TempDir(), "d")
			mkdirOwned(t, target, 0o755, 0)
			mkdirOwned(t, target+"/locks", 0o755, 0)
			require.NoError(t, os.Symlink(target, s+"/app"))
			return s + "/app/locks"
		}, false, false, true},
		{"another user's directory, everyone trusted", func(t *testing.T, s string) string {
			mkdirOwned(t, s+"/app", 0o777|fs.ModeSticky, nobody)
			return s + "/app"
		}, false, true, true},
		{"this user's directory", func(t *testing.T, s string) string {
			mkdirOwned(t, s+"/app", 0o755, 0)
			return s + "/app"
		}, false, false, true},
		{"another user's directory in this user's private one", func(t *testing.T, s string) string {
			mkdirOwned(t, s+"/mine", 0o755, 0)
			mkdirOwned(t, s+"/mine/app", 0o777|fs.ModeSticky, nobody)
			return s + "/mine/app"
		}, false, false, true},
		{"the sticky directory itself", func(t *testing.T, s string) string { return s }, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachStrategy(t, func(t *testing.T, s Strategy) {
				made := tc.make(t, tempDirMode(t, 0o777|fs.ModeSticky))
				lockDir := made
				if tc.createDirs {
					lockDir = filepath.Join(made, "sub")
				}
				path := filepath.Join(lockDir, "x.lock")
				opts := []Option{WithStrategy(s)}
				if tc.createDirs {
					opts = append(opts, WithCreateDirs(0o755))
				}
				if tc.openDir {
					opts = append(opts, WithDirectoryWritableByAll())
				}
				requireSafe(t, newLock(t, path, opts...), path, tc.safe)
				if !tc.safe {
					require.Equal(t, "", dirEntries(t, made), "nothing made")
				}
			})
		})
	}
}

// TestSquattedDirectoryMadeAgain: a lock's directory found safe, then
// removed and made again at its path by another user (who, on most
// filesystems, gets the same inode number back), is judged again and
// refused: the verdict remembered is the first directory's.
func TestSquattedDirectoryMadeAgain(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving directories to another user (nobody) needs root")
	}
	app := filepath.Join(tempDirMode(t, 0o777|fs.ModeSticky), "app")
	path := filepath.Join(app, "x.lock")
	mkdirMode(t, app, 0o755)
	first, err := os.Stat(app)
	require.NoError(t, err)
	requireSafe(t, newLock(t, path, WithStrategy(Soft)), path, true)
	require.NoError(t, os.Remove(app))

	mkdirOwned(t, app, 0o755, nobody)
	again, err := os.Stat(app)
	require.NoError(t, err)
	t.Logf("the same inode number again: %v", os.SameFile(first, again))
	requireSafe(t, newLock(t, path, WithStrategy(Soft)), path, false)
}

// TestSquattedDirectorySwappedWhileJudged: a lock's directory replaced
// while its way was judged (here by a directory of another user, moved in
// place of this user's between the walk and the use) is refused, and no
// verdict is remembered for it.
func TestSquattedDirectorySwappedWhileJudged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving directories to another user (nobody) needs root")
	}
	shared := tempDirMode(t, 0o777|fs.ModeSticky)
	app, other := filepath.Join(shared, "app"), filepath.Join(shared, "other")
	mkdirMode(t, app, 0o755)
	mkdirOwned(t, other, 0o755, nobody)
	swapped := false
	squatWalkedHook = func(string) {
		if !swapped {
			swapped = true
			require.NoError(t, os.Rename(app, app+".gone"))
			require.NoError(t, os.Rename(other, app))
		}
	}
	t.Cleanup(func() { squatWalkedHook = nil })
	path := filepath.Join(app, "x.lock")
	l := newLock(t, path, WithStrategy(Soft))
	err := l.TryLock()
	require.ErrorIs(t, err, ErrUnsafeDirectory)
	require.Contains(t, err.Error(), "changed while it was judged")
	requireSafe(t, l, path, false) // the other user's, judged afresh
}
