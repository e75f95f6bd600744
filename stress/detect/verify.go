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

// IntervalResult is what VerifyIntervals found.
type IntervalResult struct {
	// Intervals is the number of critical sections swept.
	Intervals  int64    `json:"intervals"`
	Violations *Tally   `json:"violations"`
	LogErrors  []string `json:"log_errors,omitempty"`
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
