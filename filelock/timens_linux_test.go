package filelock

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func init() {
	// try: make one attempt at the lock, say "taken" (and release) or
	// "busy", and exit.
	childRoles["try"] = func() error {
		l, err := New(envOf("FILELOCK_TEST_LOCK"), childOptions()...)
		if err != nil {
			return err
		}
		switch err := l.TryLock(); {
		case err == nil:
			fmt.Println("taken")
			return l.Unlock()
		case errors.Is(err, ErrWouldBlock):
			fmt.Println("busy")
			return nil
		default:
			return err
		}
	}
}

// inTimeNamespace makes cmd run in a new time namespace whose boot-time
// and monotonic clocks are a day and more ahead, where /proc shows every
// process's start time that much later.
func inTimeNamespace(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a new time namespace needs root (CI runs the suite as root)")
	}
	unshare, err := exec.LookPath("unshare")
	require.NoError(t, err, "unshare (util-linux) runs a child in a new time namespace")
	if out, err := exec.Command(unshare, "-f", "-T", "--boottime", "1", "true").CombinedOutput(); err != nil {
		t.Skipf("no time namespaces here (Linux 5.6 and later): %v: %s", err, out)
	}
	runUnder(cmd, unshare, "-f", "--kill-child", "-T", "--boottime", "100000", "--monotonic", "100000")
}

// runUnder makes cmd run as the last argument of the command wrapper.
func runUnder(cmd *exec.Cmd, wrapper ...string) {
	cmd.Args = append(append([]string{}, wrapper...), cmd.Args...)
	cmd.Path = wrapper[0]
}

// tryCommand returns a child that makes one TryLock of the lock at path
// with strategy s (childRoles["try"]); env adds to its environment.
func tryCommand(t *testing.T, path string, s Strategy, env ...string) *exec.Cmd {
	t.Helper()
	return childCommand(t, "try", append([]string{"FILELOCK_TEST_LOCK=" + path, "FILELOCK_TEST_STRATEGY=" + s.String()}, env...)...)
}

// said runs cmd, which must succeed, and returns what it said.
func said(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	cmd.Stderr = nil // kept in the error
	out, err := cmd.Output()
	require.NoError(t, err, "%s", exitStderr(err))
	return strings.TrimSpace(string(out))
}

// TestOtherTimeNamespace: a holder and a contender in different time
// namespaces, which see each other's start time in /proc shifted by their
// boot-time offsets, still take each other for alive: the lock of a live
// holder is not broken, whichever side is in the new namespace.
func TestOtherTimeNamespace(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String()+"/holder in it", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			cmd := holdCommand(t, s, path)
			inTimeNamespace(t, cmd)
			startHolding(t, cmd)

			l := newLock(t, path, WithStrategy(s))
			require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "a live holder of another time namespace taken for dead")
		})
		t.Run(s.String()+"/contender in it", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			l := newLock(t, path, WithStrategy(s))
			require.NoError(t, l.TryLock())
			cmd := tryCommand(t, path, s)
			inTimeNamespace(t, cmd)
			require.Equal(t, "busy", said(t, cmd), "a live holder taken for dead from another time namespace")
			require.NoError(t, l.Unlock())
		})
	}
}
