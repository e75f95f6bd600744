//go:build linux

package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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
// to name a dead process (itself, once it has exited): the next waiter must
// not break the lock. The holder and the waiter are the victim, the forger
// the attacker (users_test.go). The forger may write the lock file only
// where the lock is shared with its group deliberately: every lock file
// has exactly the lock's permission, whatever the umask.
func TestForgedRecordOfOtherUser(t *testing.T) {
	us := multiUser(t)
	cases := []struct {
		name   string
		team   bool   // in the team directory, else the sticky shared one
		umask  string // the victim's
		perm   string // the lock's permission; "" the default
		forged bool   // the attacker may write the lock file
	}{
		{"others, umask 000", false, "000", "", false},
		{"group member, umask 002", true, "002", "", false},
		{"group member, shared deliberately", true, "002", "664", true},
	}
	for _, s := range []Strategy{Soft, Link} {
		for _, tc := range cases {
			t.Run(s.String()+"/"+tc.name, func(t *testing.T) {
				dir := us.shared
				if tc.team {
					dir = us.team
				}
				path := freshName(t, dir) + ".lock"
				env := []string{"FILELOCK_TEST_LOCK=" + path, "FILELOCK_TEST_STRATEGY=" + s.String(),
					"FILELOCK_TEST_UMASK=" + tc.umask, "FILELOCK_TEST_PERM=" + tc.perm}
				holder := us.start(t, us.victim, "lockas", append(env, "FILELOCK_TEST_HOLD=1")...)
				require.Equal(t, "taken", holder.line(t))

				want := map[bool]string{false: "denied", true: "forged"}[tc.forged]
				require.Equal(t, want, us.run(t, us.attacker, "forge", "FILELOCK_TEST_LOCK="+path), "the attacker's write")
				require.Equal(t, "busy", us.run(t, us.victim, "lockas", env...), "a waiter took a live lock whose record was forged")
				holder.stop(t)
			})
		}
	}
}
