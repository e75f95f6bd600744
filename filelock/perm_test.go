//go:build unix

package filelock

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// withUmask runs f with the process's umask set to mask.
func withUmask(t *testing.T, mask int, f func()) {
	t.Helper()
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	f()
}

// Every file a lock makes has exactly its permission: never writable by
// group or others unless chosen, whatever the umask.
func TestCreatedFileModes(t *testing.T) {
	cases := []struct {
		name  string
		umask int
		opts  []Option
		want  fs.FileMode
	}{
		{"umask 0", 0, nil, 0o644},
		{"umask 002", 0o002, nil, 0o644},
		{"umask 077", 0o077, nil, 0o644},
		{"group writable, umask 022", 0o022, []Option{WithPerm(0o664)}, 0o664},
		{"private, umask 0", 0, []Option{WithPerm(0o600)}, 0o600},
	}
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "x.lock")
				modes := map[string]fs.FileMode{}
				createdHook = func(p string) {
					info, err := os.Lstat(p)
					require.NoError(t, err)
					modes[p] = info.Mode().Perm()
				}
				defer func() { createdHook = nil }()
				withUmask(t, tc.umask, func() {
					l := newLock(t, path, append([]Option{WithStrategy(s)}, tc.opts...)...)
					require.NoError(t, lockWithin(l))
					info, err := os.Lstat(path)
					require.NoError(t, err)
					require.Equal(t, tc.want, info.Mode().Perm(), "lock file")
					require.NoError(t, l.Unlock())
				})
				if s.fileBased() {
					require.NotEmpty(t, modes, "files made exclusively")
				}
				for p, mode := range modes {
					require.Equal(t, tc.want, mode, "%s", filepath.Base(p))
				}
			})
		}
	})
}

func TestPermOthersWritableRejected(t *testing.T) {
	for _, perm := range []fs.FileMode{0o666, 0o662, 0o602} {
		_, err := New(filepath.Join(t.TempDir(), "x.lock"), WithPerm(perm))
		require.ErrorIs(t, err, ErrInvalidOption, "%v", perm)
	}
}

// A Link waiter whose link fails counts the lock as taken only if the lock
// path names its claim's file: another name given to the claim (by anyone
// who can see it) raises its link count to 2 as well.
func TestLinkClaimLinkedElsewhere(t *testing.T) {
	cases := []struct {
		name   string
		linkTo func(path string) string // the claim's other name
		taken  bool
	}{
		{"another name", func(path string) string { return filepath.Join(filepath.Dir(path), "stolen") }, false},
		{"the lock path (a lost reply)", func(path string) string { return path }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			if !tc.taken {
				// Another program's lock, never stale: held for good.
				require.NoError(t, os.WriteFile(path, nil, 0o644))
			}
			createdHook = func(p string) {
				if strings.Contains(filepath.Base(p), ".claim.") {
					require.NoError(t, os.Link(p, tc.linkTo(path)))
				}
			}
			defer func() { createdHook = nil }()
			l := newLock(t, path, WithStrategy(Link), WithStaleAfter(0))
			err := l.TryLock()
			if !tc.taken {
				require.ErrorIs(t, err, ErrWouldBlock)
				return
			}
			require.NoError(t, err)
			require.NoError(t, l.Unlock())
		})
	}
}
