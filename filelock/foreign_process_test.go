//go:build linux

package filelock

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// foreignTool is another program's lock, run as a real process: it takes
// the lock at the path given as $1, prints "locked", holds it for $2
// seconds, prints "releasing", and releases it by removing the file once
// it reads a line from its standard input.
type foreignTool struct {
	name   string
	format string // what Inspect recognises in its lock file
	// pidIsHolder: the PID in its lock file is the process started, so
	// that killing it kills the holder the file names.
	pidIsHolder bool
	needs       string // a command or python module that must be there
	argv        []string
}

// pyHold is the Python body shared by the Python tools: hold, then
// release.
const pyHold = `print("locked", flush=True); time.sleep(float(sys.argv[2])); print("releasing", flush=True); sys.stdin.readline()`

var foreignTools = []foreignTool{
	{name: "py-filelock", format: FormatEmpty, needs: "py:filelock", argv: []string{"/usr/bin/python3", "-c",
		`import filelock, sys, time; l = filelock.SoftFileLock(sys.argv[1]); l.acquire(); ` + pyHold + `; l.release()`}},
	{name: "libvcs", format: FormatPID, pidIsHolder: true, needs: "py:os", argv: []string{"/usr/bin/python3", "-c",
		// libvcs's file_lock: exclusive create, the PID written as digits.
		`import os, sys, time; fd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644); os.write(fd, str(os.getpid()).encode()); os.close(fd); ` + pyHold + `; os.unlink(sys.argv[1])`}},
	{name: "dotlockfile", format: FormatPID, pidIsHolder: true, needs: "dotlockfile", argv: []string{"/bin/sh", "-c",
		// -p writes the PID of its caller, this shell.
		`dotlockfile -l -r 0 -p "$1" || exit 1; echo locked; sleep "$2"; echo releasing; read go; dotlockfile -u "$1"`, "sh"}},
	{name: "noclobber", format: FormatPID, pidIsHolder: true, needs: "sh", argv: []string{"/bin/sh", "-c",
		`set -C; echo $$ > "$1" || exit 1; echo locked; sleep "$2"; echo releasing; read go; rm -f "$1"`, "sh"}},
}

// missing says what the tool needs that is not here, or "".
func (ft foreignTool) missing() string {
	if mod, ok := strings.CutPrefix(ft.needs, "py:"); ok {
		if err := exec.Command("/usr/bin/python3", "-I", "-c", "import "+mod).Run(); err != nil {
			return "python3 with " + mod
		}
		return ""
	}
	if _, err := exec.LookPath(ft.needs); err != nil {
		return ft.needs
	}
	return ""
}

// requireTool fails t if what the tool needs is missing: Linux has every
// one, and scripts/setup-deps installs them.
func (ft foreignTool) requireTool(t *testing.T) {
	t.Helper()
	if m := ft.missing(); m != "" {
		t.Fatalf("%s is missing: run scripts/setup-deps, which installs it", m)
	}
}

// runningTool is a started foreignTool.
type runningTool struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// start runs the tool on path, holding for hold, and waits until it holds.
func (ft foreignTool) start(t *testing.T, path string, hold time.Duration) *runningTool {
	t.Helper()
	ft.requireTool(t)
	argv := append(append([]string{}, ft.argv...), path, fmt.Sprint(hold.Seconds()))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its sleep dies with it
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := &runningTool{cmd: cmd, in: in, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	require.Equal(t, "locked", r.line(t), "%s takes the lock", ft.name)
	return r
}

// line returns the tool's next line of output.
func (r *runningTool) line(t *testing.T) string {
	t.Helper()
	s, err := r.out.ReadString('\n')
	require.NoError(t, err)
	return strings.TrimSpace(s)
}

// kill kills the tool and everything it started, and reaps it.
func (r *runningTool) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL))
	_ = r.cmd.Wait()
}

// TestForeignHolderRespected: another program holds the lock for longer
// than any grace a record-less file was ever given (12 s); a waiter with
// the default options waits until it releases, is then woken, and holds a
// lock that the foreign release did not take away. Inspect recognises the
// foreign file meanwhile. Every tool and strategy holds at the same time,
// so that the test takes one hold's time.
func TestForeignHolderRespected(t *testing.T) {
	t.Parallel() // a slow process test (main_test.go)
	const hold = 12 * time.Second
	type waiting struct {
		name string
		dir  string
		l    *Lock
		tool *runningTool
		got  chan error
	}
	var all []waiting
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, ft := range foreignTools {
		for _, s := range []Strategy{Soft, Link} {
			w := waiting{name: ft.name + "/" + s.String(), dir: t.TempDir(), got: make(chan error, 1)}
			path := filepath.Join(w.dir, "x.lock")
			w.tool = ft.start(t, path, hold) // until the end of the test
			if !t.Run(w.name+"/inspect", func(t *testing.T) {
				var err error
				w.l, err = New(path, WithStrategy(s))
				require.NoError(t, err)
				st, err := w.l.Inspect()
				require.NoError(t, err)
				require.True(t, st.Held)
				require.Nil(t, st.Holder)
				require.NotNil(t, st.Foreign)
				require.Equal(t, ft.format, st.Foreign.Format)
				require.False(t, st.Stale, st.StaleReason)
			}) || w.l == nil { // nil: not run, -failfast after a failure
				continue
			}
			go func() { w.got <- w.l.LockContext(ctx) }()
			all = append(all, w)
		}
	}
	for _, w := range all {
		t.Run(w.name, func(t *testing.T) {
			require.Equal(t, "releasing", w.tool.line(t), "the foreign holder kept the lock for its whole hold")
			select {
			case err := <-w.got:
				t.Fatalf("acquired while the foreign holder held the lock (%v)", err)
			default:
			}
			_, err := fmt.Fprintln(w.tool.in, "go")
			require.NoError(t, err)
			releasing := time.Now()
			require.NoError(t, recv(t, w.got))
			require.Less(t, time.Since(releasing), 5*time.Second, "woken soon after the release")
			require.NoError(t, w.tool.cmd.Wait())
			require.NoError(t, w.l.Unlock(), "the foreign release removed only its own file")
			require.Empty(t, dirEntries(t, w.dir))
		})
	}
}

// timeGrain is the coarsest step of file times on Linux: the kernel takes
// them from its tick, every 10 ms at HZ=100.
const timeGrain = 10 * time.Millisecond

// TestForeignHolderKilled: another program's holder is killed and its
// lock file stays. By default it is broken by the age rule alone, once it
// has not changed for the stale-after age; with WithSharedPIDNamespace a
// file that names the dead PID is broken at once. Inspect says why.
func TestForeignHolderKilled(t *testing.T) {
	skipWithoutDeadRule(t)
	const staleAfter = 3 * time.Second
	for _, ft := range foreignTools {
		for _, shared := range []bool{false, true} {
			// The age rule is the same whatever the file holds: one tool
			// of each format is enough for it.
			if !shared && ft.name != "py-filelock" && ft.name != "libvcs" || shared && !ft.pidIsHolder {
				continue
			}
			name := ft.name + map[bool]string{false: "/age", true: "/shared-pids"}[shared]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path := filepath.Join(dir, "x.lock")
				// Before the file is made: the age rule counts from its
				// time, which the kernel takes from its last tick, up to
				// timeGrain before the moment it is made.
				made := time.Now().Add(-timeGrain)
				tool := ft.start(t, path, time.Hour)
				opts := []Option{WithStaleAfter(staleAfter)}
				byPID := shared && ft.pidIsHolder
				if shared {
					opts = append(opts, WithSharedPIDNamespace())
				}
				l := newLock(t, path, opts...)
				tool.kill(t)
				st, err := l.Inspect()
				require.NoError(t, err)
				require.Equal(t, byPID, st.Stale, "stale at once only by a PID known dead: %s", st.StaleReason)
				if !byPID {
					require.Eventually(t, func() bool {
						st, err = l.Inspect()
						return err == nil && st.Stale
					}, staleAfter+10*time.Second, 50*time.Millisecond, "stale by age")
					require.GreaterOrEqual(t, time.Since(made), staleAfter, "not stale before its age")
					require.Contains(t, st.StaleReason, "not changed for")
					require.Contains(t, st.StaleReason, ft.format)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				require.NoError(t, l.LockContext(ctx))
				took := time.Since(made)
				if byPID {
					require.Contains(t, st.StaleReason, "is dead")
					require.Less(t, took, staleAfter, "broken before its age")
				} else {
					require.GreaterOrEqual(t, took, staleAfter, "broken only by age")
				}
				require.NoError(t, l.Unlock())
				require.Empty(t, dirEntries(t, dir))
			})
		}
	}
}
