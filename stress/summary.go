package stress

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// summaryExamples is how many violations of each detector the summary
// describes.
const summaryExamples = 3

// WriteSummary writes the human summary of a report: the configuration,
// the filesystem, a latency table, throughput, fairness, errors, faults,
// violations per detector, failures, cautions and the verdict.
func WriteSummary(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	writeRunLine(ew, r)
	writeLatencyTable(ew, r)
	writeLoad(ew, r)
	writeFairness(ew, r)
	writeErrors(ew, r)
	writeFaults(ew, r)
	writeViolations(ew, r)
	writeFailures(ew, r)
	for i, c := range r.Cautions {
		label := ""
		if i == 0 {
			label = "caution"
		}
		ew.printf("  %-12s %s\n", label, c)
	}
	ew.printf("  verdict      %s", r.Verdict)
	if r.Reason != "" {
		ew.printf(" (%s)", r.Reason)
	}
	ew.printf("\n")
	return ew.err
}

// writeRunLine writes what was run, and where.
func writeRunLine(ew *errWriter, r *Report) {
	c := r.Config
	timeout := "none"
	if c.TimeoutNs > 0 {
		timeout = time.Duration(c.TimeoutNs).String()
	}
	detectors := "on"
	if !c.Detectors {
		detectors = "off"
	}
	ew.printf("lockstress: strategy %s, %d procs, %v", r.Strategy, c.Procs, time.Duration(c.DurationNs))
	if c.WarmupNs > 0 {
		ew.printf(" after a %v warm-up", time.Duration(c.WarmupNs))
	}
	ew.printf(", hold %s, think %s, timeout %s, seed %d, detectors %s", c.Hold, c.Think, timeout, c.Seed, detectors)
	if c.KillRate > 0 {
		ew.printf(", kill-rate %g/s", c.KillRate)
	}
	if c.StopNs > 0 {
		ew.printf(", stop %v %g/s", time.Duration(c.StopNs), c.StopRate)
	}
	if c.Fair {
		ew.printf(", fair")
	}
	if c.Barging {
		ew.printf(", barging")
	}
	if c.Polling {
		ew.printf(", polling")
	}
	if c.NoDeadline {
		ew.printf(", no deadline")
	}
	ew.printf("\n")
	if len(r.Hosts) > 1 {
		ew.printf("hosts:      %s\n", strings.Join(r.Hosts, ", "))
	}
	ew.printf("filesystem: %s\n\n", r.Filesystem)
}

// writeLatencyTable writes the percentiles of the waits, the holds and the hand-overs.
func writeLatencyTable(ew *errWriter, r *Report) {
	ew.printf("  %-10s", "")
	for _, h := range []string{"p50", "p90", "p99", "p99.9", "max", "mean", "stddev"} {
		ew.printf("%9s", h)
	}
	ew.printf("\n")
	rows := []struct {
		name string
		l    Latency
	}{{"acquire", r.AcquireLatency}, {"hold", r.HoldTime}}
	if r.HandoffLatency.Count > 0 {
		rows = append(rows, struct {
			name string
			l    Latency
		}{"handoff", r.HandoffLatency})
	}
	for _, row := range rows {
		l := row.l
		ew.printf("  %-10s", row.name)
		for _, v := range []int64{l.P50Ns, l.P90Ns, l.P99Ns, l.P999Ns, l.MaxNs, int64(l.MeanNs), int64(l.StddevNs)} {
			ew.printf("%9s", dur(v))
		}
		ew.printf("\n")
	}
	ew.printf("\n")
}

// span is the time during which any host ran: ElapsedNs in the reports
// of older versions, which have no SpanNs.
func (r *Report) span() time.Duration {
	if r.SpanNs > 0 {
		return time.Duration(r.SpanNs)
	}
	return time.Duration(r.ElapsedNs)
}

// writeLoad writes the throughput, the share of the time the lock was held, and the processor time and memory used.
func writeLoad(ew *errWriter, r *Report) {
	c := r.Config
	ew.printf("  throughput   %d acquisitions in %v, %.0f/s; lock held %.1f%% of the time\n",
		r.Acquisitions, r.span().Round(time.Millisecond), r.Throughput, 100*r.Utilization)
	if len(r.Hosts) > 1 {
		ew.printf("               (the time during which any host ran; the longest host ran %v)\n",
			time.Duration(r.ElapsedNs).Round(time.Millisecond))
	}
	if c.WarmupNs > 0 {
		ew.printf("               (and %d in the warm-up, checked for violations, counted in no figure)\n", r.WarmupAcquisitions)
	}
	if r.Interrupted {
		ew.printf("               (interrupted before the end)\n")
	}
	ew.printf("  cpu          workers used %v (user + system), %.1f%% of one core on average\n",
		time.Duration(r.WorkerCPUNs).Round(time.Millisecond), 100*r.WorkerCPUShare)
	if r.AdapterCPUNs > 0 {
		ew.printf("               and their adapters' processes %v, %.1f%% (where the peer lock runs, with its side of the pipe)\n",
			time.Duration(r.AdapterCPUNs).Round(time.Millisecond), 100*r.AdapterCPUShare)
	}
	// An adapter's lock allocates in its own process, which is not
	// measured.
	if m := r.Memory; m.Acquisitions > 0 && !strings.Contains(r.Strategy, execPrefix) {
		ew.printf("  memory       %s and %.0f objects allocated per acquisition (harness included); %d garbage collections\n",
			bytesSize(m.BytesPerAcquisition), m.AllocsPerAcquisition, m.GCs)
	}
}

// writeFairness writes how evenly the workers were served.
func writeFairness(ew *errWriter, r *Report) {
	f := r.Fairness
	starved := "none"
	if len(f.Starved) > 0 {
		starved = fmt.Sprintf("%d (%s)", len(f.Starved), list(f.Starved, 8))
	}
	ew.printf("  fairness     Jain %.3f over %d workers; min %d, max %d; starved %s", f.Jain, f.Workers, f.Min, f.Max, starved)
	if f.RetakeRatio != nil {
		ew.printf("; re-takes %.1f%% (%d of %d)", 100**f.RetakeRatio, *f.Retakes, *f.Handoffs)
	}
	ew.printf("\n")
}

// writeErrors writes the errors of the workers' locks, by kind.
func writeErrors(ew *errWriter, r *Report) {
	if len(r.Errors) == 0 {
		ew.printf("  errors       none\n")
	} else {
		for i, k := range slices.Sorted(maps.Keys(r.Errors)) {
			label := ""
			if i == 0 {
				label = "errors"
			}
			e := r.Errors[k]
			ew.printf("  %-12s %s %d (first: %s)\n", label, k, e.Count, e.First)
		}
	}
}

// writeFaults writes the kills and stops of a run with faults, and how the lock recovered from them.
func writeFaults(ew *errWriter, r *Report) {
	c := r.Config
	if c.KillRate > 0 || c.StopNs > 0 {
		ft := r.Faults
		ew.printf("  faults       %d kills", ft.Kills)
		if ft.Kills > 0 {
			ew.printf(": %d recovered", ft.Recovered)
			if ft.Recovered > 0 {
				ew.printf(" (recovery p50 %s, max %s)", dur(ft.Recovery.P50Ns), dur(ft.Recovery.MaxNs))
			}
			if ft.Unrecovered > 0 {
				ew.printf(", %d not recovered: no worker acquired the lock again before the end of the run", ft.Unrecovered)
				if ft.NeverRecovered > 0 {
					ew.printf(" (%d NEVER: for %v or more)", ft.NeverRecovered, recoveryBound(c))
				}
			}
		}
		ew.printf("; %d stops\n", ft.Stops)
	}
}

// writeViolations writes each detector's violations, with examples.
func writeViolations(ew *errWriter, r *Report) {
	d := r.Detectors
	if !d.Enabled {
		ew.printf("  violations   not checked: detectors off\n")
	} else {
		ew.printf("  violations   ledger %d, occupancy %d, interval %d", d.Ledger.Count, d.Occupancy.Count, d.Interval.Count)
		ew.printf(" (checked %d, %d, %d critical sections)\n", d.Ledger.Checked, d.Occupancy.Checked, d.Interval.Checked)
		for _, dr := range []DetectorReport{d.Ledger, d.Occupancy, d.Interval} {
			for _, v := range dr.Examples[:min(len(dr.Examples), summaryExamples)] {
				ew.printf("    %s\n", v)
			}
			if more := dr.Count - int64(min(len(dr.Examples), summaryExamples)); more > 0 && len(dr.Examples) > 0 {
				ew.printf("    ... and %d more %s violations (%s)\n", more, dr.Examples[0].Detector, kinds(dr.ByKind))
			}
			for _, e := range dr.LogErrors {
				ew.printf("    unreadable log: %s\n", e)
			}
		}
		if d.Ledger.Takeovers > 0 {
			ew.printf("               %d takeovers of the ledger from killed holders (expected, not violations)\n", d.Ledger.Takeovers)
		}
	}
}

// writeFailures writes the workers that failed, with the end of their output, and the directories of killed runs cleaned up.
func writeFailures(ew *errWriter, r *Report) {
	for i, fl := range r.Failures {
		label := ""
		if i == 0 {
			label = "failures"
		}
		ew.printf("  %-12s worker %s (pid %d): %s\n", label, fl.Worker, fl.PID, fl.Reason)
		if fl.Stderr != "" {
			for _, line := range lastLines(fl.Stderr, 10) {
				ew.printf("                 | %s\n", line)
			}
		}
	}
	if len(r.Swept) > 0 {
		ew.printf("  cleaned up   %d directories that killed runs left: %s\n", len(r.Swept), list(r.Swept, 4))
	}
}

// bytesSize formats a number of bytes with three significant digits.
func bytesSize(b float64) string {
	switch {
	case b < 999.5:
		return fmt.Sprintf("%.0f B", b)
	case b < 999_500:
		return fmt.Sprintf("%.3g KB", b/1000)
	}
	return fmt.Sprintf("%.3g MB", b/1000/1000)
}

// dur formats nanoseconds with three significant digits.
func dur(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d == 0:
		return "0"
	case d < time.Microsecond:
		return d.String()
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func list(xs []string, n int) string {
	if len(xs) <= n {
		return strings.Join(xs, ", ")
	}
	return strings.Join(xs[:n], ", ") + ", ..."
}

func kinds(m map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func lastLines(s string, n int) []string {
	lines := strings.Split(s, "\n")
	return lines[max(0, len(lines)-n):]
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
