//go:build linux

package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	// readonly: as an unprivileged user, lock an existing lock file that
	// user may only read. Where the strategy can lock a read-only
	// descriptor the lock must be taken, seen held by Inspect with no
	// record, and released, leaving the file as it was; where it cannot
	// (FILELOCK_TEST_WANT=denied) every acquisition must fail at once with
	// a permission error naming the path.
	childRoles["readonly"] = func() error {
		path := envOf("FILELOCK_TEST_LOCK")
		opts := []Option{WithStrategy(childStrategy())}
		if os.Getenv("FILELOCK_TEST_SHARED") != "" {
			opts = append(opts, WithShared())
		}
		l, err := New(path, opts...)
		if err != nil {
			return err
		}
		if os.Getenv("FILELOCK_TEST_WANT") == "denied" {
			return readOnlyDenied(l, path)
		}
		return readOnlyHeld(l)
	}
}

// readOnlyHeld takes and releases l, whose lock file this user may only
// read, checking that Inspect sees it held without a record meanwhile.
func readOnlyHeld(l *Lock) error {
	for _, acquire := range []func() error{l.TryLock, l.Lock} {
		if err := acquire(); err != nil {
			return fmt.Errorf("acquiring a lock file that may only be read: %w", err)
		}
		st, err := Inspect(l.Path(), WithStrategy(l.Strategy()))
		if err != nil {
			return err
		}
		if !st.Held || st.Holder != nil {
			return fmt.Errorf("want held without a record, got %v", st)
		}
		if err := l.Unlock(); err != nil {
			return err
		}
	}
	return nil
}

// readOnlyDenied checks that every acquisition of l fails at once with a
// permission error naming path.
func readOnlyDenied(l *Lock, path string) error {
	for _, acquire := range []func() error{l.TryLock, l.Lock} {
		err := acquire()
		var pe *fs.PathError
		if !errors.Is(err, fs.ErrPermission) || !errors.As(err, &pe) || pe.Path != path ||
			!strings.Contains(err.Error(), "needs write access") {
			return fmt.Errorf("want permission denied naming %s that says why, got %v", path, err)
		}
	}
	return nil
}

// TestReadOnlyLockFile locks, as the unprivileged user nobody, a 0644 lock
// file that root owns: the os strategy (flock) and shared ofd locks work
// on a read-only descriptor, as gofrs/flock does; an exclusive ofd lock
// needs a descriptor open for writing, and is refused. The file holds
// another program's content, or nothing, where a holder with write access
// would write its record: either way it is left as it was.
// readOnlyLocks are the kernel locks, and whether a descriptor open for
// reading only is denied them: only an exclusive OFD lock is.
var readOnlyLocks = []struct {
	name     string
	strategy Strategy
	shared   bool
	denied   bool
}{
	{"os exclusive", OS, false, false},
	{"os shared", OS, true, false},
	{"ofd exclusive", OFD, false, true},
	{"ofd shared", OFD, true, false},
}

func TestReadOnlyLockFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running as another user needs root (CI runs the suite as root)")
	}
	for _, tc := range readOnlyLocks {
		for _, c := range []struct{ name, content string }{
			{"foreign", "another program's content\n"},
			{"empty", ""},
		} {
			t.Run(tc.name+"/"+c.name, func(t *testing.T) {
				dir, exe := nobodyDir(t)
				path := filepath.Join(dir, "x.lock")
				require.NoError(t, os.WriteFile(path, []byte(c.content), 0o644)) // root's: nobody may only read it
				env := []string{"FILELOCK_TEST_LOCK=" + path, "FILELOCK_TEST_STRATEGY=" + tc.strategy.String()}
				if tc.shared {
					env = append(env, "FILELOCK_TEST_SHARED=1")
				}
				if tc.denied {
					env = append(env, "FILELOCK_TEST_WANT=denied")
				}
				cmd := childCommand(t, "readonly", env...)
				cmd.Path = exe
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "%s", out)
				got, err := os.ReadFile(path)
				require.NoError(t, err)
				require.Equal(t, c.content, string(got))
			})
		}
	}
}

// nobodyDir returns a directory the user nobody may enter, removed when
// the test ends, holding a copy of the test binary nobody may run.
func nobodyDir(t *testing.T) (dir, exe string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "nobody")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	self, err := os.Executable()
	require.NoError(t, err)
	data, err := os.ReadFile(self)
	require.NoError(t, err)
	exe = filepath.Join(dir, "filelock.test")
	require.NoError(t, os.WriteFile(exe, data, 0o755))
	return dir, exe
}
