package stress

import (
	"errors"
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// ErrNoHistogram is returned by Latency.Decode for a summary that carries
// no histogram: an empty one, or one of a report of an older version.
var ErrNoHistogram = errors.New("no histogram in the latency summary")

// summarize returns the percentiles, mean and deviation of a histogram,
// and the histogram itself encoded as Latency.Histogram describes.
func summarize(h *hdrhistogram.Histogram) (Latency, error) {
	if h.TotalCount() == 0 {
		return Latency{}, nil
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return Latency{}, fmt.Errorf("encoding a histogram: %w", err)
	}
	return Latency{
		Count:     h.TotalCount(),
		P50Ns:     h.ValueAtQuantile(50),
		P90Ns:     h.ValueAtQuantile(90),
		P99Ns:     h.ValueAtQuantile(99),
		P999Ns:    h.ValueAtQuantile(99.9),
		MaxNs:     h.Max(),
		MeanNs:    h.Mean(),
		StddevNs:  h.StdDev(),
		Histogram: string(enc),
	}, nil
}

// Decode returns the histogram the summary was taken from; it fails with
// ErrNoHistogram when the summary carries none.
func (l Latency) Decode() (*hdrhistogram.Histogram, error) {
	if l.Histogram == "" {
		return nil, ErrNoHistogram
	}
	h, err := hdrhistogram.Decode([]byte(l.Histogram))
	if err != nil {
		return nil, fmt.Errorf("decoding a latency histogram: %w", err)
	}
	return h, nil
}

// NamedLatency is one of the latency distributions of a report.
type NamedLatency struct {
	// Name is "acquire", "hold" or "handoff".
	Name    string
	Latency Latency
}

// Distributions returns the report's latency distributions that have
// samples, in the order acquire, hold, handoff.
func (r *Report) Distributions() []NamedLatency {
	var out []NamedLatency
	for _, d := range r.distributions() {
		if d.Latency.Count > 0 {
			out = append(out, d.NamedLatency)
		}
	}
	return out
}

// DistributionNames returns the names of the latency distributions that a
// run can report, in the order of Distributions: with the detectors off,
// no handoff, which the ledger times.
func DistributionNames(detectors bool) []string {
	var names []string
	for _, d := range (&Report{}).distributions() {
		if detectors || !d.ledger {
			names = append(names, d.Name)
		}
	}
	return names
}

// distributions returns every latency distribution of the report, and
// whether the ledger measures it.
func (r *Report) distributions() []struct {
	NamedLatency
	ledger bool
} {
	return []struct {
		NamedLatency
		ledger bool
	}{
		{NamedLatency{"acquire", r.AcquireLatency}, false},
		{NamedLatency{"hold", r.HoldTime}, false},
		{NamedLatency{"handoff", r.HandoffLatency}, true},
	}
}
