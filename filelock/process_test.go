package filelock

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/notify"
)

func init() {
	// counter: wait for the barrier (stdin closed), then increment the
	// counter file ROUNDS times under the lock (a fair one with
	// FILELOCK_TEST_FAIR set).
	childRoles["counter"] = func() error {
		l, err := New(envOf("FILELOCK_TEST_LOCK"), childOptions(WithBackoff(100*time.Microsecond, 5*time.Millisecond))...)
		if err != nil {
			return err
		}
		if err := awaitBarrier(); err != nil {
			return err
		}
		rounds, err := strconv.Atoi(envOf("FILELOCK_TEST_ROUNDS"))
		if err != nil {
			return err
		}
		return incrementLoop(l, envOf("FILELOCK_TEST_COUNTER"), rounds)
	}
	// hold: take the lock, say "locked" on stdout, hold it until stdin
	// closes, then exit without unlocking.
	childRoles["hold"] = func() error {
		l, err := New(envOf("FILELOCK_TEST_LOCK"), WithStrategy(childStrategy()))
		if err != nil {
			return err
		}
		if err := l.Lock(); err != nil {
			return err
		}
		fmt.Println("locked")
		_, err = io.Copy(io.Discard, os.Stdin)
		return err
	}
	// sleep: do nothing until stdin closes (an exec'd child of a holder).
	childRoles["sleep"] = func() error {
		_, err := io.Copy(io.Discard, os.Stdin)
		return err
	}
}

// TestCounterProcesses: 16 processes released together from a barrier
// increment a shared counter file under the lock; the count must be exact.
func TestCounterProcesses(t *testing.T) {
	t.Parallel() // a slow process test (main_test.go)
	const procs, rounds = 16, 40
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		lockPath, counter := filepath.Join(dir, "x.lock"), filepath.Join(dir, "counter")
		cmds, stderrs := startCounters(t, s, procs, rounds, lockPath, counter)
		for i, cmd := range cmds {
			require.NoError(t, cmd.Wait(), "child %d: %s", i, stderrs[i])
		}
		require.Equal(t, procs*rounds, readCounter(t, counter))
		if s.fileBased() {
			require.NoFileExists(t, lockPath)
		}
	})
}

// startCounters starts procs "counter" children (with env added), which
// each add 1 to the counter file rounds times under the lock, and releases
// them together from a barrier once all have started. It returns them and
// their standard errors.
func startCounters(t *testing.T, s Strategy, procs, rounds int, lockPath, counter string, env ...string) ([]*exec.Cmd, []*strings.Builder) {
	t.Helper()
	cmds, _, stderrs := startRole(t, "counter", procs, append(env,
		"FILELOCK_TEST_LOCK="+lockPath, "FILELOCK_TEST_COUNTER="+counter,
		"FILELOCK_TEST_ROUNDS="+strconv.Itoa(rounds), "FILELOCK_TEST_STRATEGY="+s.String())...)
	return cmds, stderrs
}

// startRole starts procs children in role with env, waiting at a barrier
// (awaitBarrier), and releases them together once all are ready. It returns them, their standard outputs and standard errors.
func startRole(t *testing.T, role string, procs int, env ...string) ([]*exec.Cmd, []*strings.Builder, []*strings.Builder) {
	t.Helper()
	var cmds []*exec.Cmd
	var stdouts, stderrs []*strings.Builder
	var barriers []io.WriteCloser
	ready := t.TempDir()
	env = append(env, "FILELOCK_TEST_READY="+ready)
	for range procs {
		cmd := childCommand(t, role, env...)
		w, err := cmd.StdinPipe()
		require.NoError(t, err)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Start())
		cmds, barriers = append(cmds, cmd), append(barriers, w)
		stdouts, stderrs = append(stdouts, &stdout), append(stderrs, &stderr)
	}
	awaitEntries(t, ready, procs, "children ready")
	for _, w := range barriers {
		require.NoError(t, w.Close())
	}
	return cmds, stdouts, stderrs
}

// awaitEntries waits until dir holds n entries, for at most a minute.
func awaitEntries(t *testing.T, dir string, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		if len(ents) >= n {
			return
		}
		require.False(t, time.Now().After(deadline), "%d of %d %s after a minute", len(ents), n, what)
		time.Sleep(time.Millisecond)
	}
}

// awaitBarrier is a child's side of startRole's barrier: it says it is
// ready, then waits until every child is (its stdin closed).
func awaitBarrier() error {
	ready := filepath.Join(envOf("FILELOCK_TEST_READY"), strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, os.Stdin)
	return err
}

// startHolder starts a child process that holds the lock until the returned
// function is called (which closes its stdin and waits for it to exit).
func startHolder(t *testing.T, s Strategy, lockPath string) (*exec.Cmd, func()) {
	t.Helper()
	return startHolding(t, holdCommand(t, s, lockPath))
}

// holdCommand is the command of a child that holds the lock at lockPath
// (startHolder), to be started by startHolding.
func holdCommand(t *testing.T, s Strategy, lockPath string) *exec.Cmd {
	t.Helper()
	return childCommand(t, "hold", "FILELOCK_TEST_LOCK="+lockPath, "FILELOCK_TEST_STRATEGY="+s.String())
}

// startHolding is startHolder of cmd, a holdCommand.
func startHolding(t *testing.T, cmd *exec.Cmd) (*exec.Cmd, func()) {
	t.Helper()
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			in.Close()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return cmd, stop
}

func TestInspectReportsAnotherProcess(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		st, err := Inspect(path, WithStrategy(s))
		require.NoError(t, err)
		require.False(t, st.Held, "no file: free")

		cmd, stop := startHolder(t, s, path)
		st, err = Inspect(path, WithStrategy(s))
		require.NoError(t, err)
		require.True(t, st.Held)
		require.NotNil(t, st.Holder)
		require.Equal(t, cmd.Process.Pid, st.Holder.PID)
		host, _ := os.Hostname()
		require.Equal(t, host, st.Holder.Host)
		require.WithinDuration(t, time.Now(), st.Holder.Acquired, time.Minute)
		require.Len(t, st.Holder.Token, 32)

		l := newLock(t, path, WithStrategy(s))
		require.ErrorIs(t, l.TryLock(), ErrWouldBlock)
		stop()
		st, err = Inspect(path, WithStrategy(s))
		require.NoError(t, err)
		if s.fileBased() {
			// A holder that exits without unlocking leaves its lock file,
			// which the dead-holder rule makes stale at once.
			require.True(t, st.Held)
			require.True(t, st.Stale, "dead holder")
			require.Contains(t, st.StaleReason, "dead")
		} else {
			require.False(t, st.Held, "the kernel dropped the dead holder's lock; its record is ignored")
		}
		require.NoError(t, l.TryLock())
		st, err = l.Inspect()
		require.NoError(t, err)
		require.Equal(t, os.Getpid(), st.Holder.PID, "a holder sees itself")
		require.NoError(t, l.Unlock())
		if s.fileBased() {
			require.Empty(t, dirEntries(t, filepath.Dir(path)), "the broken lock and its guard are gone")
			return
		}
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Empty(t, data, "release clears the record of a kept lock file")
	})
}

// TestExecChildDoesNotInheritLock: a child exec'd while the lock is held
// must not keep it after the parent releases.
func TestExecChildDoesNotInheritLock(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		l := newLock(t, path, WithStrategy(s))
		require.NoError(t, lockWithin(l))
		child := childCommand(t, "sleep")
		in, err := child.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, child.Start())
		defer func() { in.Close(); _ = child.Wait() }()
		require.NoError(t, l.Unlock())
		other := newLock(t, path, WithStrategy(s))
		require.NoError(t, other.TryLock(), "the child holds no copy of the lock")
		require.NoError(t, other.Unlock())
	})
}

// TestNoDescriptorLeaks: many acquisitions, failures included, leave the
// process's descriptor count unchanged.
func TestNoDescriptorLeaks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd, which only Linux has")
	}
	count := func() int {
		notify.Settle() // closed watchers release their descriptors in the background
		ents, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(ents)
	}
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.lock")
		before := count()
		a := newLock(t, path, WithStrategy(s))
		b := newLock(t, path, WithStrategy(s))
		bad := newLock(t, filepath.Join(dir, "missing", "x.lock"), WithStrategy(s))
		require.NoError(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
		isDir := newLock(t, filepath.Join(dir, "d"), WithStrategy(s))
		for range 50 {
			require.NoError(t, lockWithin(a))
			require.ErrorIs(t, b.TryLock(), ErrWouldBlock)
			_, err := a.Inspect()
			require.NoError(t, err)
			require.NoError(t, a.Unlock())
			require.Error(t, bad.TryLock())
			require.ErrorIs(t, isDir.TryLock(), ErrNotRegular)
		}
		require.Equal(t, before, count())
	})
}

// TestFlockInterop: the os strategy excludes, and is excluded by,
// util-linux flock(1) on the same file.
func TestFlockInterop(t *testing.T) {
	if !supported(OS) {
		t.Skip("no os strategy on " + runtime.GOOS)
	}
	flockBin, err := exec.LookPath("flock")
	if err != nil {
		if runtime.GOOS != "linux" {
			t.Skip("flock(1) is part of util-linux, which " + runtime.GOOS + " does not have")
		}
		t.Fatal("flock(1) not found: scripts/check installs util-linux; install it to run this test")
	}
	path := filepath.Join(t.TempDir(), "x.lock")
	l := newLock(t, path, WithStrategy(OS))

	// We hold: flock -n must fail.
	require.NoError(t, lockWithin(l))
	err = exec.Command(flockBin, "-n", path, "true").Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "flock -n while we hold: %v", err)
	require.Equal(t, 1, exit.ExitCode())
	require.NoError(t, l.Unlock())
	require.NoError(t, exec.Command(flockBin, "-n", path, "true").Run(), "free after Unlock")

	// flock(1) holds: we must be excluded until it lets go.
	cmd := exec.Command(flockBin, path, "sh", "-c", "echo locked; cat >/dev/null")
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock)
	st, err := Inspect(path, WithStrategy(OS))
	require.NoError(t, err)
	require.True(t, st.Held)
	require.NoError(t, in.Close())
	require.NoError(t, cmd.Wait())
	require.NoError(t, l.TryLock())
	require.NoError(t, l.Unlock())
}
