//go:build unix

package filelock

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// nobody is the unprivileged user that stands for another user.
const nobody = 65534

// TestParentDirectoryRule: a symbolic link of another user on the way to a
// lock whose directories are to be created, or in place of the lock's
// directory, and a lock directory that another user owns and everyone may
// write without the sticky bit, are refused with ErrUnsafeDirectory and
// nothing is made; this user's links and a sticky directory are fine.
func TestParentDirectoryRule(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving files to another user (nobody) needs root")
	}
	link := func(owner int) func(t *testing.T, dir, elsewhere string) string {
		return func(t *testing.T, dir, elsewhere string) string {
			l := filepath.Join(dir, "link")
			require.NoError(t, os.Symlink(elsewhere, l))
			require.NoError(t, os.Lchown(l, owner, owner))
			return l
		}
	}
	shared := func(mode fs.FileMode) func(t *testing.T, dir, _ string) string {
		return func(t *testing.T, dir, _ string) string {
			d := filepath.Join(dir, "shared")
			mkdirMode(t, d, mode)
			require.NoError(t, os.Chown(d, nobody, nobody))
			return d
		}
	}
	for _, tc := range []struct {
		name       string
		make       func(t *testing.T, dir, elsewhere string) string // returns the lock's directory, or the link to create below
		createDirs bool
		below      bool // the lock is in a directory created below what make returns
		dotdot     bool // the lock is named through what make returns and ".."
		safe       bool
	}{
		{"another user's link, created through", link(nobody), true, true, false, false},
		{"another user's link as the directory", link(nobody), false, false, false, false},
		{"another user's link, then ..", link(nobody), false, false, true, false},
		{"own link, then ..", link(0), false, false, true, true},
		{"another user's link as the directory, creating", link(nobody), true, false, false, false},
		{"own link, created through", link(0), true, true, false, true},
		{"another user's directory writable by all", shared(0o777), false, false, false, false},
		{"another user's sticky directory writable by all", shared(0o777 | fs.ModeSticky), false, false, false, true},
		{"another user's directory", shared(0o755), false, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachStrategy(t, func(t *testing.T, s Strategy) {
				dir, elsewhere := t.TempDir(), t.TempDir()
				lockDir := tc.make(t, dir, elsewhere)
				if tc.below {
					lockDir = filepath.Join(lockDir, "sub")
				}
				path := filepath.Join(lockDir, "x.lock")
				if tc.dotdot {
					path = lockDir + "/../x.lock"
				}
				opts := []Option{WithStrategy(s)}
				if tc.createDirs {
					opts = append(opts, WithCreateDirs(0o755))
				}
				l := newLock(t, path, opts...)
				err := l.TryLock()
				if tc.safe {
					require.NoError(t, err)
					require.NoError(t, l.Unlock())
					return
				}
				require.ErrorIs(t, err, ErrUnsafeDirectory)
				var pe *fs.PathError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, path, pe.Path)
				require.Equal(t, "", dirEntries(t, elsewhere), "nothing made through the link")
			})
		})
	}
}
