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
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

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

// stopPoll is how often a worker looks at the stop signal (sent on an
// interrupt): rarely, since a waiting worker should cost what its lock
// costs, not what the harness does.
const stopPoll = 500 * time.Millisecond

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

func (w *worker) result() workerResult {
	lat, _ := w.latency.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	hold, _ := w.hold.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	return workerResult{
		Worker: w.spec.Worker, Incarnation: w.spec.Incarnation, Acquisitions: w.acquired,
		Latency: lat, Hold: hold, Errors: w.errors, Occupied: w.occupied, CPUNs: int64(w.cpu), AdapterCPUNs: int64(w.adapterCPU),
		AllocBytes: w.allocBytes, Allocs: w.allocs, GCs: w.gcs, MeteredAcquisitions: w.metered,
	}
}

// randomID returns 12 random hex digits.
func randomID() string {
	var b [6]byte
	_, _ = crand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
