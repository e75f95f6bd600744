package stress

import (
	"context"
	"errors"
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lockstress/lockstress/filelock"
	"github.com/lockstress/lockstress/stress/detect"
)

// histMax is the largest value a histogram records (detect.NewLatencyHistogram).
const histMax = int64(time.Hour)

func newHistogram() *hdrhistogram.Histogram { return detect.NewLatencyHistogram() }

func record(h *hdrhistogram.Histogram, v int64) {
	_ = h.RecordValue(min(max(v, 1), histMax)) // in range: cannot fail
}

// logBatch is how many log entries a worker collects before it writes
// them: a write per acquisition would cost more than all the detectors. A
// worker killed by the fault injector loses the entries it has not written
// yet; what it wrote is whole entries.
const logBatch = 128

// maxConsecutiveErrors is how many acquisitions in a row may fail with an
// error other than a timeout before the worker gives up.
const maxConsecutiveErrors = 100

// cycle makes one acquisition: acquire, critical section, release, think.
func (w *worker) cycle(ctx context.Context) error {
	nonce := w.nonce.Uint64() | 1 // never 0
	w.slot.nonce.Store(nonce)
	actx, cancel := w.acquireContext(ctx)
	start := monotime()
	err := w.lock.LockContext(actx)
	cancel()
	if err != nil {
		return w.acquireFailed(ctx, err)
	}
	w.consecutive = 0
	acq := monotime()
	if acq >= w.deadline || ctx.Err() != nil {
		// Taken after the end of the run: outside the measured window,
		// like the waits that the end cut short, and taken while the
		// other workers cancel their waits and exit, which is no
		// condition of the run. Released at once, not counted.
		w.release()
		return nil
	}
	measured := w.count(start, acq)
	rel, err, uerr := w.critical(acq, nonce, measured)
	if err := w.logCycle(acq, rel, nonce, measured, err, uerr); err != nil {
		return err
	}
	w.sleep(w.spec.Think.Sample(w.rng))
	return nil
}

// release releases the lock, counting a failure, and returns its error.
func (w *worker) release() error {
	err := w.lock.Unlock()
	if err != nil {
		w.countError("release", err)
	}
	return err
}

// critical runs the critical section of the acquisition made at acq with
// nonce, and releases the lock; it returns when the lock was released,
// the critical section's error and the release's.
func (w *worker) critical(acq int64, nonce uint64, measured bool) (rel int64, err, uerr error) {
	err = w.enter(acq, nonce)
	if err == nil {
		w.sleep(w.spec.Hold.Sample(w.rng))
	}
	err = errors.Join(err, w.leave())
	rel = monotime()
	uerr = w.release()
	// The share of the run the lock was held counts no time outside it:
	// none of the warm-up, and none past its end (a hold cut at the end
	// overruns it by the sleep's lateness).
	w.slot.holdNanos.Add(max(min(rel, w.deadline)-max(acq, w.from), 0))
	if measured {
		record(w.hold, rel-acq)
	}
	return rel, err, uerr
}

// logCycle logs the acquisition held from acq to rel, and returns what
// ends the worker: the critical section's error err (the acquisition then
// logged as abandoned), an adapter's failure to release (uerr), or the
// log's.
func (w *worker) logCycle(acq, rel int64, nonce uint64, measured bool, err, uerr error) error {
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
		return w.logEntry(acq, rel, measured)
	}
	return nil
}

// acquireContext returns the context of an acquisition, as the run's
// options say: ctx, within the timeout of one acquisition if any, or none
// when the run waits without a deadline.
func (w *worker) acquireContext(ctx context.Context) (context.Context, context.CancelFunc) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if w.spec.Timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, w.spec.Timeout)
	}
	if w.spec.NoDeadline {
		actx = context.Background() // nothing to cancel: see Config.NoDeadline
	}
	return actx, cancel
}

// acquireFailed counts an acquisition that failed with err, and returns
// the error that ends the worker, or nil to go on.
func (w *worker) acquireFailed(ctx context.Context, err error) error {
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

// count counts an acquisition made at acq whose wait began at start, and
// reports whether it is measured: one whose wait began in the warm-up is
// left out of the figures, though the detectors check it like any other.
func (w *worker) count(start, acq int64) (measured bool) {
	measured = start >= w.from
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
	return measured
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
