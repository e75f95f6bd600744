//go:build unix

package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
	"github.com/stretchr/testify/require"
)

// nobody is the unprivileged user that stands for another user.
const nobody = 65534

// TestParentDirectoryRule: a symbolic link of another user on the way to a
// lock whose directories are to be created, or in place of the lock's
// directory, and a lock directory that another user owns and everyone may
// write without the sticky bit, are refused with ErrUnsafeDirectory and
// nothing is made; this user's links and a sticky directory are fine.
// (TestLockDirectoryWritableByAll: the same for this user's own.)
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
		{"own link as the directory", link(0), false, false, false, true},
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
				requireSafe(t, newLock(t, path, opts...), path, tc.safe)
				if !tc.safe {
					require.Equal(t, "", dirEntries(t, elsewhere), "nothing made through the link")
				}
			})
		})
	}
}

// TestParentDirectoryOfOtherUser: the attacker (users_test.go) makes what
// stands for the victim's lock directory: a symbolic link to a directory
// of the victim's, as the directory or on the way to one to be created,
// or a directory of its own in the sticky directory all users may write,
// whose owner could move the lock file away (any mode: a sticky one
// keeps others out, never its owner); or the victim makes a directory of
// its own writable by all, where the attacker could remove its lock file.
// The victim refuses each with ErrUnsafeDirectory and makes nothing
// through the link or in the attacker's directory; its own sticky
// directory is fine. (In the team directory, which only the team may
// write, a member's directory is trusted as the team is:
// TestParentDirectoryRule.)
func TestParentDirectoryOfOtherUser(t *testing.T) {
	us := multiUser(t)
	for _, tc := range []struct {
		name       string
		team       bool   // in the team directory, else the sticky shared one
		byVictim   bool   // the victim plants, else the attacker
		plant      string // what is planted: "symlink" or "dir"
		mode       string // the mode of a directory planted
		createDirs bool   // the lock is in a directory created below it
		want       string
	}{
		{"attacker's link as the directory", true, false, "symlink", "", false, "unsafe"},
		{"attacker's link, created through", false, false, "symlink", "", true, "unsafe"},
		{"attacker's directory writable by all", false, false, "dir", "777", false, "unsafe"},
		{"attacker's directory writable by all, created through", false, false, "dir", "777", true, "unsafe"},
		{"attacker's sticky directory writable by all", false, false, "dir", "1777", false, "unsafe"},
		{"attacker's sticky directory writable by all, created through", false, false, "dir", "1777", true, "unsafe"},
		{"attacker's directory", false, false, "dir", "755", false, "unsafe"},
		{"victim's own directory writable by all", false, true, "dir", "777", false, "unsafe"},
		{"victim's own sticky directory writable by all", false, true, "dir", "1777", false, "taken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := us.shared
			if tc.team {
				dir = us.team
			}
			name := freshName(t, dir)
			planted, elsewhere := name+".d", name+".elsewhere"
			us.victimDir(t, elsewhere)
			planter := us.attacker
			if tc.byVictim {
				planter = us.victim
			}
			require.Equal(t, "planted", us.run(t, planter, "plant", "FILELOCK_TEST_PLANT="+tc.plant,
				"FILELOCK_TEST_AT="+planted, "FILELOCK_TEST_TO="+elsewhere, "FILELOCK_TEST_MODE="+tc.mode))
			lockDir, createDirs := planted, ""
			if tc.createDirs {
				lockDir, createDirs = filepath.Join(planted, "sub"), "1"
			}
			for _, s := range Strategies() {
				// A lock file of its own per strategy: os and ofd leave theirs.
				path := filepath.Join(lockDir, s.String()+".lock")
				got := us.run(t, us.victim, "lockas", "FILELOCK_TEST_LOCK="+path, "FILELOCK_TEST_STRATEGY="+s.String(),
					"FILELOCK_TEST_CREATE_DIRS="+createDirs)
				require.Equal(t, tc.want, got, "%v", s)
			}
			require.Equal(t, "", dirEntries(t, elsewhere), "nothing made through the link")
			if tc.want == "unsafe" && tc.plant == "dir" {
				require.Equal(t, "", dirEntries(t, planted), "nothing made in the directory")
			}
		})
	}
}

// TestLockDirectoryWritableByAll: a lock directory that all users may
// write without the sticky bit is refused whoever owns it (here this
// user), before anything is made in it, unless WithDirectoryWritableByAll;
// a sticky one, or one only its group may write, is fine.
func TestLockDirectoryWritableByAll(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mode     fs.FileMode
		accepted bool // WithDirectoryWritableByAll
		safe     bool
	}{
		{"writable by all", 0o777, false, false},
		{"writable by all, accepted", 0o777, true, true},
		{"writable by all, sticky", 0o777 | fs.ModeSticky, false, true},
		{"writable by its group", 0o775, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachStrategy(t, func(t *testing.T, s Strategy) {
				dir := filepath.Join(t.TempDir(), "d")
				mkdirMode(t, dir, tc.mode)
				path := filepath.Join(dir, "x.lock")
				opts := []Option{WithStrategy(s)}
				if tc.accepted {
					opts = append(opts, WithDirectoryWritableByAll())
				}
				requireSafe(t, newLock(t, path, opts...), path, tc.safe)
				if !tc.safe {
					require.Equal(t, "", dirEntries(t, dir), "nothing made in the directory")
				}
			})
		})
	}
}

// TestCreatedDirectoriesNotWritableByAll: WithCreateDirs asked for
// directories all users may write, where no umask takes that write away
// (noUmaskFS), makes them without it, and so takes the lock; it refuses to
// make them in a directory that all users may write without the sticky
// bit (anyone could move them aside and make their own), reached directly
// or through this user's own link, unless WithDirectoryWritableByAll, and
// then makes nothing; and it refuses what another user made writable by
// all in between (racingFS). With nothing to make it judges only the
// lock's directory, as without the option.
func TestCreatedDirectoriesNotWritableByAll(t *testing.T) {
	open := func(mode fs.FileMode) func(t *testing.T, tmp string) string {
		return func(t *testing.T, tmp string) string {
			d := filepath.Join(tmp, "base")
			mkdirMode(t, d, mode)
			return d
		}
	}
	linkTo := func(target func(t *testing.T, tmp string) string) func(t *testing.T, tmp string) string {
		return func(t *testing.T, tmp string) string {
			l := filepath.Join(tmp, "link")
			require.NoError(t, os.Symlink(target(t, tmp), l))
			return l
		}
	}
	for _, tc := range []struct {
		name     string
		base     func(t *testing.T, tmp string) string // the directory in which a/b is made
		fsy      fsys.FS
		accepted bool // WithDirectoryWritableByAll
		safe     bool
	}{
		{"in a private directory", open(0o755), noUmaskFS{}, false, true},
		{"in a directory writable by all", open(0o777), noUmaskFS{}, false, false},
		{"in a directory writable by all, accepted", open(0o777), noUmaskFS{}, true, true},
		{"in a sticky directory writable by all", open(0o777 | fs.ModeSticky), noUmaskFS{}, false, true},
		{"through own link to a directory writable by all", linkTo(open(0o777)), noUmaskFS{}, false, false},
		{"through own link to a private directory", linkTo(open(0o755)), noUmaskFS{}, false, true},
		{"nothing to make, below a directory writable by all", func(t *testing.T, tmp string) string {
			d := open(0o777)(t, tmp)
			require.NoError(t, os.MkdirAll(filepath.Join(d, "a", "b"), 0o755))
			return d
		}, noUmaskFS{}, false, true},
		{"a step made writable by all in between", open(0o755), racingFS{}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachStrategy(t, func(t *testing.T, s Strategy) {
				base := tc.base(t, t.TempDir())
				path := filepath.Join(base, "a", "b", "x.lock")
				_, err := os.Stat(filepath.Dir(path))
				existed := err == nil
				opts := []Option{WithStrategy(s), WithCreateDirs(0o777), withFS(tc.fsy)}
				if tc.accepted {
					opts = append(opts, WithDirectoryWritableByAll())
				}
				requireSafe(t, newLock(t, path, opts...), path, tc.safe)
				if !tc.safe {
					if _, racing := tc.fsy.(racingFS); !racing {
						require.Equal(t, "", dirEntries(t, base), "nothing made")
					}
					return
				}
				for _, d := range []string{"a", "a/b"} {
					info, err := os.Stat(filepath.Join(base, d))
					require.NoError(t, err)
					if !existed {
						require.Equal(t, fs.FileMode(0o775), info.Mode().Perm(), d)
					}
				}
			})
		})
	}
}

// racingFS is noUmaskFS where another user makes the first missing
// directory writable by all just before MkdirAll makes the rest.
type racingFS struct{ noUmaskFS }

func (r racingFS) MkdirAll(name string, perm fs.FileMode) error {
	first := firstMissing(name)
	if err := (noUmaskFS{}).MkdirAll(first, 0o777); err != nil {
		return err
	}
	return r.noUmaskFS.MkdirAll(name, perm)
}

// TestCreatedDirectoryLinkedInBetween: another user who puts a symbolic
// link of theirs where WithCreateDirs is about to make a directory (which
// MkdirAll then follows, making the rest in the link's target) is caught
// by the judgement of the steps made, at the first acquisition, also where
// WithDirectoryWritableByAll leaves the link rule alone to catch it. As
// root, to give the link to another user.
func TestCreatedDirectoryLinkedInBetween(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give the link to another user")
	}
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		for _, accepted := range []bool{false, true} {
			tmp := t.TempDir()
			base, target := filepath.Join(tmp, "base"), filepath.Join(tmp, "target")
			mkdirMode(t, base, 0o755)
			mkdirMode(t, target, 0o755)
			require.NoError(t, os.Chown(target, nobody, nobody))
			path := filepath.Join(base, "a", "b", "x.lock")
			opts := []Option{WithStrategy(s), WithCreateDirs(0o755), withFS(linkingFS{target: target})}
			if accepted {
				opts = append(opts, WithDirectoryWritableByAll())
			}
			requireSafe(t, newLock(t, path, opts...), path, false)
		}
	})
}

// firstMissing returns the first directory of name's way that does not
// exist, name itself if its parent does.
func firstMissing(name string) string {
	for {
		if _, err := os.Lstat(filepath.Dir(name)); err == nil {
			return name
		}
		name = filepath.Dir(name)
	}
}

// linkingFS is fsys.OS where another user puts a symbolic link of theirs
// to target in place of the first missing directory, just before
// MkdirAll makes the rest.
type linkingFS struct {
	fsys.OS
	target string
}

func (f linkingFS) MkdirAll(name string, perm fs.FileMode) error {
	first := firstMissing(name)
	if err := os.Symlink(f.target, first); err != nil {
		return err
	}
	if err := os.Lchown(first, nobody, nobody); err != nil {
		return err
	}
	return f.OS.MkdirAll(name, perm)
}

// TestFairQueueWritableByAllAccepted: WithDirectoryWritableByAll accepts a
// fair queue that shows write for all, as every directory of an SMB or FAT
// mount does; without it the queue is refused.
func TestFairQueueWritableByAllAccepted(t *testing.T) {
	for _, accepted := range []bool{false, true} {
		t.Run(fmt.Sprintf("accepted=%v", accepted), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			mkdirMode(t, path+queueSuffix, 0o777)
			opts := []Option{WithFair()}
			if accepted {
				opts = append(opts, WithDirectoryWritableByAll())
			}
			requireSafe(t, newLock(t, path, opts...), path, accepted)
		})
	}
}

// requireSafe takes and releases l, whose lock file is path, if safe, and
// otherwise requires TryLock to fail with ErrUnsafeDirectory naming path.
func requireSafe(t *testing.T, l *Lock, path string, safe bool) {
	t.Helper()
	err := l.TryLock()
	if safe {
		require.NoError(t, err)
		require.NoError(t, l.Unlock())
		return
	}
	requireLockPathError(t, err, path, ErrUnsafeDirectory)
}

// noUmaskFS makes directories with exactly the permission asked for, as
// under a umask of 0.
type noUmaskFS struct{ fsys.OS }

func (noUmaskFS) MkdirAll(name string, perm fs.FileMode) error {
	if _, err := os.Lstat(name); err == nil {
		return nil
	}
	if err := (noUmaskFS{}).MkdirAll(filepath.Dir(name), perm); err != nil {
		return err
	}
	if err := os.Mkdir(name, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(name, perm)
}

// TestAtomicInitMarkerOfAnotherUser: in a directory all users may write
// (sticky, as /tmp), another user's file at the marker path, a record or
// not, could be forged and cannot be replaced: AtomicInit fails with
// ErrUnsafeDirectory before fn runs, and leaves it. This user's marker
// counts there, and so does another user's in a directory that only its
// users may write (a team's). A directory that the lock's rules refuse
// (writable by all without the sticky bit) is refused before the marker
// is looked at.
func TestAtomicInitMarkerOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving files to another user (nobody) needs root")
	}
	for _, tc := range []struct {
		name    string
		dirMode fs.FileMode
		owner   int
		data    func(t *testing.T) []byte
		want    error // nil: the marker counts
		opts    []Option
	}{
		{"forged marker, sticky directory", 0o777 | fs.ModeSticky, nobody, func(t *testing.T) []byte { return forgedRecord(t, proc.Self()) }, ErrUnsafeDirectory, nil},
		{"another user's file, sticky directory", 0o777 | fs.ModeSticky, nobody, func(*testing.T) []byte { return []byte("12345\n") }, ErrUnsafeDirectory, nil},
		{"this user's marker, sticky directory", 0o777 | fs.ModeSticky, os.Geteuid(), func(t *testing.T) []byte { return forgedRecord(t, proc.Self()) }, nil, nil},
		{"another user's marker, a team's directory", 0o775, nobody, func(t *testing.T) []byte { return forgedRecord(t, proc.Self()) }, nil, nil},
		{"this user's marker, writable by all without the sticky bit", 0o777, os.Geteuid(), func(t *testing.T) []byte { return forgedRecord(t, proc.Self()) }, ErrUnsafeDirectory, nil},
		{"another user's marker, sticky, everyone trusted", 0o777 | fs.ModeSticky, nobody, func(t *testing.T) []byte { return forgedRecord(t, proc.Self()) }, nil, []Option{WithDirectoryWritableByAll()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shared")
			mkdirMode(t, dir, tc.dirMode)
			marker := filepath.Join(dir, "app.initdone")
			data := tc.data(t)
			require.NoError(t, os.WriteFile(marker, data, 0o644))
			require.NoError(t, os.Chown(marker, tc.owner, tc.owner))
			ran, err := AtomicInit(marker, func() error { t.Error("fn ran"); return nil }, tc.opts...)
			require.False(t, ran)
			if tc.want == nil {
				require.NoError(t, err, "the marker counts")
			} else {
				require.ErrorIs(t, err, tc.want)
				var pe *fs.PathError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, marker, pe.Path)
			}
			got, rerr := os.ReadFile(marker)
			require.NoError(t, rerr)
			require.Equal(t, data, got, "the file at the marker path is left as it was")
			require.Equal(t, "app.initdone", dirEntries(t, dir), "nothing else is left")
		})
	}
}
