package stress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lockstress/lockstress/stress/detect"
)

// stderrTail is how much of a worker's standard error is kept.
const stderrTail = 8 << 10

// tailBuffer keeps the last stderrTail bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - stderrTail; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// proc is one worker process: one incarnation of a worker.
type proc struct {
	name        string
	incarnation int
	cmd         *exec.Cmd
	stdout      bytes.Buffer
	stderr      tailBuffer
	done        chan struct{}
	err         error // from Wait, once done is closed

	mu        sync.Mutex
	killed    bool         // by the fault injector
	killEntry detect.Entry // the log entry of the killed acquisition
	hung      string       // why it was killed as hung
}

// workerRun is one worker: the processes that ran as it, one after the
// other.
type workerRun struct {
	id   int
	name string

	mu    sync.Mutex
	procs []*proc
}

func (wr *workerRun) current() *proc {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	if len(wr.procs) == 0 {
		return nil
	}
	return wr.procs[len(wr.procs)-1]
}

func (wr *workerRun) all() []*proc {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	return append([]*proc(nil), wr.procs...)
}

// spec is what incarnation inc of the worker is told.
func (r *runner) spec(wr *workerRun, inc int, barrier bool) workerSpec {
	spec := workerSpec{
		Run: r.runID, Host: r.cfg.Host, Worker: wr.id, Workers: r.cfg.Procs, Incarnation: inc, Owner: wr.name,
		Strategy: r.cfg.Strategy, Fair: r.cfg.Fair, Barging: r.cfg.Barging, Polling: r.cfg.Polling,
		NoDeadline: r.cfg.NoDeadline, LockPath: r.lockPath, Region: r.regionPath, Detectors: !r.cfg.DetectorsOff,
		LedgerPath: r.ledgerPath, ReopenLedger: r.reopenLedger, LogDir: r.logDir, Hold: r.cfg.Hold, Think: r.cfg.Think, Timeout: r.cfg.Timeout,
		StaleAfter: r.cfg.StaleAfter,
		Seed:       r.cfg.Seed, Barrier: barrier, MaxExamples: r.cfg.MaxExamples,
		Adapter: adapterTimeouts{Start: adapterStartTimeout, Slack: adapterSlack},
	}
	if r.hostDir != "" { // a host of a shared run
		spec.RunDir, spec.HostDir = r.runDir, r.hostDir
	}
	return spec
}

// start starts incarnation inc of the worker. With a barrier the worker
// waits for EOF on it before it begins.
func (r *runner) start(wr *workerRun, inc int, barrier *os.File) (*proc, error) {
	js, err := json.Marshal(r.spec(wr, inc, barrier != nil))
	if err != nil {
		return nil, err
	}
	p := &proc{name: incarnationName(wr.name, inc), incarnation: inc, done: make(chan struct{})}
	cmd := exec.Command(r.cfg.Executable, r.cfg.Args...)
	cmd.Env = append(append(os.Environ(), r.cfg.Env...), workerEnv+"="+string(js), "GOMAXPROCS=1", workerGORACE())
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	if barrier != nil {
		cmd.ExtraFiles = []*os.File{barrier}
	}
	cmd.SysProcAttr = workerAttr()
	// A process the worker left behind (an adapter's child) may hold its
	// output open: Wait gives it this long once the worker has exited,
	// and then whatever is left of the worker's process group is killed.
	cmd.WaitDelay = leftoverDelay
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting worker %s: %w", p.name, err)
	}
	p.cmd = cmd
	wr.mu.Lock()
	wr.procs = append(wr.procs, p)
	wr.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		killGroup(cmd.Process.Pid)
		close(p.done)
	}()
	return p, nil
}

// workerGORACE returns the GORACE setting of workers: the race detector
// (when a worker is built with it) must not sleep for a second before it
// exits, as it does by default, or the worker would look hung.
func workerGORACE() string {
	v := os.Getenv("GORACE")
	if !strings.Contains(v, "atexit_sleep_ms") {
		v = strings.TrimSpace(v + " atexit_sleep_ms=0")
	}
	return "GORACE=" + v
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *proc) wasKilled() (bool, detect.Entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killed, p.killEntry
}

// leftoverDelay is how long a worker's output may stay open after it has
// exited.
const leftoverDelay = 2 * time.Second

// outcome returns the worker's result, or why it has none. It is called
// once the process has exited.
func (p *proc) outcome() (workerResult, *Failure) {
	var res workerResult
	p.mu.Lock()
	hung := p.hung
	p.mu.Unlock()
	reason := ""
	var exit *exec.ExitError
	switch {
	case hung != "":
		reason = hung
	case errors.As(p.err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			reason = fmt.Sprintf("killed by signal %v", ws.Signal())
		} else {
			reason = fmt.Sprintf("exited with status %d", exit.ExitCode())
		}
	case errors.Is(p.err, exec.ErrWaitDelay):
		reason = fmt.Sprintf("left processes holding its output open after it exited (an adapter's children?): killed after %v", leftoverDelay)
	case p.err != nil:
		reason = p.err.Error()
	default:
		if err := json.Unmarshal(p.stdout.Bytes(), &res); err != nil {
			reason = fmt.Sprintf("exited without a readable result: %v", err)
		}
	}
	if reason == "" {
		return res, nil
	}
	return res, &Failure{Worker: p.name, PID: p.pid(), Reason: reason, Stderr: strings.TrimRight(p.stderr.String(), "\n")}
}

// killHung kills the processes that are still running: first SIGQUIT, so
// that a Go worker writes its goroutines' stacks to its standard error,
// then, after a second, SIGKILL.
func killHung(procs []*proc, why string) {
	var running []*proc
	for _, p := range procs {
		if !p.exited() {
			p.mu.Lock()
			p.hung = why
			p.mu.Unlock()
			running = append(running, p)
			_ = p.cmd.Process.Signal(sigCont) // a stopped process cannot quit
			_ = p.cmd.Process.Signal(sigQuit)
		}
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	expired := false
	for _, p := range running {
		if !expired {
			select {
			case <-p.done:
			case <-t.C:
				expired = true
			}
		}
		_ = p.cmd.Process.Kill()
	}
}
