package main

import (
	"fmt"
	"math"
	"time"

	"github.com/lockstress/lockstress/stress"
)

// figure is one row of a comparison: a number read from each report.
type figure struct {
	name         string // as -max-regress names it
	label        string // in the table
	higherBetter bool
	// gated is false for figures that -max-regress cannot name.
	gated  bool
	format func(float64) string
	// value reads the figure; false when the report has none.
	value func(*stress.Report) (float64, bool)
}

// figures are the rows of a comparison, in order.
var figures = []figure{
	{"throughput", "throughput", true, true, rate, func(r *stress.Report) (float64, bool) { return r.Throughput, r.ElapsedNs > 0 }},
	{"p50", "acquire p50", false, true, nanos, latency(func(l stress.Latency) int64 { return l.P50Ns })},
	{"p99", "acquire p99", false, true, nanos, latency(func(l stress.Latency) int64 { return l.P99Ns })},
	{"max", "acquire max", false, true, nanos, latency(func(l stress.Latency) int64 { return l.MaxNs })},
	{"handoff", "handoff p50", false, true, nanos, func(r *stress.Report) (float64, bool) {
		return float64(r.HandoffLatency.P50Ns), r.HandoffLatency.Count > 0
	}},
	{"jain", "fairness (Jain)", true, true, decimals(3), func(r *stress.Report) (float64, bool) { return r.Fairness.Jain, r.Fairness.Workers > 0 }},
	{"cpu", "cpu (cores)", false, true, decimals(2), func(r *stress.Report) (float64, bool) { return r.WorkerCPUShare, r.ElapsedNs > 0 }},
	{"violations", "violations", false, false, decimals(0), func(r *stress.Report) (float64, bool) {
		return float64(r.Violations), r.Detectors.Enabled
	}},
}

// latency reads a figure of the acquire latency.
func latency(f func(stress.Latency) int64) func(*stress.Report) (float64, bool) {
	return func(r *stress.Report) (float64, bool) {
		return float64(f(r.AcquireLatency)), r.AcquireLatency.Count > 0
	}
}

// gatedNames lists the figures -max-regress can name.
func gatedNames() []string {
	var names []string
	for _, f := range figures {
		if f.gated {
			names = append(names, f.name)
		}
	}
	return names
}

// rate formats a number per second with three significant digits.
func rate(x float64) string {
	switch {
	case x >= 999.5e3:
		return fmt.Sprintf("%.3gM/s", x/1e6)
	case x >= 999.5:
		return fmt.Sprintf("%.3gk/s", x/1e3)
	}
	return fmt.Sprintf("%.3g/s", x)
}

// nanos formats nanoseconds with three significant digits.
func nanos(x float64) string {
	d := time.Duration(math.Round(x))
	switch {
	case d == 0:
		return "0"
	case d < time.Microsecond:
		return d.String()
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", x/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.3gms", x/1e6)
	}
	return fmt.Sprintf("%.3gs", x/1e9)
}

func decimals(n int) func(float64) string {
	return func(x float64) string { return fmt.Sprintf("%.*f", n, x) }
}
