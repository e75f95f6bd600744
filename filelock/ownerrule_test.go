//go:build unix

package filelock

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOSLockFileOwnerRule: an os or ofd lock file that another user owns
// in a sticky directory all users may write is refused with
// ErrUnsafeDirectory, by TryLock and Lock alike, and left as it is: its
// owner, who may be anyone there, could remove it while it is held and let
// a second process take the lock. It is taken where only trusted users
// could remove it: this user's (root's) file, the directory owner's, one
// in a directory that only its owner or its group may write, or with
// WithDirectoryWritableByAll.
func TestOSLockFileOwnerRule(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving the lock file to another user (nobody) needs root")
	}
	for _, tc := range []struct {
		name      string
		dirMode   fs.FileMode
		dirOwner  int // -1: this user
		fileOwner int // -1: this user
		openDir   bool
		safe      bool
	}{
		{"another user's, in a sticky directory all may write", 0o777 | fs.ModeSticky, -1, 65534, false, false},
		{"this user's (root's), in another user's sticky directory all may write", 0o777 | fs.ModeSticky, 65534, -1, false, true},
		{"the directory owner's", 0o777 | fs.ModeSticky, 65534, 65534, false, true},
		{"another user's, with WithDirectoryWritableByAll", 0o777 | fs.ModeSticky, -1, 65534, true, true},
		{"another user's, in a directory only its owner may write", 0o755, -1, 65534, false, true},
		{"another user's, in a sticky directory its group may write", 0o775 | fs.ModeSticky, -1, 65534, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
				// In a private directory of this user's, where no one else
				// could have made it (TestSquattedDirectoryRule).
				dir := filepath.Join(t.TempDir(), "d")
				if tc.dirOwner >= 0 {
					mkdirOwned(t, dir, tc.dirMode, tc.dirOwner)
				} else {
					mkdirMode(t, dir, tc.dirMode)
				}
				path := filepath.Join(dir, "x.lock")
				require.NoError(t, os.WriteFile(path, nil, 0o666))
				if tc.fileOwner >= 0 {
					require.NoError(t, os.Chown(path, tc.fileOwner, tc.fileOwner))
				}
				opts := []Option{WithStrategy(s)}
				if tc.openDir {
					opts = append(opts, WithDirectoryWritableByAll())
				}
				l := newLock(t, path, opts...)
				lockNoDeadline := func() error {
					done := make(chan error, 1)
					go func() { done <- l.Lock() }()
					return recv(t, done)
				}
				for name, acquire := range map[string]func() error{"TryLock": l.TryLock, "LockContext": func() error { return lockWithin(l) }, "Lock": lockNoDeadline} {
					if err := acquire(); !takenOrUnsafe(t, l, path, name, err, tc.safe) {
						require.Contains(t, err.Error(), "user 65534's", name)
						require.Equal(t, 1, strings.Count(err.Error(), path), "the path named once: %v", err)
					}
				}
				if !tc.safe {
					ran, err := AtomicInit(filepath.Join(dir, "x"), func() error { return errors.New("fn ran") }, opts...)
					require.False(t, ran)
					require.ErrorIs(t, err, ErrUnsafeDirectory, "AtomicInit, whose lock file is x.lock")
				}
				require.Equal(t, "x.lock", dirEntries(t, dir), "the lock file left alone, and nothing made beside it")
				data, err := os.ReadFile(path)
				require.NoError(t, err)
				require.Empty(t, data, "the lock file's content")
			})
		})
	}
}

// TestOSLockFilePlantedByOtherUser: the attacker (users_test.go), who
// never takes the lock, makes the os or ofd lock file before the victim's
// first acquisition. In the sticky directory all users may write, the
// attacker could remove it while the victim holds it and let a second
// process in: the victim refuses it with ErrUnsafeDirectory. In the
// team's directory, which only the team may write and whose members may
// remove each other's files anyway, the victim takes it. (An exclusive
// ofd lock of a file the victim may only read is refused before the file
// is judged: it needs a descriptor open for writing.)
func TestOSLockFilePlantedByOtherUser(t *testing.T) {
	us := multiUser(t)
	for _, tc := range []struct {
		name string
		team bool     // in the team directory, else the sticky shared one
		mode string   // of the file planted; "" nothing planted
		want []string // and, last, for an ofd lock of a file the victim may only read
	}{
		{"nothing planted", false, "", []string{"taken"}},
		{"attacker's file", false, "644", []string{"unsafe", "denied"}},
		{"attacker's file writable by all", false, "666", []string{"unsafe"}},
		{"attacker's file in the team's directory", true, "664", []string{"taken"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
				dir := us.shared
				if tc.team {
					dir = us.team
				}
				path := freshName(t, dir) + ".lock"
				t.Cleanup(func() { os.Remove(path) })
				if tc.mode != "" {
					require.Equal(t, "planted", us.run(t, us.attacker, "plant", "FILELOCK_TEST_PLANT=file",
						"FILELOCK_TEST_AT="+path, "FILELOCK_TEST_MODE="+tc.mode))
					require.NoError(t, os.Chmod(path, octalMode(tc.mode))) // whatever the attacker's umask
				}
				want := tc.want[0]
				if s == OFD && tc.mode != "" && !us.victimMayWrite(t, path) {
					want = tc.want[len(tc.want)-1]
				}
				for _, blocking := range []string{"", "1"} {
					got := us.run(t, us.victim, "lockas", "FILELOCK_TEST_LOCK="+path, "FILELOCK_TEST_STRATEGY="+s.String(),
						"FILELOCK_TEST_PERM=664", "FILELOCK_TEST_BLOCKING="+blocking)
					require.Equal(t, want, got, "blocking %q", blocking)
				}
			})
		})
	}
}
