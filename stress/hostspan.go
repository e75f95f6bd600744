package stress

import (
	"slices"
	"time"
)

// The time a shared run lasted. Hosts that join a run (Config.Join) are
// started by hand, side by side or one after another, so the run lasted
// neither the longest host's time nor the sum of their times, but the
// time during which at least one of them ran. Each host's interval is
// placed by its own wall clock; as hosts' clocks may disagree, the length
// is kept between the longest host's time and the sum of their times,
// the bounds it has whatever the clocks say.

// interval is a stretch of time by a host's wall clock.
type interval struct{ from, to time.Time }

// coveredLength returns the length of the union of spans, kept between
// the longest span and the sum of the spans.
func coveredLength(spans []interval) time.Duration {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b interval) int { return a.from.Compare(b.from) })
	var covered, longest, sum time.Duration
	var end time.Time
	for i, s := range spans {
		d := max(s.to.Sub(s.from), 0)
		longest, sum = max(longest, d), sum+d
		switch {
		case i == 0 || !s.from.Before(end):
			covered += d
			end = s.to
		case s.to.After(end):
			covered += s.to.Sub(end)
			end = s.to
		}
	}
	return min(max(covered, longest), sum)
}

// measured is the host's measured run by its wall clock: from the end of
// its warm-up, for ElapsedNs.
func (h *hostData) measured() interval {
	from := h.Started.Add(time.Duration(h.Config.WarmupNs))
	return interval{from, from.Add(time.Duration(h.ElapsedNs))}
}

// meteredSpan is the time over which the host's CPU and memory were
// metered, by its wall clock: the MeteredNs that end with its measured
// run (ElapsedNs in the host.json of older versions).
func (h *hostData) meteredSpan() interval {
	m := h.measured()
	return interval{m.to.Add(-time.Duration(max(h.MeteredNs, h.ElapsedNs))), m.to}
}
