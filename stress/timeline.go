package stress

import (
	"slices"
	"time"

	"github.com/lockstress/lockstress/stress/detect"
)

// Timeline is what a run looked like over time, read from the ledger logs
// (so absent when the detectors were off). Times are from the start of
// the run (the start barrier): a warm-up comes first.
type Timeline struct {
	// BinNs is the width of the bins of Acquisitions: the narrowest of 1,
	// 2 or 5 ms times a power of ten that cuts the run into at most 100
	// bins, and at most a second.
	BinNs int64 `json:"bin_ns"`
	// Acquisitions counts the acquisitions made in each bin, warm-up
	// included, over every host.
	Acquisitions []int64 `json:"acquisitions"`
	// Windows are stretches of the run with the critical sections in
	// them: one around each violation kept as an example (at most
	// maxWindows a host, those that overlap merged), or, with none, a
	// sample: from before the first kill to after the recovery from it,
	// around the first stop, or in the middle of the run.
	Windows []Window `json:"windows"`
}

// Window is one stretch of a host's run and who held the lock in it.
type Window struct {
	Host string `json:"host"`
	// Reason is "violation" or "sample".
	Reason string `json:"reason"`
	FromNs int64  `json:"from_ns"`
	ToNs   int64  `json:"to_ns"`
	// Holdings are the critical sections that overlap the window, by
	// acquisition time, at most maxHoldings; Truncated says when there
	// were more.
	Holdings  []detect.Holding `json:"holdings"`
	Truncated bool             `json:"truncated,omitempty"`
}

const (
	// maxWindows bounds the windows of a host.
	maxWindows = 4
	// maxHoldings bounds the critical sections listed in a window.
	maxHoldings = 200
	// windowCycles is the half-width of a window, in mean times between
	// acquisitions.
	windowCycles = 12
)

// binLadder lists the bin widths a timeline may have, the widest last.
var binLadder = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, time.Second,
}

// binWidth returns the narrowest width of binLadder that cuts a run of
// total nanoseconds into at most 100 bins, and a second for longer runs.
func binWidth(total int64) int64 {
	for _, b := range binLadder {
		if total/int64(b) <= 100 {
			return int64(b)
		}
	}
	return int64(time.Second)
}

// timeline reads the timeline of a run from the logs of its hosts.
func timeline(rep *Report, hosts []*hostData) (*Timeline, error) {
	total := rep.Config.WarmupNs + rep.ElapsedNs
	tl := &Timeline{BinNs: binWidth(total), Windows: []Window{}}
	spans, reason := windowSpans(rep, total)
	for _, h := range hosts {
		logs, err := detect.FindLogs(h.logDir)
		if err != nil {
			return nil, err
		}
		res, err := detect.Timeline(logs, h.OriginNs, tl.BinNs, total, spans, maxHoldings)
		if err != nil {
			return nil, err
		}
		tl.Acquisitions = addCounts(tl.Acquisitions, res.Counts)
		for i, s := range spans {
			tl.Windows = append(tl.Windows, Window{Host: h.Host, Reason: reason, FromNs: s.FromNs, ToNs: s.ToNs,
				Holdings: nonNil(res.Holdings[i]), Truncated: res.Truncated[i]})
		}
	}
	return tl, nil
}

// windowSpans returns the windows of a run and why they were chosen.
func windowSpans(rep *Report, total int64) ([]detect.Span, string) {
	half := max(windowCycles*rep.ElapsedNs/max(rep.Acquisitions, 1), int64(100*time.Microsecond))
	var at []int64
	d := rep.Detectors
	for _, dr := range []DetectorReport{d.Ledger, d.Occupancy, d.Interval} {
		for _, v := range dr.Examples {
			at = append(at, v.AtNs)
		}
	}
	if len(at) == 0 {
		return []detect.Span{sampleSpan(rep, half, total)}, "sample"
	}
	slices.Sort(at)
	var spans []detect.Span
	for _, t := range at {
		s := detect.Span{FromNs: max(t-half, 0), ToNs: min(t+half, max(total, t+1))}
		if n := len(spans); n > 0 && s.FromNs <= spans[n-1].ToNs {
			spans[n-1].ToNs = max(spans[n-1].ToNs, s.ToNs)
			continue
		}
		if len(spans) == maxWindows {
			break
		}
		spans = append(spans, s)
	}
	return spans, "violation"
}

// sampleSpan returns the window of a run without violations: from before
// the first kill to after the recovery from it, or around the first stop,
// or in the middle of the run.
func sampleSpan(rep *Report, half, total int64) detect.Span {
	at, until := rep.Config.WarmupNs+rep.ElapsedNs/2, int64(0)
	if k := rep.Faults.KillEvents; len(k) > 0 {
		at, until = k[0].AtNs, max(k[0].RecoveryNs, 0)
	} else if s := rep.Faults.StopEvents; len(s) > 0 {
		at, until = s[0].AtNs, s[0].DurationNs
	}
	return detect.Span{FromNs: max(at-half, 0), ToNs: min(at+until+half, max(total, at+1))}
}

// addCounts adds b to a bin by bin, growing a as needed.
func addCounts(a, b []int64) []int64 {
	for i, n := range b {
		if i == len(a) {
			a = append(a, 0)
		}
		a[i] += n
	}
	return a
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
