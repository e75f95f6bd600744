package htmlreport

import (
	"fmt"
	"slices"
	"time"

	"github.com/lockstress/lockstress/stress"
	"github.com/lockstress/lockstress/stress/detect"
)

// ganttRow is the height of a worker's row in a timeline window.
const ganttRow = 16

// ganttChart draws who held the lock in one window of the report's
// timeline: a row per worker, a bar per critical section (red where two
// overlap, dark where the holder was killed), and a mark at each violation,
// kill and stop of the report that falls in the window.
func ganttChart(id string, r *stress.Report, win stress.Window, w float64) *chart {
	rows := workerRows(win.Holdings)
	title := fmt.Sprintf("Holders %v–%v from the start (%s window", time.Duration(win.FromNs).Round(time.Microsecond), time.Duration(win.ToNs).Round(time.Microsecond), win.Reason)
	if len(r.Hosts) > 1 {
		title += ", host " + win.Host
	}
	if win.Truncated {
		title += fmt.Sprintf(", first %d critical sections", len(win.Holdings))
	}
	c := newChart(id, title+")", w, float64(max(len(rows), 1)*ganttRow+64))
	c.XLabel = "time in the window"
	xs := linScale{float64(win.FromNs), float64(win.ToNs), c.X0, c.X1}
	c.offsetTicks(xs)
	for i, name := range rows {
		c.YTicks = append(c.YTicks, tick{X: c.X0 - 6, Y: c.Y0 + float64(i)*ganttRow + ganttRow*0.7, Label: name, Anchor: "end"})
	}
	overlap := overlapping(win.Holdings)
	for i, h := range win.Holdings {
		row := slices.Index(rows, h.Worker)
		x0, x1 := xs.at(float64(max(h.FromNs, win.FromNs))), xs.at(float64(min(h.ToNs, win.ToNs)))
		bar := rect{X: x0, Y: c.Y0 + float64(row)*ganttRow + 2, W: max(x1-x0, 1), H: ganttRow - 4, Fill: "#1f77b4", Class: "hold",
			V: float64(h.ToNs - h.FromNs), Title: fmt.Sprintf("%s held %v–%v (seq %d)", h.Worker, time.Duration(h.FromNs), time.Duration(h.ToNs), h.Seq)}
		switch {
		case overlap[i]:
			bar.Fill, bar.Class, bar.Title = "#d62728", "hold overlap", bar.Title+": overlaps another holder"
		case h.Ended != "":
			bar.Fill, bar.Class, bar.Title = "#333", "hold "+h.Ended, bar.Title+": "+h.Ended+" inside"
		}
		c.Rects = append(c.Rects, bar)
	}
	c.Marks = append(violationMarks(r, xs), faultMarks(r, xs)...)
	for i := range c.Marks {
		c.Marks[i].LabelOffset = float64(i%3) * 11
	}
	return c
}

// offsetTicks labels a linear x axis of nanoseconds with the time from
// its start.
func (c *chart) offsetTicks(xs linScale) {
	step := niceStep(xs.hi-xs.lo, 6)
	for v := 0.0; xs.lo+v <= xs.hi; v += step {
		px := xs.at(xs.lo + v)
		c.Grid = append(c.Grid, line{px, c.Y0, px, c.Y1})
		c.XTicks = append(c.XTicks, tick{X: px, Y: c.Y1 + 16, Label: "+" + nsLabel(v), V: xs.lo + v, Anchor: "middle"})
	}
}

// workerRows returns the workers of the holdings in the order they first
// held the lock.
func workerRows(hs []detect.Holding) []string {
	var rows []string
	for _, h := range hs {
		if !slices.Contains(rows, h.Worker) {
			rows = append(rows, h.Worker)
		}
	}
	return rows
}

// overlapping reports, for each holding, whether it overlaps another; the
// holdings are sorted by FromNs.
func overlapping(hs []detect.Holding) []bool {
	out := make([]bool, len(hs))
	for i, a := range hs {
		for j := i + 1; j < len(hs) && hs[j].FromNs < a.ToNs; j++ {
			out[i], out[j] = true, true
		}
	}
	return out
}

// violationMarks marks the violations the report describes that fall in
// the x scale, each with its detector and kind.
func violationMarks(r *stress.Report, xs linScale) []mark {
	var out []mark
	d := r.Detectors
	for _, dr := range []stress.DetectorReport{d.Ledger, d.Occupancy, d.Interval} {
		for _, v := range dr.Examples {
			if in(float64(v.AtNs), xs) {
				out = append(out, mark{X: xs.at(float64(v.AtNs)), Class: "violation", Label: v.Detector + " " + v.Kind, Title: v.String()})
			}
		}
	}
	return out
}
