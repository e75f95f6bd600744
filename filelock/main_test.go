package filelock

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Child processes: the test binary re-executes itself with childEnv set to
// the name of a role in childRoles; TestMain runs that role instead of the
// tests and exits with its status.
const childEnv = "FILELOCK_TEST_CHILD"

var childRoles = map[string]func() error{}

// Slow process tests — those that wait seconds on purpose (a foreign
// holder's hold, a stale-after age) or run dozens of processes — call
// t.Parallel, so that they run together after all other tests and one's
// waiting overlaps another's work. Such a test changes no package
// variable, counts no descriptors or goroutines of this process, and
// asserts no timing with a margin that load could spoil (a heartbeat due
// within a second or two, say); a test that does any of these stays
// sequential.

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		run, ok := childRoles[role]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown child role %q\n", role)
			os.Exit(2)
		}
		if err := run(); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// childDeadline is how long a test's child process may run.
const childDeadline = 3 * time.Minute

// childCommand returns a command that runs the test binary as role with the
// given extra environment.
func childCommand(t testing.TB, role string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	if _, ok := t.(*testing.T); ok {
		// Every wait for a child ends: a child that hangs is stopped
		// after childDeadline, and one still running when its test
		// ends is stopped then.
		ctx, cancel := context.WithTimeout(context.Background(), childDeadline)
		t.Cleanup(cancel)
		cmd = exec.CommandContext(ctx, exe, "-test.run=^$")
		// SIGQUIT, not SIGKILL, which tests give children on purpose:
		// a Go child then prints where it hung, and exits.
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
		cmd.WaitDelay = 10 * time.Second
	}
	// Under -race a process sleeps a second at exit unless told not to.
	cmd.Env = append(os.Environ(), childEnv+"="+role, "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// envOf reads a variable a child was given, failing loudly if it is missing.
func envOf(name string) string {
	v, ok := os.LookupEnv(name)
	if !ok {
		panic("child needs " + name)
	}
	return v
}

// strategyOptions returns the options a child uses for the strategy named
// in FILELOCK_TEST_STRATEGY.
func childStrategy() Strategy {
	s, err := ParseStrategy(envOf("FILELOCK_TEST_STRATEGY"))
	if err != nil {
		panic(err)
	}
	return s
}

// childOptions returns the options of a child's lock: the strategy of
// FILELOCK_TEST_STRATEGY, WithFair if FILELOCK_TEST_FAIR is set,
// WithPolling if FILELOCK_TEST_POLLING is, WithPerm of FILELOCK_TEST_PERM
// (octal) and WithStaleAfter of FILELOCK_TEST_STALE_AFTER if those are
// set, then extra.
func childOptions(extra ...Option) []Option {
	opts := []Option{WithStrategy(childStrategy())}
	if os.Getenv("FILELOCK_TEST_FAIR") != "" {
		opts = append(opts, WithFair())
	}
	if os.Getenv("FILELOCK_TEST_POLLING") != "" {
		opts = append(opts, WithPolling())
	}
	if p := os.Getenv("FILELOCK_TEST_PERM"); p != "" {
		opts = append(opts, WithPerm(octalMode(p)))
	}
	if d := os.Getenv("FILELOCK_TEST_STALE_AFTER"); d != "" {
		staleAfter, err := time.ParseDuration(d)
		if err != nil {
			panic(err)
		}
		opts = append(opts, WithStaleAfter(staleAfter))
	}
	return append(opts, extra...)
}

// forEachStrategy runs f as a subtest for every strategy of this platform.
func forEachStrategy(t *testing.T, f func(t *testing.T, s Strategy)) {
	t.Helper()
	for _, s := range Strategies() {
		t.Run(s.String(), func(t *testing.T) { f(t, s) })
	}
}

// forEachKernelStrategy runs f for each kernel strategy (OS, OFD) this
// platform supports.
func forEachKernelStrategy(t *testing.T, f func(t *testing.T, s Strategy)) {
	t.Helper()
	for _, s := range Strategies() {
		if !s.fileBased() {
			t.Run(s.String(), func(t *testing.T) { f(t, s) })
		}
	}
}

// dirEntries lists dir's names, for checking that nothing is left behind.
func dirEntries(t testing.TB, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}

// testLockWait bounds lockWithin: long enough for any wait a test means,
// short enough that a test that fails while another holds the lock fails
// instead of hanging to the package's timeout.
const testLockWait = time.Minute

// recv returns the result of a wait started in the background, and fails
// the test if none comes within testLockWait: a lock that ignored its
// context must fail the test, not hang the package.
func recv(t testing.TB, results <-chan error) error {
	t.Helper()
	select {
	case err := <-results:
		return err
	case <-time.After(testLockWait):
		t.Fatalf("no result within %v", testLockWait)
		return nil
	}
}

// lockWithin acquires l as Lock does, but gives up after testLockWait.
func lockWithin(l *Lock) error {
	ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
	defer cancel()
	return l.LockContext(ctx)
}

// octalMode reads a mode written in octal, such as 1777.
func octalMode(s string) fs.FileMode {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		panic(err)
	}
	mode := fs.FileMode(n & 0o777)
	if n&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	if n&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	return mode
}
