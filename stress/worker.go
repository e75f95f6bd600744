package stress

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lockstress/lockstress/filelock"
	"github.com/lockstress/lockstress/stress/detect"
)

// workerEnv is the environment variable that makes a process a worker; its
// value is the workerSpec as JSON.
const workerEnv = "LOCKSTRESS_WORKER"

// RunWorkerIfChild runs the worker loop and exits if this process was
// started by Run as a worker; otherwise it returns at once. A program that
// runs the harness (the default Config.Executable is the program itself)
// calls it first thing in main, and a test binary in TestMain.
func RunWorkerIfChild() {
	spec, ok := os.LookupEnv(workerEnv)
	if !ok {
		return
	}
	os.Exit(workerMain(spec, os.Stdout, os.Stderr))
}

// workerSpec is what a worker process is told.
type workerSpec struct {
	Run         string   `json:"run"`
	Host        string   `json:"host"`
	Worker      int      `json:"worker"`
	Workers     int      `json:"workers"`
	Incarnation int      `json:"incarnation"`
	Owner       string   `json:"owner"`
	Strategy    Strategy `json:"strategy"`
	Fair        bool     `json:"fair,omitempty"`
	Barging     bool     `json:"barging,omitempty"`
	Polling     bool     `json:"polling,omitempty"`
	NoDeadline  bool     `json:"no_deadline,omitempty"` // wait without the run's deadline
	LockPath    string   `json:"lock"`
	Region      string   `json:"region"`
	Detectors   bool     `json:"detectors"`
	LedgerPath  string   `json:"ledger,omitempty"`
	// ReopenLedger makes the worker open and close the ledger in every
	// critical section and use pread and pwrite, for the close-to-open
	// consistency of network filesystems; otherwise it maps the ledger
	// into memory once.
	ReopenLedger bool          `json:"reopen_ledger,omitempty"`
	LogDir       string        `json:"log_dir,omitempty"`
	Hold         Dist          `json:"hold"`
	Think        Dist          `json:"think"`
	Timeout      time.Duration `json:"timeout"`
	StaleAfter   time.Duration `json:"stale_after,omitempty"`
	Seed         uint64        `json:"seed"`
	Barrier      bool          `json:"barrier"` // wait for EOF on descriptor 3
	MaxExamples  int           `json:"max_examples"`
	// Adapter bounds the answers of an adapter strategy's process.
	Adapter adapterTimeouts `json:"adapter"`
}

// workerResult is what a worker hands back on its standard output.
type workerResult struct {
	Worker       int                   `json:"worker"`
	Incarnation  int                   `json:"incarnation"`
	Acquisitions int64                 `json:"acquisitions"`
	Latency      []byte                `json:"latency"` // HDR histogram, V2 compressed
	Hold         []byte                `json:"hold"`
	Errors       map[string]ErrorCount `json:"errors"`
	Occupied     []detect.Violation    `json:"occupied"`
	// CPUNs is the CPU time (user and system) the process used in the
	// measured run, metered from the start barrier or shortly before the
	// end of the warm-up (meterLead) to the end of its loop; AllocBytes,
	// Allocs and GCs are the memory it allocated in that time, in bytes
	// and objects, and the garbage collections it made, and
	// MeteredAcquisitions its acquisitions whose wait began in it.
	CPUNs int64 `json:"cpu_ns"`
	// AdapterCPUNs is the CPU time of an adapter strategy's process (see
	// adapterLock), metered over the same time: the peer lock's own work
	// and its side of the protocol, which CPUNs leaves out.
	AdapterCPUNs        int64  `json:"adapter_cpu_ns,omitempty"`
	MeteredAcquisitions int64  `json:"metered_acquisitions"`
	AllocBytes          uint64 `json:"alloc_bytes"`
	Allocs              uint64 `json:"allocs"`
	GCs                 uint32 `json:"gcs"`
}

// ErrorCount counts the errors of one kind and keeps the first message.
type ErrorCount struct {
	Count int64  `json:"count"`
	First string `json:"first"`
}

// histMax is the largest value a histogram records (detect.NewLatencyHistogram).
const histMax = int64(time.Hour)

func newHistogram() *hdrhistogram.Histogram { return detect.NewLatencyHistogram() }

func record(h *hdrhistogram.Histogram, v int64) {
	_ = h.RecordValue(min(max(v, 1), histMax)) // in range: cannot fail
}

// stopPoll is how often a worker looks at the stop signal (sent on an
// interrupt): rarely, since a waiting worker should cost what its lock
// costs, not what the harness does.
const stopPoll = 500 * time.Millisecond

// logBatch is how many log entries a worker collects before it writes
// them: a write per acquisition would cost more than all the detectors. A
// worker killed by the fault injector loses the entries it has not written
// yet; what it wrote is whole entries.
const logBatch = 128

// maxConsecutiveErrors is how many acquisitions in a row may fail with an
// error other than a timeout before the worker gives up.
const maxConsecutiveErrors = 100

func workerMain(specJSON string, stdout, stderr io.Writer) int {
	var spec workerSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintf(stderr, "lockstress worker: bad %s: %v\n", workerEnv, err)
		return 2
	}
	w, err := newWorker(spec)
	if err == nil {
		err = w.run()
		err = errors.Join(err, w.close())
	}
	if err != nil {
		fmt.Fprintf(stderr, "lockstress worker %s: %v\n", spec.Owner, err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(w.result()); err != nil {
		fmt.Fprintf(stderr, "lockstress worker %s: writing result: %v\n", spec.Owner, err)
		return 1
	}
	return 0
}

type worker struct {
	spec  workerSpec
	reg   *region
	slot  *regionSlot
	lock  locker
	rng   *rand.Rand // hold and think times
	nonce *rand.Rand // nonces: random, never seeded

	log      *os.File
	logBuf   []byte // entries not written yet, whole ones only
	obs      *os.File
	obsCount int

	latency, hold *hdrhistogram.Histogram
	acquired      int64
	errors        map[string]ErrorCount
	occupied      []detect.Violation
	consecutive   int

	// The ledger while it is open; kept is true when it stays open.
	ledger  ledgerIO
	kept    bool
	entry   detect.Entry
	lastSeq uint64

	rbuf, wbuf []byte
	// from is the end of the warm-up (see Config.Warmup), deadline the end
	// of the run: CLOCK_MONOTONIC times. meterFrom is when the metering
	// of processor time and memory begins (see meterLead); metered counts
	// the acquisitions whose wait began after it.
	from, deadline int64
	meterFrom      int64
	metered        int64

	// What this process used in the measured run: processor time, and
	// memory allocated (bytes and objects) and garbage collections.
	cpu, adapterCPU    time.Duration
	allocBytes, allocs uint64
	gcs                uint32
}

func newWorker(spec workerSpec) (*worker, error) {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // crypto/rand.Read never fails
	w := &worker{
		spec:    spec,
		rng:     rand.New(rand.NewPCG(spec.Seed, uint64(spec.Worker)<<32|uint64(spec.Incarnation))),
		nonce:   rand.New(rand.NewChaCha8(seed)),
		latency: newHistogram(),
		hold:    newHistogram(),
		errors:  map[string]ErrorCount{},
		rbuf:    make([]byte, detect.RecordSize+64),
	}
	var err error
	if w.reg, err = openRegion(spec.Region, spec.Workers); err != nil {
		return nil, err
	}
	w.slot = &w.reg.slots[spec.Worker]
	w.slot.pid.Store(int64(os.Getpid()))
	if w.lock, err = spec.Strategy.member(spec.Worker).newLocker(spec.LockPath, spec.Adapter, spec.lockOptions()...); err != nil {
		w.close()
		return nil, err
	}
	if spec.Detectors {
		name := filepath.Join(spec.LogDir, detect.LogName(spec.Worker, spec.Incarnation))
		w.log, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if err == nil {
			h := detect.LogHeader{Run: spec.Run, Host: spec.Host, Worker: spec.Worker, Incarnation: spec.Incarnation, PID: os.Getpid(), Owner: spec.Owner}
			_, err = w.log.Write(detect.AppendLogHeader(nil, h))
		}
		if err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *worker) close() error {
	var errs []error
	if w.log != nil {
		errs = append(errs, w.flushLog(), w.log.Close())
		w.log = nil
	}
	if w.obs != nil {
		errs = append(errs, w.obs.Close())
		w.obs = nil
	}
	if c, ok := w.lock.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	errs = append(errs, w.closeLedger(true), w.reg.close())
	return errors.Join(errs...)
}

// run waits at the barrier and loops until the deadline.
func (w *worker) run() error {
	hdr := w.reg.hdr
	hdr.ready.Add(1)
	if w.spec.Barrier {
		barrier := os.NewFile(3, "barrier")
		_, _ = io.Copy(io.Discard, barrier) // returns at EOF: the parent closed its end
		barrier.Close()
	}
	w.from, w.meterFrom, w.deadline = hdr.measureFrom.Load(), hdr.meterFrom.Load(), hdr.deadline.Load()
	defer w.meter(w.meterFrom)()
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Duration(w.deadline-monotime())))
	// Stop early when the parent says so. The watcher is waited for: it
	// reads the region, which is unmapped when the worker closes.
	var watcher sync.WaitGroup
	defer watcher.Wait()
	defer cancel()
	watcher.Go(func() {
		// The first look comes at a random moment, so that the workers,
		// which all leave the barrier at once, do not all wake at once
		// at every look.
		t := time.NewTimer(rand.N(stopPoll))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if hdr.stop.Load() != 0 {
					cancel()
					return
				}
				t.Reset(stopPoll)
			}
		}
	})
	for ctx.Err() == nil {
		if err := w.cycle(ctx); err != nil {
			return err
		}
	}
	return nil
}

// meter measures the processor time and the memory this process uses
// from time from (at once if it has passed: see meterLead) until the
// returned function is called, which stores them in w.
func (w *worker) meter(from int64) (stop func()) {
	var mu sync.Mutex
	var start, adapterStart time.Duration
	var mem runtime.MemStats
	started, adapterStarted := false, false
	begin := func() {
		mu.Lock()
		defer mu.Unlock()
		runtime.ReadMemStats(&mem)
		start, started = cpuTime(), true
		adapterStart, adapterStarted = lockProcessCPU(w.lock)
	}
	var t *time.Timer
	if wait := time.Duration(from - monotime()); wait > 0 {
		t = time.AfterFunc(wait, begin)
	} else {
		begin()
	}
	return func() {
		if t != nil {
			t.Stop()
		}
		mu.Lock()
		defer mu.Unlock()
		if started {
			w.cpu = cpuTime() - start
			if end, ok := lockProcessCPU(w.lock); ok && adapterStarted {
				w.adapterCPU = end - adapterStart
			}
			var end runtime.MemStats
			runtime.ReadMemStats(&end)
			w.allocBytes, w.allocs, w.gcs = end.TotalAlloc-mem.TotalAlloc, end.Mallocs-mem.Mallocs, end.NumGC-mem.NumGC
		}
	}
}

// lockProcessCPU returns the CPU time used so far by the process of l's
// own, if it runs in one (an adapter); false if there is none, or if its
// time cannot be known.
func lockProcessCPU(l locker) (time.Duration, bool) {
	if a, ok := l.(*adapterLock); ok {
		return a.cpu()
	}
	return 0, false
}

// cycle makes one acquisition: acquire, critical section, release, think.
func (w *worker) cycle(ctx context.Context) error {
	nonce := w.nonce.Uint64() | 1 // never 0
	w.slot.nonce.Store(nonce)
	actx, cancel := ctx, context.CancelFunc(func() {})
	if w.spec.Timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, w.spec.Timeout)
	}
	if w.spec.NoDeadline {
		actx = context.Background() // nothing to cancel: see Config.NoDeadline
	}
	start := monotime()
	err := w.lock.LockContext(actx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil // the run is over
		}
		if errors.Is(err, ErrAdapter) {
			return err
		}
		kind := w.countError("acquire", err)
		if kind == "timeout" || kind == "would-block" {
			w.consecutive = 0
			return nil
		}
		if w.consecutive++; w.consecutive >= maxConsecutiveErrors {
			return fmt.Errorf("giving up after %d acquisitions in a row failed; the last: %w", w.consecutive, err)
		}
		w.sleep(time.Millisecond)
		return nil
	}
	w.consecutive = 0
	acq := monotime()
	if acq >= w.deadline || ctx.Err() != nil {
		// Taken after the end of the run: outside the measured window,
		// like the waits that the end cut short, and taken while the
		// other workers cancel their waits and exit, which is no
		// condition of the run. Released at once, not counted.
		if uerr := w.lock.Unlock(); uerr != nil {
			w.countError("release", uerr)
		}
		return nil
	}
	// An acquisition whose wait began in the warm-up is left out of the
	// figures; the detectors check it like any other.
	measured := start >= w.from
	if measured {
		record(w.latency, acq-start)
		w.acquired++
		w.slot.acquisitions.Add(1)
		w.slot.warmup.Store(0)
	} else {
		w.slot.warmupAcquisitions.Add(1)
		w.slot.warmup.Store(1)
	}
	if start >= w.meterFrom {
		w.metered++ // what the memory is divided by: see meter
	}
	if hdr := w.reg.hdr; hdr.killPending.Load() != 0 {
		hdr.recoveredAt.CompareAndSwap(0, acq)
	}
	err = w.enter(acq, nonce)
	if err == nil {
		w.sleep(w.spec.Hold.Sample(w.rng))
	}
	err = errors.Join(err, w.leave())
	rel := monotime()
	uerr := w.lock.Unlock()
	if uerr != nil {
		w.countError("release", uerr)
	}
	// The share of the run the lock was held counts no time outside it:
	// none of the warm-up, and none past its end (a hold cut at the end
	// overruns it by the sleep's lateness).
	w.slot.holdNanos.Add(max(min(rel, w.deadline)-max(acq, w.from), 0))
	if measured {
		record(w.hold, rel-acq)
	}
	if err != nil {
		// The ledger may still be held with this acquisition's nonce:
		// log it as abandoned, so that the next holder's finding it held
		// is not taken for a violation.
		if w.log != nil && w.entry.Nonce == nonce {
			w.entry.Flags |= detect.FlagDied
			w.logEntry(acq, rel, measured)
		}
		return err
	}
	if errors.Is(uerr, ErrAdapter) {
		return uerr
	}
	if w.log != nil {
		if err := w.logEntry(acq, rel, measured); err != nil {
			return err
		}
	}
	w.sleep(w.spec.Think.Sample(w.rng))
	return nil
}

// logEntry logs the current acquisition; measured is false for one of the
// warm-up.
func (w *worker) logEntry(acq, rel int64, measured bool) error {
	w.entry.Acquired, w.entry.Released = acq, rel
	if !measured {
		w.entry.Flags |= detect.FlagWarmup
	}
	w.logBuf = detect.AppendEntry(w.logBuf, w.entry)
	if len(w.logBuf) >= logBatch*detect.EntrySize {
		return w.flushLog()
	}
	return nil
}

func (w *worker) flushLog() error {
	if len(w.logBuf) == 0 {
		return nil
	}
	_, err := w.log.Write(w.logBuf)
	w.logBuf = w.logBuf[:0]
	return err
}

// sleep sleeps for d, but not past the deadline.
func (w *worker) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	if left := time.Duration(w.deadline - monotime()); d > left {
		d = left
	}
	if d > 0 {
		sleepPrecise(d)
	}
}

// enter runs the detectors on entry to the critical section.
func (w *worker) enter(acq int64, nonce uint64) error {
	s := w.slot
	s.seq.Store(0)
	s.acquiredAt.Store(acq)
	if !w.spec.Detectors {
		s.phase.Store(phaseInside)
		return nil
	}
	s.phase.Store(phaseEntering)
	n := w.reg.hdr.occupancy.Add(1)
	s.phase.Store(phaseInside)
	if n > 1 {
		w.occupancyViolation(acq, n)
	}
	return w.ledgerEnter(nonce)
}

// leave runs the detectors on leaving the critical section.
func (w *worker) leave() error {
	s := w.slot
	if !w.spec.Detectors {
		s.phase.Store(phaseOut)
		return nil
	}
	err := w.ledgerLeave()
	s.phase.Store(phaseLeaving)
	w.reg.hdr.occupancy.Add(-1)
	s.phase.Store(phaseOut)
	return err
}

// occupancyViolation handles an entry that found the counter at n > 1.
// It is a violation unless every other worker still counted has died: a
// worker that dies inside the critical section stays counted until the
// parent notices, while the kernel may hand its lock on at once.
func (w *worker) occupancyViolation(at, n int64) {
	var others []string
	alive := false
	for _, i := range w.reg.inside(w.spec.Worker) {
		others = append(others, ownerName(w.spec.Host, i, w.spec.Owner))
		// One live worker inside makes it a violation: look no further.
		alive = alive || !processGone(int(w.reg.slots[i].pid.Load()))
	}
	if len(others) > 0 && !alive {
		return
	}
	w.slot.occupied.Add(1)
	if len(w.occupied) >= w.spec.MaxExamples {
		return
	}
	inside := strings.Join(others, ", ")
	if inside == "" {
		inside = "none any more (they left before they could be named)"
	}
	w.occupied = append(w.occupied, detect.Violation{
		Detector: detect.Occupancy, Kind: detect.KindOccupied,
		Workers: append([]string{incarnationName(w.spec.Owner, w.spec.Incarnation)}, others...),
		AtNs:    at,
		Detail:  fmt.Sprintf("the occupancy counter was %d on entry; also in or at the critical section: %s", n, inside),
	})
}

// ledgerIO reads and writes the ledger record at offset 0.
type ledgerIO interface {
	readAt(b []byte) (int, error)
	writeAt(b []byte) error
	close() error
}

// ledgerEnter reads the ledger, which must be released, and writes it held
// with the next sequence number and this acquisition's nonce.
func (w *worker) ledgerEnter(nonce uint64) error {
	if w.ledger == nil {
		f, err := openLedger(w.spec.LedgerPath, !w.spec.ReopenLedger)
		if err != nil {
			return err
		}
		w.ledger, w.kept = f, !w.spec.ReopenLedger
	}
	f := w.ledger
	n, err := f.readAt(w.rbuf)
	if err != nil {
		return &os.PathError{Op: "read", Path: w.spec.LedgerPath, Err: err}
	}
	w.entry = detect.Entry{Nonce: nonce}
	prev := w.lastSeq
	rec, perr := detect.ParseRecord(w.rbuf[:n])
	if perr == nil {
		prev = rec.Seq
		if rec.State != detect.Released {
			w.entry.Flags |= detect.FlagHeld
			w.entry.Seen = rec.Nonce
		}
	} else {
		w.entry.Flags |= detect.FlagTornEntry
	}
	w.entry.Seq = prev + 1
	if w.entry.Flags != 0 {
		w.observe(w.entry.Flags, n, perr)
	}
	w.wbuf = detect.AppendRecord(w.wbuf[:0], detect.Record{Seq: w.entry.Seq, State: detect.Held, Owner: w.spec.Owner, Nonce: nonce})
	if err := f.writeAt(w.wbuf); err != nil {
		return &os.PathError{Op: "write", Path: w.spec.LedgerPath, Err: err}
	}
	w.slot.seq.Store(w.entry.Seq)
	w.lastSeq = max(w.lastSeq, w.entry.Seq)
	return nil
}

// ledgerLeave checks that the ledger still holds this acquisition and
// writes it released.
func (w *worker) ledgerLeave() error {
	f := w.ledger
	if f == nil {
		return nil
	}
	n, err := f.readAt(w.rbuf)
	if err != nil {
		return errors.Join(&os.PathError{Op: "read", Path: w.spec.LedgerPath, Err: err}, w.closeLedger(true))
	}
	var flag detect.Flags
	rec, perr := detect.ParseRecord(w.rbuf[:n])
	switch {
	case perr != nil:
		flag = detect.FlagTornExit
	case rec.State != detect.Held || rec.Nonce != w.entry.Nonce || rec.Seq != w.entry.Seq:
		flag = detect.FlagChanged
		w.entry.Seen = rec.Nonce
	}
	if flag != 0 {
		w.entry.Flags |= flag
		w.observe(flag, n, perr)
	}
	if f := w.entry.Flags; f&^detect.FlagHeld != 0 || f&detect.FlagHeld != 0 && !w.reg.wasKilled(w.entry.Seen) {
		w.slot.ledgerFlags.Add(1)
	}
	w.wbuf = detect.AppendRecord(w.wbuf[:0], detect.Record{Seq: w.entry.Seq, State: detect.Released, Owner: w.spec.Owner, Nonce: w.entry.Nonce})
	werr := f.writeAt(w.wbuf)
	if werr != nil {
		werr = &os.PathError{Op: "write", Path: w.spec.LedgerPath, Err: werr}
	}
	return errors.Join(werr, w.closeLedger(werr != nil))
}

// closeLedger closes the ledger unless it is kept open; with always it
// closes it in any case.
func (w *worker) closeLedger(always bool) error {
	if w.ledger == nil || w.kept && !always {
		return nil
	}
	f := w.ledger
	w.ledger = nil
	if err := f.close(); err != nil {
		return &os.PathError{Op: "close", Path: w.spec.LedgerPath, Err: err}
	}
	return nil
}

// observe writes what was read into the observations file, for the first
// few observations.
func (w *worker) observe(f detect.Flags, n int, perr error) {
	if w.obsCount >= w.spec.MaxExamples {
		return
	}
	w.obsCount++
	if w.obs == nil {
		var err error
		name := filepath.Join(w.spec.LogDir, detect.ObsName(w.spec.Worker, w.spec.Incarnation))
		if w.obs, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
			w.countError("observe", err)
			return
		}
	}
	o := detect.Observation{Seq: w.entry.Seq, Nonce: w.entry.Nonce, AtNs: monotime(), Flags: f, Record: string(w.rbuf[:n])}
	if perr != nil {
		o.Error = perr.Error()
	}
	b, _ := json.Marshal(o) // plain data: always marshals
	if _, err := w.obs.Write(append(b, '\n')); err != nil {
		w.countError("observe", err)
	}
}

// countError counts err under op and its kind, and returns the kind.
func (w *worker) countError(op string, err error) string {
	kind := errorKind(err)
	key := op + ":" + kind
	c := w.errors[key]
	if c.Count == 0 {
		c.First = err.Error()
	}
	c.Count++
	w.errors[key] = c
	return kind
}

func errorKind(err error) string {
	switch {
	case errors.Is(err, filelock.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, filelock.ErrWouldBlock):
		return "would-block"
	case errors.Is(err, filelock.ErrLockLost):
		return "lock-lost"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other"
}

func (w *worker) result() workerResult {
	lat, _ := w.latency.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	hold, _ := w.hold.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	return workerResult{
		Worker: w.spec.Worker, Incarnation: w.spec.Incarnation, Acquisitions: w.acquired,
		Latency: lat, Hold: hold, Errors: w.errors, Occupied: w.occupied, CPUNs: int64(w.cpu), AdapterCPUNs: int64(w.adapterCPU),
		AllocBytes: w.allocBytes, Allocs: w.allocs, GCs: w.gcs, MeteredAcquisitions: w.metered,
	}
}

// ownerName names worker i of a host as in reports. owner is the name of
// any worker of the same host, which gives the form.
func ownerName(host string, i int, owner string) string {
	if strings.Contains(owner, "/") {
		return fmt.Sprintf("%s/w%d", host, i)
	}
	return fmt.Sprintf("w%d", i)
}

func incarnationName(owner string, inc int) string {
	return detect.LogHeader{Owner: owner, Incarnation: inc}.Name()
}

// randomID returns 12 random hex digits.
func randomID() string {
	var b [6]byte
	_, _ = crand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// lockOptions returns the filelock options beside the strategy.
func (s workerSpec) lockOptions() []filelock.Option {
	// The run's directory is lockstress's own, made without write for
	// others; where it shows write for all none the less (SMB, FAT), the
	// run tests the lock there all the same.
	opts := []filelock.Option{filelock.WithDirectoryWritableByAll()}
	switch {
	case s.StaleAfter < 0:
		opts = append(opts, filelock.WithStaleAfter(0))
	case s.StaleAfter > 0:
		opts = append(opts, filelock.WithStaleAfter(s.StaleAfter))
	}
	if s.Fair {
		opts = append(opts, filelock.WithFair())
	}
	if s.Barging {
		opts = append(opts, filelock.WithBarging())
	}
	if s.Polling {
		opts = append(opts, filelock.WithPolling())
	}
	return opts
}
