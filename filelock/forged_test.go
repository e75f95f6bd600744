//go:build linux

package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/proc"
)

func init() {
	// forge: rewrite the lock file's record to name this process, which
	// then exits (a dead holder); say "forged", or "denied" if the file
	// cannot be opened for writing.
	childRoles["forge"] = func() error {
		path := envOf("FILELOCK_TEST_LOCK")
		l, err := New(path)
		if err != nil {
			return err
		}
		data, err := l.newRecord()
		if err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if errors.Is(err, fs.ErrPermission) {
			fmt.Print("denied")
			return nil
		}
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		fmt.Print("forged")
		return err
	}
	// trylock: try the lock once; say "taken" or "busy".
	childRoles["trylock"] = func() error {
		l, err := New(envOf("FILELOCK_TEST_LOCK"), WithStrategy(childStrategy()))
		if err != nil {
			return err
		}
		switch err := l.TryLock(); {
		case errors.Is(err, ErrWouldBlock):
			fmt.Print("busy")
			return nil
		case err != nil:
			return err
		}
		fmt.Print("taken")
		return l.Unlock()
	}
}

// The dead-holder rule trusts what a lock file says of its holder only if
// no one but its owner may write it; otherwise the file is broken by age
// alone.
func TestDeadRuleTrustsOnlyOwnerWritable(t *testing.T) {
	cases := []struct {
		mode  fs.FileMode
		stale bool
	}{
		{0o644, true},
		{0o600, true},
		{0o664, false},
		{0o646, false},
		{0o666, false},
	}
	dead := deadPID(t)
	contents := []struct {
		name string
		data func(t *testing.T) []byte
		opts []Option
	}{
		{"record", func(t *testing.T) []byte { return forgedRecord(t, otherHost()) },
			[]Option{withProcess(proc.Self(), func(proc.Identity) proc.State { return proc.Dead })}},
		{"foreign pid", func(*testing.T) []byte { return []byte(strconv.Itoa(dead) + "\n") },
			[]Option{WithSharedPIDNamespace()}},
	}
	for _, s := range []Strategy{Soft, Link} {
		for _, c := range contents {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("%v/%s/%v", s, c.name, tc.mode), func(t *testing.T) {
					dir := t.TempDir()
					path := filepath.Join(dir, "x.lock")
					require.NoError(t, os.WriteFile(path, c.data(t), 0o600))
					require.NoError(t, os.Chmod(path, tc.mode))
					l := newLock(t, path, append([]Option{WithStrategy(s), WithStaleAfter(time.Hour)}, c.opts...)...)
					st, err := l.Inspect()
					require.NoError(t, err)
					require.Equal(t, tc.stale, st.Stale, "%s", st.StaleReason)
					err = l.TryLock()
					if !tc.stale {
						require.ErrorIs(t, err, ErrWouldBlock)
						return
					}
					require.NoError(t, err)
					require.NoError(t, l.Unlock())
				})
			}
		}
	}
}

// Another user who may write a live holder's lock file rewrites its record
// to name a dead process: the next waiter must not break the lock. Run as
// root, the forger is the user nobody.
func TestForgedRecordOfOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the forger as the user nobody")
	}
	cases := []struct {
		name  string
		umask int
		opts  []Option
		group bool // the directory's group is nobody's, set-group-ID
	}{
		{"others, umask 000", 0, nil, false},
		{"group member, umask 002", 0o002, nil, true},
		{"group member, shared deliberately", 0o002, []Option{WithPerm(0o664)}, true},
	}
	for _, s := range []Strategy{Soft, Link} {
		for _, tc := range cases {
			t.Run(s.String()+"/"+tc.name, func(t *testing.T) {
				base, exe := nobodyDir(t)
				dir := filepath.Join(base, "locks")
				require.NoError(t, os.Mkdir(dir, 0o755))
				if tc.group {
					require.NoError(t, os.Chown(dir, 0, 65534))
					require.NoError(t, os.Chmod(dir, 0o775|fs.ModeSetgid))
				}
				path := filepath.Join(dir, "x.lock")
				l := newLock(t, path, append([]Option{WithStrategy(s)}, tc.opts...)...)
				withUmask(t, tc.umask, func() { require.NoError(t, lockWithin(l)) })
				defer l.Unlock()

				forge := childCommand(t, "forge", "FILELOCK_TEST_LOCK="+path)
				forge.Path = exe
				forge.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
				out, err := forge.Output()
				require.NoError(t, err, "%s", exitStderr(err))
				t.Logf("forger: %s", out)

				try := childCommand(t, "trylock", "FILELOCK_TEST_LOCK="+path, "FILELOCK_TEST_STRATEGY="+s.String())
				out, err = try.Output()
				require.NoError(t, err, "%s", exitStderr(err))
				require.Equal(t, "busy", string(out), "a waiter took a live lock whose record was forged")
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

// exitStderr returns what a child that failed wrote on stderr.
func exitStderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
