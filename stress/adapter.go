package stress

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// An adapter is a program that takes and releases a lock that lockstress
// does not implement itself (another library, another language, a shell
// tool), so that the same detectors and figures apply to it. Each worker
// starts one adapter process and drives it over a pipe, one line per
// message:
//
//	adapter → worker   ready [TEXT]      once, when it is ready to take requests
//	worker → adapter   lock MS           acquire; wait at most MS milliseconds (0: try once)
//	adapter → worker   ok | timeout | error TEXT
//	worker → adapter   unlock            release
//	adapter → worker   ok | error TEXT
//
// The adapter is run by /bin/sh as `exec COMMAND LOCKPATH`, with LOCKPATH
// also in the environment as LOCKSTRESS_LOCK. End of input means the
// run is over: the adapter releases what it holds and exits. Anything it
// writes to standard error ends up in the worker's. docs/lockstress.md
// documents the protocol for adapter writers.

// execPrefix starts the name of a strategy that drives an adapter.
const execPrefix = "exec:"

// ErrAdapter reports an adapter that broke the protocol: it could not be
// started, exited, answered something else than the protocol allows, or
// did not answer in time. A worker stops at the first one.
var ErrAdapter = errors.New("lock adapter failed")

// adapterLockEnv names the lock file in the adapter's environment.
const adapterLockEnv = "LOCKSTRESS_LOCK"

// How long an adapter may take beyond what it was asked: to say ready
// after it was started, and to answer a request (beyond the wait a lock
// request allows). The worker spec carries them, so tests can shorten them.
var (
	adapterStartTimeout = 30 * time.Second
	adapterSlack        = 5 * time.Second
)

// maxAdapterLine bounds a line of the adapter's output.
const maxAdapterLine = 4096

// Exec returns the Strategy that drives the adapter that command starts
// (see the protocol above). Its name is "exec:" followed by command.
func Exec(command string) Strategy {
	return Strategy{name: execPrefix + command, adapter: command}
}

// Adapter returns the command of an adapter strategy, or "".
func (s Strategy) Adapter() string { return s.adapter }

// adapterTimeouts are what a worker is told of adapterStartTimeout and
// adapterSlack.
type adapterTimeouts struct {
	Start time.Duration `json:"start"`
	Slack time.Duration `json:"slack"`
}

// adapterLock is a locker that drives an adapter process.
type adapterLock struct {
	command string
	path    string
	t       adapterTimeouts
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan string   // the adapter's output; closed at its end
	readErr error         // why lines was closed; read after it is
	stdout  io.Closer     // the read end of the adapter's output
	exited  chan struct{} // closed when the process has been waited for
	waitErr error         // read after exited is closed
	broken  error         // the first protocol error; every later call returns it
	killed  bool          // the adapter has been killed
}

// startAdapter starts the adapter for the lock at path and waits until it
// is ready.
func startAdapter(command, path string, t adapterTimeouts) (*adapterLock, error) {
	a := &adapterLock{command: command, path: path, t: t, lines: make(chan string), exited: make(chan struct{})}
	a.cmd = exec.Command("/bin/sh", "-c", "exec "+command+` "$@"`, "lockstress-adapter", path)
	env := []string{adapterLockEnv + "=" + path}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, workerEnv+"=") && !strings.HasPrefix(kv, "GOMAXPROCS=") {
			env = append(env, kv)
		}
	}
	a.cmd.Env = env
	a.cmd.Stderr = os.Stderr
	a.cmd.SysProcAttr = adapterAttr()
	var err error
	if a.stdin, err = a.cmd.StdinPipe(); err != nil {
		return nil, a.fail("start", err)
	}
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		return nil, a.fail("start", err)
	}
	a.stdout = stdout
	if err := a.cmd.Start(); err != nil {
		return nil, a.fail("start", err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		a.read(stdout)
	}()
	go func() {
		// Wait closes the pipe: it must not run before the output has
		// been read to its end.
		<-readDone
		a.waitErr = a.cmd.Wait()
		close(a.exited)
	}()
	line, err := a.reply(context.Background(), "start", t.Start)
	if err == nil && line != "ready" && !strings.HasPrefix(line, "ready ") {
		err = a.fail("start", fmt.Errorf("first line %q, want \"ready\"", line))
	}
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// read sends the adapter's output to a.lines, line by line.
func (a *adapterLock) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 256), maxAdapterLine)
	for sc.Scan() {
		a.lines <- strings.TrimSuffix(sc.Text(), "\r")
	}
	a.readErr = sc.Err()
	close(a.lines)
}

// fail records and returns a protocol error.
func (a *adapterLock) fail(op string, err error) error {
	if a.broken == nil {
		a.broken = fmt.Errorf("%w: %q (lock %s), %s: %w", ErrAdapter, a.command, a.path, op, err)
	}
	return a.broken
}

// awaitExit gives the adapter, its input closed, a moment to exit, kills
// it if it does not, and waits for it.
func (a *adapterLock) awaitExit() {
	select {
	case <-a.exited:
		return
	case <-time.After(a.t.Slack):
		a.kill()
	}
	select {
	case <-a.exited:
	case <-time.After(time.Second):
		// Killed, and still not done a second later: a process it
		// started holds its output open. Stop reading, so that it can
		// be waited for.
		a.stdout.Close()
		<-a.exited
	}
}

// reply waits up to d for the adapter's next line. If ctx is cancelled
// (not merely past its deadline: the adapter itself answers "timeout" then)
// it kills the adapter and returns ctx.Err().
func (a *adapterLock) reply(ctx context.Context, op string, d time.Duration) (string, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	done := ctx.Done()
	for {
		select {
		case line, ok := <-a.lines:
			if ok {
				return line, nil
			}
			if a.readErr != nil {
				return "", a.fail(op, fmt.Errorf("reading its output: %w", a.readErr))
			}
			return "", a.fail(op, fmt.Errorf("it closed its output (%s)", a.status()))
		case <-t.C:
			a.kill()
			return "", a.fail(op, fmt.Errorf("no answer within %v: killed it", d.Round(time.Millisecond)))
		case <-done:
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				done = nil
				continue
			}
			// Cut short by the worker, not broken: every later call
			// returns the cancellation, and Close no error.
			a.kill()
			if a.broken == nil {
				a.broken = ctx.Err()
			}
			return "", ctx.Err()
		}
	}
}

// status describes how the adapter ended, waiting a moment for it.
func (a *adapterLock) status() string {
	select {
	case <-a.exited:
	case <-time.After(time.Second):
		return "still running"
	}
	if a.waitErr == nil {
		return "exited with status 0"
	}
	return a.waitErr.Error()
}

func (a *adapterLock) send(op, msg string) error {
	if _, err := io.WriteString(a.stdin, msg+"\n"); err != nil {
		return a.fail(op, fmt.Errorf("writing %q: %w (%s)", msg, err, a.status()))
	}
	return nil
}

// adapterTimeoutError is an adapter's "timeout" to a request to wait up
// to wait, answered after took: it matches context.DeadlineExceeded.
type adapterTimeoutError struct{ wait, took time.Duration }

func (e adapterTimeoutError) Error() string {
	return fmt.Sprintf("adapter: not acquired: asked to wait up to %v, it answered timeout after %v",
		e.wait.Round(time.Millisecond), e.took.Round(time.Millisecond))
}
func (adapterTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// LockContext asks the adapter to acquire, waiting at most until ctx's
// deadline (a context without one waits a day). Cancelling ctx kills the
// adapter: it cannot be asked to stop waiting.
func (a *adapterLock) LockContext(ctx context.Context) error {
	if a.broken != nil {
		return a.broken
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	wait := 24 * time.Hour // no deadline: as good as forever
	if dl, ok := ctx.Deadline(); ok {
		wait = max(time.Until(dl), 0)
	}
	ms := (wait + time.Millisecond - 1) / time.Millisecond
	asked := time.Now()
	if err := a.send("lock", "lock "+strconv.FormatInt(int64(ms), 10)); err != nil {
		return err
	}
	line, err := a.reply(ctx, "lock", wait+a.t.Slack)
	if err != nil {
		return err
	}
	switch {
	case line == "ok":
		return nil
	case line == "timeout":
		return adapterTimeoutError{wait: ms * time.Millisecond, took: time.Since(asked)}
	case line == "error" || strings.HasPrefix(line, "error "):
		return fmt.Errorf("adapter: %s", strings.TrimSpace(strings.TrimPrefix(line, "error")))
	}
	return a.fail("lock", fmt.Errorf("answer %q, want ok, timeout or error TEXT", line))
}

// Unlock asks the adapter to release.
func (a *adapterLock) Unlock() error {
	if a.broken != nil {
		return a.broken
	}
	if err := a.send("unlock", "unlock"); err != nil {
		return err
	}
	line, err := a.reply(context.Background(), "unlock", a.t.Slack)
	switch {
	case err != nil:
		return err
	case line == "ok":
		return nil
	case line == "error" || strings.HasPrefix(line, "error "):
		return fmt.Errorf("adapter: %s", strings.TrimSpace(strings.TrimPrefix(line, "error")))
	}
	return a.fail("unlock", fmt.Errorf("answer %q, want ok or error TEXT", line))
}

// cpu returns the CPU time, user and system, that the adapter's process,
// and the children it waited for, have used so far: from /proc while it
// is there (a zombie's too), to its ticks; from the kernel's own account
// once it has been waited for. False if it cannot be known (not on Linux).
func (a *adapterLock) cpu() (time.Duration, bool) {
	if d, ok := a.waitedCPU(); ok {
		return d, true
	}
	d, err := processCPU(a.cmd.Process.Pid)
	if err == nil {
		return d, true
	}
	// Reaped by cmd.Wait, and exited about to be closed.
	select {
	case <-a.exited:
		return a.waitedCPU()
	case <-time.After(time.Second):
		return 0, false
	}
}

// waitedCPU is cpu once the adapter has been waited for.
func (a *adapterLock) waitedCPU() (time.Duration, bool) {
	select {
	case <-a.exited:
		if ps := a.cmd.ProcessState; ps != nil {
			return ps.UserTime() + ps.SystemTime(), true
		}
	default:
	}
	return 0, false
}

// kill kills the adapter.
func (a *adapterLock) kill() {
	a.killed = true
	_ = a.cmd.Process.Kill()
}

// Close ends the adapter's input, gives it a moment to exit and kills it
// if it does not, and waits for it. It returns an error if the adapter
// broke the protocol.
func (a *adapterLock) Close() error {
	if a.stdin != nil {
		a.stdin.Close()
	}
	if a.cmd.Process == nil {
		return a.broken
	}
	// Drain the output meanwhile: the process is waited for only after
	// its output has been read to the end.
	drained := make(chan struct{})
	go func() {
		for range a.lines {
		}
		close(drained)
	}()
	if a.killed {
		// Killed already (it did not answer, or the wait was cancelled):
		// what it wrote since is of no use, and a process it started (a
		// shell's command waiting for the lock) may hold its output open
		// for as long as it lives, until the worker's exit ends it.
		a.stdout.Close()
		<-a.exited
	} else {
		a.awaitExit()
	}
	<-drained
	if !errors.Is(a.broken, ErrAdapter) {
		return nil // cancelled, if anything
	}
	return a.broken
}
