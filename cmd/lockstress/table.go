package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lockstress/lockstress/stress"
)

// comparison is one strategy's reports on the two sides.
type comparison struct {
	title    string
	old, new []*stress.Report
}

// rows compares every figure that all reports have.
func (c comparison) rows() []row {
	var rows []row
	for _, f := range figures {
		if r, ok := compareFigure(f, c.old, c.new); ok {
			rows = append(rows, r)
		}
	}
	return rows
}

// writeTable writes the comparison's table: per figure each side's median
// and spread, the change, and the test.
func writeTable(b *strings.Builder, c comparison, rows []row, alpha float64) {
	fmt.Fprintf(b, "%-16s %18s %18s %9s\n", c.title, "old", "new", "delta")
	for _, r := range rows {
		delta := percent(r.delta)
		if r.tested() && !r.significant(alpha) {
			delta = "~"
		}
		fmt.Fprintf(b, "%-16s %18s %18s %9s  (%s)\n", r.fig.label, cell(r.fig, r.old, r.oldMedian), cell(r.fig, r.new, r.newMedian), delta, r.stat())
	}
	for _, note := range c.notes(rows, alpha) {
		fmt.Fprintf(b, "  %s\n", note)
	}
}

// cell formats one side of a row: the median, and with repeats the
// largest deviation from it.
func cell(f figure, xs []float64, med float64) string {
	if len(xs) < 2 {
		return f.format(med)
	}
	return fmt.Sprintf("%s ±%.0f%%", f.format(med), 100*spread(xs, med))
}

// notes are what the table's reader should know: what the reports cannot
// show, and configurations that differ.
func (c comparison) notes(rows []row, alpha float64) []string {
	var notes []string
	if len(rows) > 0 && !rows[0].canShow(alpha) {
		notes = append(notes, "note: "+rows[0].why(alpha)+"; a change shown is not known to be beyond run-to-run noise")
	}
	var missing []string
	for _, f := range figures {
		if !slices.ContainsFunc(rows, func(r row) bool { return r.fig.name == f.name }) {
			missing = append(missing, f.label)
		}
	}
	if len(missing) > 0 {
		notes = append(notes, "note: left out, as not every report has them: "+strings.Join(missing, ", "))
	}
	if d := configDiff(c.old[0].Config, c.new[0].Config); d != "" {
		notes = append(notes, "note: the sides ran different configurations: "+d)
	}
	for _, side := range []struct {
		name string
		reps []*stress.Report
	}{{"old", c.old}, {"new", c.new}} {
		for _, rep := range side.reps[1:] {
			if d := configDiff(side.reps[0].Config, rep.Config); d != "" {
				notes = append(notes, fmt.Sprintf("note: the %s reports are not repeats of one configuration: %s", side.name, d))
				break
			}
		}
		for _, rep := range side.reps {
			if rep.Interrupted {
				notes = append(notes, fmt.Sprintf("note: an %s run (%s) was interrupted before its end", side.name, rep.RunID))
			}
		}
	}
	return notes
}

// configDiff lists the settings, seed aside, in which b differs from a.
func configDiff(a, b stress.ReportConfig) string {
	var diffs []string
	add := func(name string, x, y any) {
		if x != y {
			diffs = append(diffs, fmt.Sprintf("%s %v → %v", name, x, y))
		}
	}
	add("procs", a.Procs, b.Procs)
	add("dur", time.Duration(a.DurationNs), time.Duration(b.DurationNs))
	add("warmup", time.Duration(a.WarmupNs), time.Duration(b.WarmupNs))
	add("hold", a.Hold, b.Hold)
	add("think", a.Think, b.Think)
	add("timeout", time.Duration(a.TimeoutNs), time.Duration(b.TimeoutNs))
	add("detectors", a.Detectors, b.Detectors)
	add("kill-rate", a.KillRate, b.KillRate)
	add("stop", time.Duration(a.StopNs), time.Duration(b.StopNs))
	add("stop-rate", a.StopRate, b.StopRate)
	add("stale-after", time.Duration(a.StaleAfterNs), time.Duration(b.StaleAfterNs))
	add("fair", a.Fair, b.Fair)
	add("barging", a.Barging, b.Barging)
	add("poll", a.Polling, b.Polling)
	add("no-deadline", a.NoDeadline, b.NoDeadline)
	return strings.Join(diffs, ", ")
}
