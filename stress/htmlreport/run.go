package htmlreport

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lockstress/lockstress/stress"
)

// runView is one run's section of the page.
type runView struct {
	Label, Verdict, Reason string
	Facts                  [][2]string
	Fairness, Throughput   *chart
	Windows                []*chart
	Violations, Failures   []string
	Report                 *stress.Report
}

// newRunView lays out the n-th run of the page.
func newRunView(n int, label string, r *stress.Report) runView {
	v := runView{Label: label, Verdict: r.Verdict, Reason: r.Reason, Facts: facts(r), Report: r}
	id := fmt.Sprintf("run%d-", n)
	v.Fairness = fairnessChart(id+"fairness", r, wideChart, 240)
	v.Throughput = throughputChart(id+"throughput", r, wideChart, 240)
	if r.Timeline != nil {
		for i, win := range r.Timeline.Windows {
			v.Windows = append(v.Windows, ganttChart(fmt.Sprintf("%swindow%d", id, i), r, win, wideChart))
		}
	}
	d := r.Detectors
	for _, dr := range []stress.DetectorReport{d.Ledger, d.Occupancy, d.Interval} {
		for _, x := range dr.Examples {
			v.Violations = append(v.Violations, fmt.Sprintf("at %v: %s", time.Duration(x.AtNs), x))
		}
	}
	for _, f := range r.Failures {
		v.Failures = append(v.Failures, fmt.Sprintf("worker %s (pid %d): %s", f.Worker, f.PID, f.Reason))
	}
	return v
}

// facts lists what the run was and what it found, as label and value.
func facts(r *stress.Report) [][2]string {
	c := r.Config
	timeout := "none"
	if c.TimeoutNs > 0 {
		timeout = time.Duration(c.TimeoutNs).String()
	}
	out := [][2]string{
		{"strategy", r.Strategy},
		{"workers", fmt.Sprintf("%d", c.Procs)},
		{"duration", fmt.Sprintf("%v measured of %v asked; warm-up %v", time.Duration(r.ElapsedNs).Round(time.Millisecond), time.Duration(c.DurationNs), time.Duration(c.WarmupNs))},
		{"hold, think", c.Hold + ", " + c.Think},
		{"timeout, seed", fmt.Sprintf("%s, %d", timeout, c.Seed)},
		{"faults", fmt.Sprintf("kill-rate %g/s (%d kills, %d not recovered, %d never); stop %v at %g/s (%d stops)", c.KillRate, r.Faults.Kills, r.Faults.Unrecovered, r.Faults.NeverRecovered, time.Duration(c.StopNs), c.StopRate, r.Faults.Stops)},
		{"options", options(c)},
		{"filesystem", r.Filesystem.String()},
		{"hosts", strings.Join(r.Hosts, ", ")},
		{"started", r.Started.Format(time.RFC3339)},
		{"throughput", fmt.Sprintf("%d acquisitions, %.0f/s; lock held %.1f%% of the time", r.Acquisitions, r.Throughput, 100*r.Utilization)},
		{"cpu", cpuText(r)},
		{"violations", violations(r)},
		{"errors", errorsText(r.Errors)},
		{"run id", r.RunID},
	}
	return out
}

// cpuText gives the workers' CPU time, and their adapters' beside it.
func cpuText(r *stress.Report) string {
	s := fmt.Sprintf("%v, %.2f cores", time.Duration(r.WorkerCPUNs).Round(time.Millisecond), r.WorkerCPUShare)
	if r.AdapterCPUNs > 0 {
		s += fmt.Sprintf("; their adapters' processes %v, %.2f cores", time.Duration(r.AdapterCPUNs).Round(time.Millisecond), r.AdapterCPUShare)
	}
	return s
}

func options(c stress.ReportConfig) string {
	var o []string
	for _, x := range []struct {
		on   bool
		name string
	}{{!c.Detectors, "detectors off"}, {c.Fair, "fair"}, {c.Polling, "polling"}, {c.NoDeadline, "no deadline"}, {c.LedgerReopen, "ledger reopened in every section"}} {
		if x.on {
			o = append(o, x.name)
		}
	}
	if len(o) == 0 {
		return "none"
	}
	return strings.Join(o, ", ")
}

func violations(r *stress.Report) string {
	d := r.Detectors
	if !d.Enabled {
		return "not checked: detectors off"
	}
	return fmt.Sprintf("ledger %d, occupancy %d, interval %d (checked %d, %d, %d critical sections)",
		d.Ledger.Count, d.Occupancy.Count, d.Interval.Count, d.Ledger.Checked, d.Occupancy.Checked, d.Interval.Checked)
}

func errorsText(m map[string]stress.ErrorCount) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k].Count))
	}
	return strings.Join(parts, ", ")
}

// latencyRow is a row of the latency table.
type latencyRow struct {
	Run, Kind string
	Cells     []string
}

// latencyTable lists the percentiles of every distribution of every run.
func latencyTable(sources []Source) []latencyRow {
	var out []latencyRow
	for _, s := range sources {
		for _, r := range s.Doc.Runs {
			for _, d := range r.Distributions() {
				l := d.Latency
				row := latencyRow{Run: runLabel(s, r, len(sources) > 1), Kind: d.Name}
				for _, ns := range []int64{l.P50Ns, l.P90Ns, l.P99Ns, l.P999Ns, l.MaxNs} {
					row.Cells = append(row.Cells, nsLabel(float64(ns)))
				}
				row.Cells = append(row.Cells, fmt.Sprintf("%d", l.Count))
				out = append(out, row)
			}
		}
	}
	return out
}
