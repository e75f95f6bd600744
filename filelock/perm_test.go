//go:build unix

package filelock

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/fsys"
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

// TestLinkClaimLinkedByOtherUser: the attacker (users_test.go), who holds
// the lock with a file of its own, gives the victim's link claim a second
// name while the victim waits: the victim's link fails and its claim's
// link count is 2, and it must not count the lock as taken. In the sticky
// directory the system may refuse the attacker the link
// (fs.protected_hardlinks); the claim of a lock shared with the group may
// be linked by any member.
func TestLinkClaimLinkedByOtherUser(t *testing.T) {
	us := multiUser(t)
	for _, tc := range []struct {
		name   string
		team   bool   // in the team directory, else the sticky shared one
		perm   string // the lock's permission; "" the default
		linked bool   // the attacker's link must succeed
	}{
		{"shared directory", false, "", false},
		{"team directory, group lock", true, "664", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := us.shared
			if tc.team {
				dir = us.team
			}
			name := freshName(t, dir)
			path := name + ".lock"
			require.Equal(t, "planted", us.run(t, us.attacker, "plant",
				"FILELOCK_TEST_PLANT=file", "FILELOCK_TEST_AT="+path, "FILELOCK_TEST_MODE=644"))
			waiter := us.start(t, us.victim, "lockas", "FILELOCK_TEST_LOCK="+path, "FILELOCK_TEST_STRATEGY=link",
				"FILELOCK_TEST_PERM="+tc.perm, "FILELOCK_TEST_UMASK=002", "FILELOCK_TEST_NEVER_STALE=1", "FILELOCK_TEST_PAUSE_CLAIM=1")
			claim, ok := strings.CutPrefix(waiter.line(t), "claim ")
			require.True(t, ok, "the waiter made no claim")
			linked := us.run(t, us.attacker, "plant", "FILELOCK_TEST_PLANT=hardlink", "FILELOCK_TEST_AT="+name+".stolen", "FILELOCK_TEST_TO="+claim)
			t.Logf("the attacker's link of the claim: %s", linked)
			if tc.linked {
				require.Equal(t, "planted", linked)
			}
			waiter.send(t, "go")
			require.Equal(t, "busy", waiter.line(t), "a claim linked elsewhere was counted as the lock")
			waiter.stop(t)
		})
	}
}

// TestModeSetBeforeTheRecord: where a filesystem makes files with a mode
// of its own (here 0666, writable by all, as some FUSE and FAT mounts
// show every file), the lock's files get their permission before anything
// is written into them: a file others may write never holds a record.
func TestModeSetBeforeTheRecord(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			wide := &wideModeFS{written: map[string]fs.FileMode{}}
			path := filepath.Join(t.TempDir(), "x.lock")
			l := newLock(t, path, WithStrategy(s), withFS(wide))
			require.NoError(t, l.TryLock())
			require.NoError(t, l.Unlock())
			wide.mu.Lock()
			defer wide.mu.Unlock()
			require.NotEmpty(t, wide.written, "nothing written")
			for p, mode := range wide.written {
				require.Equal(t, DefaultPerm, mode, "%s written while its mode was %v", filepath.Base(p), mode)
			}
		})
	}
}

// wideModeFS makes every file writable by all, whatever mode is asked, and
// notes the mode of each file at its first write.
type wideModeFS struct {
	fsys.OS
	mu      sync.Mutex
	written map[string]fs.FileMode
}

func (w *wideModeFS) CreateExcl(name string, perm fs.FileMode) (fsys.File, error) {
	f, err := w.OS.CreateExcl(name, perm)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(name, 0o666); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return &modeAtWrite{File: f, fs: w, name: name}, nil
}

type modeAtWrite struct {
	fsys.File
	fs   *wideModeFS
	name string
}

func (f *modeAtWrite) Write(p []byte) (int, error) {
	info, err := f.File.Stat()
	if err != nil {
		return 0, err
	}
	f.fs.mu.Lock()
	if _, ok := f.fs.written[f.name]; !ok {
		f.fs.written[f.name] = info.Mode.Perm()
	}
	f.fs.mu.Unlock()
	return f.File.Write(p)
}

func (f *modeAtWrite) Chmod(mode fs.FileMode) error {
	return f.File.(interface{ Chmod(fs.FileMode) error }).Chmod(mode)
}

// TestMarkerMode: AtomicInit's marker, which other users' AtomicInit
// read, gets exactly WithPerm's mode whatever the umask; a umask of 077
// would make it this user's alone, and their AtomicInit fail on it.
func TestMarkerMode(t *testing.T) {
	withUmask(t, 0o077, func() {
		marker := filepath.Join(t.TempDir(), "init.done")
		ran, err := AtomicInit(marker, func() error { return nil })
		require.NoError(t, err)
		require.True(t, ran)
		info, err := os.Lstat(marker)
		require.NoError(t, err)
		require.Equal(t, DefaultPerm, info.Mode().Perm())
	})
}
