package detect

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// latencyMax is the largest latency a histogram of this package records:
// one hour, with three significant digits from one nanosecond.
const latencyMax = int64(time.Hour)

// NewLatencyHistogram returns an empty histogram of durations in
// nanoseconds, from 1ns to an hour, with three significant digits.
func NewLatencyHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, latencyMax, 3) }

// LedgerResult is what VerifyLedger found.
type LedgerResult struct {
	// Entries is the number of log entries read.
	Entries int64 `json:"entries"`
	// LastSeq is the highest sequence number logged.
	LastSeq uint64 `json:"last_seq"`
	// Takeovers counts entries that found the ledger held by a worker that
	// had been killed, or had died, inside the critical section: the
	// expected state after a kill, not a violation.
	Takeovers int64 `json:"takeovers"`
	// Handoffs counts pairs of consecutive sequence numbers, the second
	// not made in a warm-up (FlagWarmup); Retakes those whose two
	// acquisitions were made by the same worker.
	Handoffs int64 `json:"handoffs"`
	Retakes  int64 `json:"retakes"`
	// HandoffNs holds, for each handoff between two workers of one host,
	// the time from the release stamp of the first to the acquisition
	// stamp of the second (one clock: the host's CLOCK_MONOTONIC).
	// Acquisitions ended by a kill are left out.
	HandoffNs *hdrhistogram.Histogram `json:"-"`
	// Violations are the violations found, by kind.
	Violations *Tally `json:"violations"`
	// LogErrors lists logs that could not be read to the end.
	LogErrors []string `json:"log_errors,omitempty"`
}

// IntervalResult is what VerifyIntervals found.
type IntervalResult struct {
	// Intervals is the number of critical sections swept.
	Intervals  int64    `json:"intervals"`
	Violations *Tally   `json:"violations"`
	LogErrors  []string `json:"log_errors,omitempty"`
}

// VerifyLedger merges the logs of every worker, of one host or of many, by
// sequence number and reports the ledger violations they show: a sequence
// number logged twice (KindDuplicate), a worker whose own sequence numbers
// do not increase (KindRegression), and every entry flagged by its worker
// as torn (KindTorn), found held (KindHeld, unless the holder had been
// killed) or changed under it (KindNonceChanged). It keeps the first
// maxExamples violations in full.
//
// Sequence numbers never need a clock, so the logs of hosts without a
// shared clock merge correctly. The merge assumes each log is sorted by
// sequence number, which holds unless the log has a regression: a duplicate
// that a regression moves out of order may go uncounted, but the run has
// failed already.
func VerifyLedger(logs []Log, origins map[string]int64, maxExamples int) (*LedgerResult, error) {
	res := &LedgerResult{Violations: NewTally(maxExamples), HandoffNs: NewLatencyHistogram()}
	killed := map[uint64]bool{}
	for _, l := range logs {
		e, ok, err := lastEntry(l.Path)
		if err != nil {
			return nil, err
		}
		if ok && e.Flags&(FlagKilled|FlagDied) != 0 {
			killed[e.Nonce] = true
		}
	}
	var (
		prev    *cursor
		prevSeq uint64
	)
	visit := func(c *cursor) {
		e := c.e
		res.Entries++
		name := c.log.Header.Name()
		// add counts a violation; its detail is only worked out if it is
		// kept as an example.
		add := func(kind string, detail func() string, workers ...string) {
			v := Violation{Detector: Ledger, Kind: kind, Workers: append([]string{name}, workers...), Seq: e.Seq, AtNs: e.Acquired - origins[c.log.Header.Host]}
			if res.Violations.wants() {
				v.Detail = detail()
			}
			res.Violations.Add(v)
		}
		if e.Flags&FlagHeld != 0 {
			if killed[e.Seen] {
				res.Takeovers++
			} else {
				add(KindHeld, func() string {
					return fmt.Sprintf("found the ledger held by nonce %016x on entry%s", e.Seen, c.observed(FlagHeld))
				})
			}
		}
		if e.Flags&FlagTornEntry != 0 {
			add(KindTorn, func() string { return "read a torn ledger record on entry" + c.observed(FlagTornEntry) })
		}
		if e.Flags&FlagTornExit != 0 {
			add(KindTorn, func() string { return "read a torn ledger record on leaving" + c.observed(FlagTornExit) })
		}
		if e.Flags&FlagChanged != 0 {
			add(KindNonceChanged, func() string {
				return fmt.Sprintf("wrote nonce %016x; on leaving the ledger held nonce %016x instead%s", e.Nonce, e.Seen, c.observed(FlagChanged))
			})
		}
		if e.Seq == 0 {
			return
		}
		if c.last != 0 && e.Seq <= c.last {
			last := c.last
			add(KindRegression, func() string {
				return fmt.Sprintf("wrote sequence number %d after it had written %d itself: the ledger went backwards", e.Seq, last)
			})
		}
		c.last = max(c.last, e.Seq)
		if prev != nil && e.Seq == prevSeq {
			other := prev.e.Nonce
			add(KindDuplicate, func() string {
				return fmt.Sprintf("sequence number %d was written by two acquisitions (nonces %016x and %016x)", e.Seq, other, e.Nonce)
			}, prev.log.Header.Name())
		} else if prev != nil && e.Seq == prevSeq+1 && e.Flags&FlagWarmup == 0 {
			res.Handoffs++
			sameHost := prev.log.Header.Host == c.log.Header.Host
			if sameHost && prev.log.Header.Owner == c.log.Header.Owner {
				res.Retakes++
			} else if sameHost && prev.e.Flags&(FlagKilled|FlagDied) == 0 && e.Acquired >= prev.e.Released {
				_ = res.HandoffNs.RecordValue(min(max(e.Acquired-prev.e.Released, 1), latencyMax))
			}
		}
		res.LastSeq = max(res.LastSeq, e.Seq)
		// Remember the previous entry by value: the cursor moves on.
		p := *c
		prev, prevSeq = &p, e.Seq
	}
	errs, err := merge(logs, func(a, b Entry) bool { return a.Seq < b.Seq }, visit)
	res.LogErrors = errs
	return res, err
}

// VerifyIntervals merges the logs of one host by acquisition time and
// reports every critical section that began before an earlier one ended
// (KindOverlap), naming the worker whose section reached furthest. Times
// in the details are relative to origin, a CLOCK_MONOTONIC time (the start
// of the run). Logs of different hosts must be verified apart: their
// clocks do not compare.
func VerifyIntervals(logs []Log, origin int64, maxExamples int) (*IntervalResult, error) {
	res := &IntervalResult{Violations: NewTally(maxExamples)}
	var (
		open    bool
		maxEnd  int64
		maxName string
		maxAcq  int64
	)
	visit := func(c *cursor) {
		e := c.e
		if e.Released < e.Acquired {
			return
		}
		res.Intervals++
		name := c.log.Header.Name()
		if open && e.Acquired < maxEnd {
			detail := ""
			if res.Violations.wants() {
				detail = fmt.Sprintf("entered at %v while %s was inside from %v to %v (overlap %v)",
					rel(e.Acquired, origin), maxName, rel(maxAcq, origin), rel(maxEnd, origin), time.Duration(min(maxEnd, e.Released)-e.Acquired))
			}
			res.Violations.Add(Violation{Detector: Interval, Kind: KindOverlap, Workers: []string{name, maxName}, Seq: e.Seq, AtNs: e.Acquired - origin, Detail: detail})
		}
		if !open || e.Released > maxEnd {
			open, maxEnd, maxName, maxAcq = true, e.Released, name, e.Acquired
		}
	}
	errs, err := merge(logs, func(a, b Entry) bool { return a.Acquired < b.Acquired }, visit)
	res.LogErrors = errs
	return res, err
}

func rel(t, origin int64) time.Duration { return time.Duration(t - origin) }

// wants reports whether another example would be kept.
func (t *Tally) wants() bool { return len(t.Examples) < t.Max }

// cursor is one log's position in a merge.
type cursor struct {
	log  *Log
	r    *LogReader
	e    Entry
	idx  int
	last uint64 // highest sequence number of this log so far
	obs  []Observation
	read bool
}

// observed returns ": <what the worker saw>" for the current entry and
// flag, from the log's observations file, or "".
func (c *cursor) observed(f Flags) string {
	if !c.read {
		c.obs, c.read = observations(c.log.Path), true
	}
	for _, o := range c.obs {
		if o.Seq == c.e.Seq && o.Nonce == c.e.Nonce && o.Flags&f != 0 {
			s := fmt.Sprintf(": read %q", o.Record)
			if o.Error != "" {
				s += " (" + o.Error + ")"
			}
			return s
		}
	}
	return ""
}

type cursorHeap struct {
	cs   []*cursor
	less func(a, b Entry) bool
}

func (h *cursorHeap) Len() int { return len(h.cs) }
func (h *cursorHeap) Less(i, j int) bool {
	a, b := h.cs[i], h.cs[j]
	if h.less(a.e, b.e) {
		return true
	}
	if h.less(b.e, a.e) {
		return false
	}
	return a.idx < b.idx
}
func (h *cursorHeap) Swap(i, j int) { h.cs[i], h.cs[j] = h.cs[j], h.cs[i] }
func (h *cursorHeap) Push(x any)    { h.cs = append(h.cs, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	c := h.cs[len(h.cs)-1]
	h.cs = h.cs[:len(h.cs)-1]
	return c
}

// merge visits the entries of all logs in the order less gives, each log
// being read in its own order. Logs that cannot be read to the end are
// listed in the first result; the error is for failures to open a log.
func merge(logs []Log, less func(a, b Entry) bool, visit func(*cursor)) ([]string, error) {
	h := &cursorHeap{less: less}
	var logErrs []string
	defer func() {
		for _, c := range h.cs {
			c.r.Close()
		}
	}()
	advance := func(c *cursor) bool {
		e, err := c.r.Next()
		if err == nil {
			c.e = e
			return true
		}
		if !errors.Is(err, io.EOF) {
			logErrs = append(logErrs, err.Error())
		}
		c.r.Close()
		return false
	}
	for i := range logs {
		r, err := OpenLog(logs[i].Path)
		if err != nil {
			return logErrs, err
		}
		c := &cursor{log: &logs[i], r: r, idx: i}
		if advance(c) {
			h.cs = append(h.cs, c)
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		c := h.cs[0]
		visit(c)
		if advance(c) {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return logErrs, nil
}
