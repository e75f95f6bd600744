package htmlreport

import (
	"fmt"
	"strconv"

	"github.com/lockstress/lockstress/stress"
)

// fairnessChart draws the acquisitions of each worker as a bar, with the
// mean as a dashed line. A worker that never acquired the lock gets a red
// marker on the axis and the label "starved"; one below half the mean is
// drawn in orange.
func fairnessChart(id string, r *stress.Report, w, h float64) *chart {
	f := r.Fairness
	c := newChart(id, fmt.Sprintf("Acquisitions per worker — Jain index %.3f over %d workers (min %d, max %d)", f.Jain, f.Workers, f.Min, f.Max), w, h)
	c.XLabel, c.YLabel = "worker", "acquisitions"
	if len(r.Workers) == 0 {
		c.Note = "no workers"
		return c
	}
	step := niceStep(float64(max(f.Max, 1)), 5)
	ys := linScale{0, step * float64(int64(float64(max(f.Max, 1))/step)+1), c.Y1, c.Y0}
	c.yTicksLinear(ys, step, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) })
	slot := (c.X1 - c.X0) / float64(len(r.Workers))
	mean := float64(r.Acquisitions) / float64(len(r.Workers))
	every := max(len(r.Workers)/32, 1)
	for i, wk := range r.Workers {
		x := c.X0 + float64(i)*slot
		v := float64(wk.Acquisitions)
		bar := rect{X: x + slot*0.1, Y: ys.at(v), W: slot * 0.8, H: ys.at(0) - ys.at(v), Fill: "#1f77b4", Class: "bar", V: v,
			Title: fmt.Sprintf("%s: %d acquisitions, %d incarnations", wk.Name, wk.Acquisitions, wk.Incarnations)}
		switch {
		case wk.Acquisitions == 0:
			bar.Fill, bar.Class, bar.Label = "#d62728", "bar starved", "starved"
			bar.Y, bar.H = ys.at(0)-3, 3
		case v < mean/2:
			bar.Fill = "#ff7f0e"
		}
		c.Rects = append(c.Rects, bar)
		if i%every == 0 {
			c.XTicks = append(c.XTicks, tick{X: x + slot/2, Y: c.Y1 + 16, Label: wk.Name, V: float64(i), Anchor: "middle"})
		}
	}
	c.Series = append(c.Series, series{Label: "mean", Color: "#555", Dashed: true, Max: mean,
		Points: []point{{c.X0, ys.at(mean)}, {c.X1, ys.at(mean)}}})
	return c
}
