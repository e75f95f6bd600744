package detect

// Holding is one critical section as its worker logged it: who held the
// lock, from when to when.
type Holding struct {
	Worker string `json:"worker"`
	// FromNs and ToNs bound the critical section, from the origin given
	// to Timeline (the start of the run).
	FromNs int64 `json:"from_ns"`
	ToNs   int64 `json:"to_ns"`
	// Seq is the ledger sequence number written, 0 if none was.
	Seq uint64 `json:"seq,omitempty"`
	// Ended is "killed" or "died" when the section did not end in a
	// release (FlagKilled, FlagDied), and empty otherwise.
	Ended string `json:"ended,omitempty"`
}

// Span is a stretch of time, in nanoseconds from the origin given to
// Timeline.
type Span struct {
	FromNs int64 `json:"from_ns"`
	ToNs   int64 `json:"to_ns"`
}

// TimelineResult is what Timeline found.
type TimelineResult struct {
	// Counts[i] is the number of acquisitions made in the i-th bin: from
	// i×binNs to (i+1)×binNs after the origin.
	Counts []int64
	// Holdings[i] lists, by acquisition time, the critical sections that
	// overlap the i-th span, at most maxPer of them; Truncated[i] is true
	// when there were more.
	Holdings  [][]Holding
	Truncated []bool
	// LogErrors lists logs that could not be read to the end.
	LogErrors []string
}

// Timeline merges the logs of one host by acquisition time (the clocks of
// different hosts do not compare) and returns the acquisitions made in each
// bin of binNs nanoseconds from origin (a CLOCK_MONOTONIC time) up to
// endNs after it, and the critical sections that overlap each span. Those
// acquired before origin or at endNs and after are left out of the counts.
// binNs must be positive.
func Timeline(logs []Log, origin, binNs, endNs int64, spans []Span, maxPer int) (*TimelineResult, error) {
	res := &TimelineResult{
		Counts:    make([]int64, max((endNs+binNs-1)/binNs, 0)),
		Holdings:  make([][]Holding, len(spans)),
		Truncated: make([]bool, len(spans)),
	}
	visit := func(c *cursor) {
		e := c.e
		from := e.Acquired - origin
		if from >= 0 && from < endNs {
			res.Counts[from/binNs]++
		}
		to := max(e.Released-origin, from)
		for i, s := range spans {
			if from >= s.ToNs || to < s.FromNs {
				continue
			}
			if len(res.Holdings[i]) >= maxPer {
				res.Truncated[i] = true
				continue
			}
			res.Holdings[i] = append(res.Holdings[i], Holding{Worker: c.log.Header.Name(), FromNs: from, ToNs: to, Seq: e.Seq, Ended: ended(e.Flags)})
		}
	}
	errs, err := merge(logs, func(a, b Entry) bool { return a.Acquired < b.Acquired }, visit)
	res.LogErrors = errs
	return res, err
}

// ended names how a critical section ended, "" for a release.
func ended(f Flags) string {
	switch {
	case f&FlagKilled != 0:
		return "killed"
	case f&FlagDied != 0:
		return "died"
	}
	return ""
}
