//go:build linux

package proc

import (
	"bufio"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestZombieIsDead(t *testing.T) {
	cmd := child()
	require.NoError(t, cmd.Start())
	id := Self()
	id.PID = cmd.Process.Pid
	id.Start, _ = startTime(id.PID)
	defer cmd.Wait()
	// Not yet reaped: once it has exited it is a zombie, which counts as
	// dead. (While it exits it is dead already: see pfExiting.)
	require.Eventually(t, func() bool {
		state, _, err := stat(id.PID)
		return err == nil && state == 'Z'
	}, time.Minute, time.Millisecond, "the child never became a zombie")
	require.Equal(t, Dead, Check(id))
}

// TestReapedBetweenOpenAndReadIsDead: a process reaped after its stat file,
// or its thread's, was opened and before it was read (the read then fails
// with ESRCH) is dead, not of unknown state: a fair waiter whose judgement
// of a killed waiter ahead met its reaping so took it for alive, and
// waited for its ticket to expire.
func TestReapedBetweenOpenAndReadIsDead(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"the process's stat", "/stat"},
		{"its thread's stat", "/task/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := child()
			require.NoError(t, cmd.Start())
			id := Self()
			id.PID = cmd.Process.Pid
			id.Start, _ = startTime(id.PID)
			require.NoError(t, cmd.Process.Kill())
			require.Eventually(t, func() bool {
				state, _, err := stat(id.PID)
				return err == nil && state == 'Z'
			}, time.Minute, time.Millisecond, "the child never became a zombie")
			prefix := "/proc/" + strconv.Itoa(id.PID) + tc.file
			reaped := false
			procFileOpened = func(name string) {
				if !reaped && strings.HasPrefix(name, prefix) {
					reaped = true
					_ = cmd.Wait()
				}
			}
			t.Cleanup(func() {
				procFileOpened = nil
				if !reaped {
					_ = cmd.Wait()
				}
			})
			require.Equal(t, Dead, Check(id))
			require.True(t, reaped, "no read of %s* was made", prefix)
		})
	}
}

func TestParseStat(t *testing.T) {
	// Fields 3 to 22 of a real line, after a command name.
	const tail = " S 1 1234 1234 0 -1 4194560 1093 0 0 0 3 1 0 0 20 0 1 0 987654321 5230592 397 18446744073709551615\n"
	for _, tc := range []struct {
		name, stat string
		state      byte
		start      uint64
		ok         bool
	}{
		{"plain", "42 (sleep)" + tail, 'S', 987654321, true},
		{"spaces and parentheses in the name", "42 (a) b (c) R)" + tail, 'S', 987654321, true},
		{"zombie", "42 (x) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 55", 'Z', 55, true},
		{"exiting (PF_EXITING)", "42 (x) R 1 2 3 4 5 4194564 7 8 9 10 11 12 13 14 15 16 17 18 55", 'X', 55, true},
		{"running, other flags", "42 (x) R 1 2 3 4 5 4194560 7 8 9 10 11 12 13 14 15 16 17 18 55", 'R', 55, true},
		{"flags not a number", "42 (x) R 1 2 3 4 5 -4 7 8 9 10 11 12 13 14 15 16 17 18 55", 0, 0, false},
		{"no name", "42 sleep S 1", 0, 0, false},
		{"too short", "42 (x) S 1 2 3", 0, 0, false},
		{"state not a letter", "42 (x) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 55", 0, 0, false},
		{"start not a number", "42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 5x5", 0, 0, false},
		{"start of the most digits", "42 (x) S 1 2 3 4 5 0 7 8 9 10 11 12 13 14 15 16 17 18 9999999999999999999", 'S', 9999999999999999999, true},
		{"start a digit too long", "42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 12345678901234567890", 0, 0, false},
		{"start too long", "42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 123456789012345678901", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, start, err := parseStat([]byte(tc.stat))
			if !tc.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.state, state)
			require.Equal(t, tc.start, start)
		})
	}
}

// BenchmarkStat: a fair waiter checks the waiter ahead at every turn. Its
// allocations are the file's name and its copy for the system call.
func BenchmarkStat(b *testing.B) {
	pid := os.Getpid()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := stat(pid); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHiddenProcess: where /proc refuses to show a process (EACCES) it
// exists, so it is alive; where /proc hides it (hidepid=2: ENOENT) only
// the kernel's own answer to a signal 0 may call it dead, and a refusal
// (EPERM: another user's process) is not that answer.
func TestHiddenProcess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stat   error
		signal error
		want   State
	}{
		{"stat refused", fs.ErrPermission, nil, Alive},
		{"hidden, signal refused", fs.ErrNotExist, syscall.EPERM, Unknown},
		{"hidden, no such process", fs.ErrNotExist, syscall.ESRCH, Dead},
		{"hidden, signal allowed", fs.ErrNotExist, nil, Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(s func(int) (byte, uint64, error), k func(int, syscall.Signal) error) { statOf, signal = s, k }(statOf, signal)
			statOf = func(int) (byte, uint64, error) {
				return 0, 0, &fs.PathError{Op: "open", Path: "/proc/stat", Err: tc.stat}
			}
			signal = func(int, syscall.Signal) error { return tc.signal }
			require.Equal(t, tc.want, check(Identity{PID: 12345, Start: 1}))
		})
	}
}

func TestParseMachineID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"3d1219c7c4c5404aaa1f6d2a48adfda4\n", "3d1219c7c4c5404aaa1f6d2a48adfda4"},
		{"3d1219c7c4c5404aaa1f6d2a48adfda4", "3d1219c7c4c5404aaa1f6d2a48adfda4"},
		{"", ""},
		{"uninitialized\n", ""},
		{"3D1219C7C4C5404AAA1F6D2A48ADFDA4\n", ""},
		{"3d1219c7c4c5404aaa1f6d2a48adfda4\n\n", ""},
		{" 3d1219c7c4c5404aaa1f6d2a48adfda4\n", ""},
		{"3d1219c7-c4c5-404a-aa1f-6d2a48adfda4\n", ""},
	} {
		require.Equal(t, tc.want, parseMachineID([]byte(tc.in)), "%q", tc.in)
	}
}

func TestMachineIDFallback(t *testing.T) {
	dir := t.TempDir()
	saved := machineFiles
	t.Cleanup(func() { machineFiles = saved })
	etc, dbus := dir+"/etc-machine-id", dir+"/dbus-machine-id"
	machineFiles = []string{etc, dbus}
	require.Empty(t, machineID(), "neither file")
	require.NoError(t, os.WriteFile(dbus, []byte("0123456789abcdef0123456789abcdef\n"), 0o644))
	require.Equal(t, "0123456789abcdef0123456789abcdef", machineID(), "the D-Bus file when systemd's is missing")
	require.NoError(t, os.WriteFile(etc, []byte("3d1219c7c4c5404aaa1f6d2a48adfda4\n"), 0o644))
	require.Equal(t, "3d1219c7c4c5404aaa1f6d2a48adfda4", machineID(), "systemd's file first")
	require.NoError(t, os.WriteFile(etc, []byte("uninitialized\n"), 0o644))
	require.Empty(t, machineID(), "an unreadable id in the first file that exists is no id")
}

func TestParseBootTime(t *testing.T) {
	for _, tc := range []struct {
		stat string
		want time.Time
	}{
		{"cpu  1 2 3\nintr 5\nbtime 1764662400\nprocesses 9\n", time.Unix(1764662400, 0)},
		{"cpu  1 2 3\nbtime 0\n", time.Time{}},
		{"cpu  1 2 3\nbtime x\n", time.Time{}},
		{"cpu  1 2 3\n", time.Time{}},
	} {
		require.True(t, tc.want.Equal(parseBootTime([]byte(tc.stat))), "%q", tc.stat)
	}
	booted := BootTime()
	require.False(t, booted.IsZero(), "this host's boot time")
	require.True(t, booted.Before(time.Now()), "booted %v, after now", booted)
}

// TestOneNamespaceDeep: a /proc shows a process in its own PID namespace
// when the process's NSpid line holds one number; two or more say the
// /proc is an ancestor namespace's, whatever /proc/self names.
func TestOneNamespaceDeep(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status string
		want   bool
	}{
		{"its own", "Name:\tx\nPid:\t42\nNSpid:\t42\nNSpgid:\t42\n", true},
		{"an ancestor's", "Name:\tx\nPid:\t42\nNSpid:\t42\t42\nNSpgid:\t42\t42\n", false},
		{"two levels up", "Name:\tx\nNSpid:\t30000\t7\t1\n", false},
		{"the last line", "Name:\tx\nNSpid:\t42", true},
		{"the first line", "NSpid:\t42\t1\nName:\tx\n", false},
		{"no NSpid line (before Linux 4.1)", "Name:\tx\nPid:\t42\n", true},
		{"an empty NSpid line", "Name:\tx\nNSpid:\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, oneNamespaceDeep([]byte(tc.status)))
		})
	}
	status, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	require.True(t, oneNamespaceDeep(status), "this process, in its own namespace's /proc:\n%s", status)
}

// TestProcOfAnotherPIDNamespace: a process in a PID namespace of its own
// that kept the host's /proc (unshare --pid without --mount-proc) would
// read another process wherever it looks up a PID; it reads no start
// times, states or monotonic clock there, so that a live holder of its
// namespace is never judged by a stranger's start time. (Run in a child,
// as root.)
func TestProcOfAnotherPIDNamespace(t *testing.T) {
	if os.Getenv("PROC_TEST_FOREIGN_PROC") != "" {
		require.Equal(t, 1, os.Getpid(), "not the first process of a new PID namespace")
		require.False(t, procShowsSelf())
		_, ok := Monotonic()
		require.False(t, ok, "the monotonic clock read through another namespace's /proc")
		require.Zero(t, Self().Start, "a start time read through another namespace's /proc")
		require.Equal(t, Unknown, check(Identity{PID: 1, Start: 12345}), "this process judged by another's start time")
		require.False(t, BootTime().IsZero(), "the host's boot time, which /proc/stat shows through any /proc")
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("a new PID namespace needs root (CI runs the suite as root)")
	}
	unshare, err := exec.LookPath("unshare")
	require.NoError(t, err, "unshare (util-linux) runs a child in a new PID namespace")
	cmd := child()
	cmd.Args = []string{unshare, "--pid", "--fork", "--kill-child", os.Args[0], "-test.run=^TestProcOfAnotherPIDNamespace$", "-test.count=1"}
	cmd.Path = unshare
	cmd.Env = append(cmd.Env, "PROC_TEST_FOREIGN_PROC=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "PASS")
}

// leaderExitsEnv makes the test binary a process whose first thread exits
// (as pthread_exit does in C) while another thread runs on, until its
// standard input is closed.
const leaderExitsEnv = "PROC_TEST_LEADER_EXITS"

func init() {
	if os.Getenv(leaderExitsEnv) == "" {
		return
	}
	// Locked in init, the main goroutine runs on the first thread, which
	// SYS_EXIT ends alone; the runtime goes on with the others.
	runtime.LockOSThread()
	go func() {
		os.Stdout.WriteString("ready\n")
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	syscall.Syscall(syscall.SYS_EXIT, 0, 0, 0)
}

// TestFirstThreadGoneIsAlive: a process whose first thread has exited
// shows a zombie's state in /proc/PID/stat while its other threads run
// on; it is alive, and only dead once they are gone too.
func TestFirstThreadGoneIsAlive(t *testing.T) {
	cmd := child()
	cmd.Env = append(cmd.Env, leaderExitsEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	id := Self()
	id.PID = cmd.Process.Pid
	id.Start, _ = startTime(id.PID)
	require.Eventually(t, func() bool {
		state, _, err := stat(id.PID)
		return err == nil && state == 'Z'
	}, time.Minute, time.Millisecond, "the first thread never exited")
	require.Equal(t, Alive, Check(id), "its other threads run on")

	require.NoError(t, stdin.Close())
	require.Eventually(t, func() bool { return Check(id) == Dead }, time.Minute, time.Millisecond,
		"dead once every thread has exited")
	require.NoError(t, cmd.Wait())
}

func TestExitingThread(t *testing.T) {
	const (
		sleeping = "7 (x) S 1 2 3 4 5 4194560 7 8 9 10 11 12 13 14 15 16 17 18 55"
		exiting  = "7 (x) S 1 2 3 4 5 4194564 7 8 9 10 11 12 13 14 15 16 17 18 55" // PF_EXITING
		zombie   = "7 (x) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 55"
		quiet    = "Name:\tx\nState:\tS (sleeping)\nSigQ:\t0/95970\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n"
	)
	pending := func(field, mask string) string {
		return strings.Replace(quiet, field+":\t0000000000000000", field+":\t"+mask, 1)
	}
	for _, tc := range []struct {
		name, stat, status string
		exiting            bool
	}{
		{"running on", sleeping, quiet, false},
		{"exited", zombie, quiet, true},
		{"exiting", exiting, quiet, true},
		{"SIGKILL pending", sleeping, pending("SigPnd", "0000000000000100"), true},
		{"SIGKILL pending for the process", sleeping, pending("ShdPnd", "0000000000000100"), true},
		{"SIGKILL among others", sleeping, pending("SigPnd", "0000000000004102"), true},
		{"SIGTERM pending", sleeping, pending("SigPnd", "0000000000004000"), false},
		{"SIGKILL blocked in name only", sleeping, pending("SigBlk", "0000000000000100"), false},
		{"mask not a number", sleeping, pending("SigPnd", "00000000000001zz"), false},
		{"no masks", sleeping, "Name:\tx\n", false},
		{"stat malformed", "7 x S", pending("SigPnd", "0000000000000100"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.exiting, exitingThread([]byte(tc.stat), []byte(tc.status)))
		})
	}
}

// TestThreadsGoneListsAgain: a thread that was listed and then found gone
// may have started another first; a second listing that shows a thread
// the first did not means the process runs on.
func TestThreadsGoneListsAgain(t *testing.T) {
	for _, tc := range []struct {
		name          string
		first, second []string
		live          string // a thread that runs on, if any
		gone          bool
	}{
		{"every thread gone, none new", []string{"1", "2"}, []string{"1"}, "", true},
		{"the same threads, gone", []string{"1", "2"}, []string{"1", "2"}, "", true},
		{"a gone thread started another", []string{"1", "2"}, []string{"1", "3"}, "", false},
		{"a thread runs on", []string{"1", "2"}, []string{"1", "2"}, "2", false},
		{"the process is gone by the second listing", []string{"1", "2"}, nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listings := [][]string{tc.first, tc.second}
			list := func() ([]string, error) {
				l := listings[0]
				listings = listings[1:]
				if l == nil {
					return nil, fs.ErrNotExist
				}
				return l, nil
			}
			require.Equal(t, tc.gone, threadsGone(list, func(tid string) bool { return tid != tc.live }))
		})
	}
}
