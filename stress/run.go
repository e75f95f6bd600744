package stress

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lockstress/lockstress/stress/detect"
)

// Timing of the parent.
const (
	// startTimeout bounds the wait for every worker to reach the barrier.
	startTimeout = 60 * time.Second
	// restartMargin: a killed worker is not restarted this close to the
	// end of the run.
	restartMargin = 50 * time.Millisecond
	// meterLead: after a warm-up, the workers begin to meter their
	// processor time and memory this long (or half the warm-up, if that
	// is shorter) before the measured run begins. Each must wake to read
	// its counters, and all of them waking at once stalls the machine for
	// milliseconds (seen: 5–7 ms with 16 workers on 2 cores), which must
	// not fall on the first measured waits. The processor share is taken
	// over the metered time, so it stays a share.
	meterLead = 100 * time.Millisecond
)

// Run runs the workers as configured and returns their report.
//
// It makes the run directory, starts Config.Procs worker processes that
// all begin together at a barrier, lets them acquire and release the lock
// until Config.Warmup and then Config.Duration have passed, injects the
// configured faults, and
// waits for them (killing any that hang). Then it merges their results,
// runs the verifiers and removes everything it made (except, with Join,
// the shared run directory).
//
// The error is for runs that could not be made: an invalid Config (errors
// match ErrInvalidConfig), a directory that cannot be used (an
// *fs.PathError naming it), or workers that cannot be started. Everything
// that happened once the workers ran (violations, worker failures) is in
// the report. Cancelling ctx ends the run early; its report says it was
// interrupted. Cancelled while the workers are being started, Run kills
// those it started and returns an error matching ctx.Err(): none began.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg}
	defer func() {
		if cerr := r.cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := r.setup(); err != nil {
		r.leaveRun()
		return nil, err
	}
	if err := r.spawn(ctx); err != nil {
		r.leaveRun()
		return nil, err
	}
	r.supervise(ctx)
	hd, err := r.collect()
	if err != nil {
		return nil, err
	}
	if cfg.Join {
		if err := r.saveHost(hd); err != nil {
			return nil, err
		}
		var unread []string
		hd.killedElsewhere, unread = otherHostsKills(r.runDir, r.hostDir)
		for _, u := range unread {
			hd.Failures = append(hd.Failures, Failure{Worker: "kill notes", Reason: "the other hosts' kills unknown: " + u})
		}
	}
	// One host's share of a shared run: what only the whole run can
	// tell is left to Verify.
	rep, err = assemble([]*hostData{hd}, cfg.MaxExamples, cfg.Join)
	if rep != nil {
		rep.Swept = r.swept
	}
	return rep, err
}

// leaveRun removes the directory of this host in a shared run that it
// made but never ran in (its set-up failed), so that Verify does not take
// it for a host that did not finish.
func (r *runner) leaveRun() {
	if r.hostDir != "" {
		_ = os.Remove(r.hostDir)
	}
}

// runner is the parent's state during Run.
type runner struct {
	cfg   Config
	runID string

	removeDir  string // made by the run, removed at the end
	runDir     string
	hostDir    string // Join only
	scratch    string
	logDir     string
	regionPath string
	lockPath   string
	ledgerPath string
	fs         Filesystem
	// reopenLedger: workers open and close the ledger in every critical
	// section (network and unknown filesystems, shared runs).
	reopenLedger bool

	reg     *region
	workers []*workerRun
	swept   []string // directories of dead runs removed

	origin   int64 // CLOCK_MONOTONIC at the barrier
	from     int64 // the end of the warm-up: the measured run begins
	meter    int64 // the workers meter from here on (meterLead)
	deadline int64
	end      int64
	started  time.Time

	mu          sync.Mutex // guards the fields below
	interrupted bool
	kills       []KillEvent
	stops       []StopEvent
	chaosErr    error // a kill or death could not be noted for the other hosts (noteKill)
}

// workerStarted, when set (by tests), is called after worker i has been
// started.
var workerStarted func(i int)

// spawn starts the workers, waits until all are at the barrier, and opens
// it.
func (r *runner) spawn(ctx context.Context) error {
	br, bw, err := os.Pipe()
	if err != nil {
		return err
	}
	defer bw.Close()
	for i, wr := range r.workers {
		if ctx.Err() != nil {
			// Interrupted while starting (many) workers: none has begun.
			err = fmt.Errorf("interrupted after starting %d of %d workers, before any began: %w", i, len(r.workers), ctx.Err())
		} else if _, err = r.start(wr, 0, br); err == nil && workerStarted != nil {
			workerStarted(i)
		}
		if err != nil {
			br.Close()
			r.abort()
			return err
		}
	}
	br.Close()
	hdr := r.reg.hdr
	ready := false
	t0 := time.Now()
	for !ready && time.Since(t0) < startTimeout && ctx.Err() == nil && !r.anyExited() {
		time.Sleep(2 * time.Millisecond)
		ready = hdr.ready.Load() >= int64(r.cfg.Procs)
	}
	r.started = time.Now()
	r.origin = monotime()
	r.from = r.origin + int64(r.cfg.Warmup)
	r.meter = r.from - int64(min(r.cfg.Warmup/2, meterLead))
	r.deadline = r.from + int64(r.cfg.Duration)
	if !ready {
		// Some worker died or never came: start none of them. The
		// failures are reported like any others.
		r.from, r.meter, r.deadline = r.origin, r.origin, r.origin
		hdr.stop.Store(1)
		if ctx.Err() != nil {
			r.setInterrupted()
		}
	}
	hdr.measureFrom.Store(r.from)
	hdr.meterFrom.Store(r.meter)
	hdr.deadline.Store(r.deadline)
	return bw.Close()
}

func (r *runner) anyExited() bool {
	for _, wr := range r.workers {
		if p := wr.current(); p != nil && p.exited() {
			return true
		}
	}
	return false
}

// abort kills every worker started so far and waits for them.
func (r *runner) abort() {
	for _, wr := range r.workers {
		for _, p := range wr.all() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

func (r *runner) setInterrupted() {
	r.mu.Lock()
	r.interrupted = true
	r.mu.Unlock()
}

// supervise waits for the workers, restarting those the fault injector
// killed, and kills those still running a grace period after the end.
func (r *runner) supervise(ctx context.Context) {
	allDone := r.keepAll()
	// Fault injection and progress stop at the deadline, or earlier if ctx
	// is cancelled; faults begin after the warm-up.
	endWall := r.started.Add(time.Duration(r.deadline - r.origin))
	hctx, hcancel := context.WithDeadline(ctx, endWall)
	background := r.startBackground(hctx, allDone)
	hung := r.awaitWorkers(ctx, allDone, endWall)
	r.end = min(monotime(), r.deadline)
	if r.interrupted {
		r.end = monotime()
	}
	hcancel()
	background.Wait()
	hung.Wait()
}

// keepAll keeps every worker running (keep), and returns a channel closed
// once all have ended.
func (r *runner) keepAll() <-chan struct{} {
	var wg sync.WaitGroup
	for _, wr := range r.workers {
		wg.Go(func() { r.keep(wr) })
	}
	allDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(allDone)
	}()
	return allDone
}

// startBackground starts the fault injector, at the end of the warm-up,
// and the progress line, both until hctx is done.
func (r *runner) startBackground(hctx context.Context, allDone <-chan struct{}) *sync.WaitGroup {
	background := new(sync.WaitGroup)
	if r.cfg.faults() && r.deadline > r.from {
		background.Go(func() {
			if sleepUntil(hctx, r.started.Add(time.Duration(r.from-r.origin))) {
				r.chaos(hctx)
			}
		})
	}
	if r.cfg.Progress != nil {
		background.Go(func() { r.progress(hctx, allDone) })
	}
	return background
}

// awaitWorkers waits until every worker has ended. When ctx is done it
// asks them to stop; those still running a grace period after the end of
// the run, or after that request, are killed in the background, which the
// group returned waits for.
func (r *runner) awaitWorkers(ctx context.Context, allDone <-chan struct{}, endWall time.Time) *sync.WaitGroup {
	grace := time.NewTimer(time.Until(endWall.Add(r.cfg.Grace)))
	defer grace.Stop()
	done := ctx.Done()
	hung := new(sync.WaitGroup)
	for {
		select {
		case <-allDone:
			return hung
		case <-done:
			done = nil
			r.setInterrupted()
			r.reg.hdr.stop.Store(1)
			grace.Reset(r.cfg.Grace)
		case <-grace.C:
			running := r.running()
			why := fmt.Sprintf("hung: still running %v after the end of the run; killed", r.cfg.Grace)
			hung.Go(func() { killHung(running, why) })
		}
	}
}

// running returns the workers' processes that run now.
func (r *runner) running() []*proc {
	var running []*proc
	for _, wr := range r.workers {
		if p := wr.current(); p != nil {
			running = append(running, p)
		}
	}
	return running
}

// keep waits for a worker's process and restarts it while the fault
// injector kills it.
func (r *runner) keep(wr *workerRun) {
	for {
		p := wr.current()
		<-p.done
		killed, entry := p.wasKilled()
		if !killed {
			r.reapDead(wr, p)
			return
		}
		if !r.cfg.DetectorsOff {
			r.appendKilled(wr.id, p.incarnation, entry)
		}
		if monotime() > r.deadline-int64(restartMargin) || r.reg.hdr.stop.Load() != 0 {
			return
		}
		if _, err := r.start(wr, p.incarnation+1, nil); err != nil {
			// Reported as the failure of a worker that has no process.
			wr.mu.Lock()
			wr.procs = append(wr.procs, startFailed(incarnationName(wr.name, p.incarnation+1), err))
			wr.mu.Unlock()
			return
		}
	}
}

// reapDead takes back what a worker that died inside the critical section
// left: its share of the occupancy counter, and the acquisition it was in,
// which goes into its log so that the ledger verifier knows whose record
// the next holder found.
func (r *runner) reapDead(wr *workerRun, p *proc) {
	slot := &r.reg.slots[wr.id]
	if p.cmd == nil || slot.phase.Load() == phaseOut {
		return
	}
	if !r.cfg.DetectorsOff {
		r.reg.noteKilled(slot.nonce.Load())
		if err := r.noteKill(slot.nonce.Load()); err != nil {
			r.addChaosErr(fmt.Errorf("noting a death for the other hosts of the run: %w", err))
		}
		r.reg.hdr.occupancy.Add(-1)
		e := slot.entry(detect.FlagDied)
		e.Released = e.Acquired
		r.appendKilled(wr.id, p.incarnation, e)
	}
	slot.phase.Store(phaseOut)
}

// startFailed is a proc that stands for a process that could not start.
func startFailed(name string, err error) *proc {
	p := &proc{name: name, done: make(chan struct{}), err: err}
	close(p.done)
	return p
}

// appendKilled adds the acquisition a killed worker was in to its log: the
// worker itself cannot.
func (r *runner) appendKilled(worker, inc int, e detect.Entry) {
	name := filepath.Join(r.logDir, detect.LogName(worker, inc))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return // the worker died before it made its log: nothing to add to
	}
	defer f.Close()
	_, _ = f.Write(detect.AppendEntry(nil, e))
}

func (r *runner) cleanup() error {
	var errs []error
	if r.reg != nil {
		errs = append(errs, r.reg.close())
	}
	if r.scratch != "" {
		errs = append(errs, os.RemoveAll(r.scratch))
	}
	if r.removeDir != "" {
		errs = append(errs, os.RemoveAll(r.removeDir))
	}
	return errors.Join(errs...)
}
