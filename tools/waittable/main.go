//go:build linux

// Command waittable turns the JSON reports of repeated lockstress runs
// (scripts/waitbench) into the Markdown table of docs/performance.md that
// compares ways of waiting. Each row is one configuration; each figure is
// the median over that configuration's runs, except the longest wait,
// which is shown as the median and the worst of the runs' maxima.
//
// Usage:
//
//	waittable LABEL=REPORT.json [LABEL=REPORT.json ...]
//
// Arguments with the same LABEL are runs of one configuration; rows keep
// the order in which their labels first appear.
package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lockstress/lockstress/stress"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "waittable: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: waittable LABEL=REPORT.json [LABEL=REPORT.json ...]")
	}
	var labels []string
	runs := map[string][]*stress.Report{}
	for _, a := range args {
		label, path, ok := strings.Cut(a, "=")
		if !ok || label == "" || path == "" {
			return fmt.Errorf("%q: want LABEL=REPORT.json", a)
		}
		r, err := readReport(path)
		if err != nil {
			return err
		}
		if _, seen := runs[label]; !seen {
			labels = append(labels, label)
		}
		runs[label] = append(runs[label], r)
	}
	fmt.Fprintln(out, "| configuration | runs | acquisitions/s | lock held | Jain | starved | re-takes | longest wait, median (worst) | acquire p99 | handoff p50 / p99 | worker CPU (+ adapters') | verdicts |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, label := range labels {
		fmt.Fprintln(out, row(label, runs[label]))
	}
	return nil
}

func readReport(path string) (*stress.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Runs []*stress.Report `json:"runs"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Runs) != 1 {
		return nil, fmt.Errorf("%s: %d runs in the report, want 1", path, len(f.Runs))
	}
	return f.Runs[0], nil
}

// row formats one configuration's runs.
func row(label string, rs []*stress.Report) string {
	med := func(f func(*stress.Report) float64) float64 { return median(rs, f) }
	worst := slices.MaxFunc(rs, func(a, b *stress.Report) int {
		return cmp.Compare(a.AcquireLatency.MaxNs, b.AcquireLatency.MaxNs)
	}).AcquireLatency.MaxNs
	retakes := "–"
	if rs[0].Fairness.RetakeRatio != nil {
		retakes = fmt.Sprintf("%.1f%%", 100*med(func(r *stress.Report) float64 {
			if r.Fairness.RetakeRatio == nil {
				return 0
			}
			return *r.Fairness.RetakeRatio
		}))
	}
	starved := med(func(r *stress.Report) float64 { return float64(len(r.Fairness.Starved)) })
	var verdicts []string
	for _, r := range rs {
		verdicts = append(verdicts, r.Verdict)
	}
	ns := func(f func(*stress.Report) int64) string {
		return duration(med(func(r *stress.Report) float64 { return float64(f(r)) }))
	}
	handoff := "–"
	if rs[0].HandoffLatency.Count > 0 {
		handoff = ns(func(r *stress.Report) int64 { return r.HandoffLatency.P50Ns }) + " / " +
			ns(func(r *stress.Report) int64 { return r.HandoffLatency.P99Ns })
	}
	return fmt.Sprintf("| %s | %d | %.0f | %.1f%% | %.3f | %g | %s | %s (%s) | %s | %s | %s | %s |",
		label, len(rs),
		med(func(r *stress.Report) float64 { return r.Throughput }),
		100*med(func(r *stress.Report) float64 { return r.Utilization }),
		med(func(r *stress.Report) float64 { return r.Fairness.Jain }),
		starved, retakes,
		ns(func(r *stress.Report) int64 { return r.AcquireLatency.MaxNs }), duration(float64(worst)),
		ns(func(r *stress.Report) int64 { return r.AcquireLatency.P99Ns }),
		handoff,
		cpu(rs),
		strings.Join(compact(verdicts), ", "))
}

// median is the median of f over rs.
func median(rs []*stress.Report, f func(*stress.Report) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// cpu gives the workers' median CPU share, and their adapters' beside
// it where the lock ran in adapter processes.
func cpu(rs []*stress.Report) string {
	s := fmt.Sprintf("%.1f%%", 100*median(rs, func(r *stress.Report) float64 { return r.WorkerCPUShare }))
	if a := median(rs, func(r *stress.Report) float64 { return r.AdapterCPUShare }); a > 0 {
		s += fmt.Sprintf(" + %.1f%% adapter", 100*a)
	}
	return s
}

// compact shows repeated verdicts once with a count: "PASS ×3".
func compact(vs []string) []string {
	var out []string
	for i := 0; i < len(vs); {
		j := i
		for j < len(vs) && vs[j] == vs[i] {
			j++
		}
		if j-i > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", vs[i], j-i))
		} else {
			out = append(out, vs[i])
		}
		i = j
	}
	return out
}

// duration formats nanoseconds with three significant digits.
func duration(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3g s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3g ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3g µs", float64(d)/float64(time.Microsecond))
	}
}
