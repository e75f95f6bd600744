package htmlreport

import (
	"fmt"
	"strconv"
	"time"

	"github.com/lockstress/lockstress/stress"
)

// throughputChart draws the acquisitions per second over the run, a bar a
// bin of the report's timeline (the last bin's rate over its own, shorter
// width), the warm-up shaded, and a mark at each kill and stop listed in
// the report. Without a timeline (detectors off) it says so.
func throughputChart(id string, r *stress.Report, w, h float64) *chart {
	c := newChart(id, "Throughput over time (acquisitions per second)", w, h)
	c.XLabel, c.YLabel = "seconds from the start", "acquisitions/s"
	tl := r.Timeline
	if tl == nil || len(tl.Acquisitions) == 0 || tl.BinNs <= 0 {
		c.Note = "no timeline: the detectors were off"
		return c
	}
	total := r.Config.WarmupNs + r.ElapsedNs
	rates := make([]float64, len(tl.Acquisitions))
	hi := 1.0
	for i, n := range tl.Acquisitions {
		width := min(tl.BinNs, total-int64(i)*tl.BinNs)
		rates[i] = float64(n) / time.Duration(max(width, 1)).Seconds()
		hi = max(hi, rates[i])
	}
	step := niceStep(hi, 5)
	ys := linScale{0, step * float64(int64(hi/step)+1), c.Y1, c.Y0}
	xs := linScale{0, float64(total), c.X0, c.X1}
	c.yTicksLinear(ys, step, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) })
	c.timeTicks(xs)
	if r.Config.WarmupNs > 0 {
		c.Rects = append(c.Rects, rect{X: c.X0, Y: c.Y0, W: xs.at(float64(r.Config.WarmupNs)) - c.X0, H: c.Y1 - c.Y0,
			Fill: "#eee", Class: "warmup", Title: "warm-up: checked, counted in no figure", V: float64(r.Config.WarmupNs)})
	}
	for i, rate := range rates {
		from := float64(int64(i) * tl.BinNs)
		to := min(from+float64(tl.BinNs), float64(total))
		c.Rects = append(c.Rects, rect{X: xs.at(from), Y: ys.at(rate), W: max(xs.at(to)-xs.at(from)-0.5, 0.5), H: ys.at(0) - ys.at(rate),
			Fill: "#2ca02c", Class: "bar", V: rate,
			Title: fmt.Sprintf("%v–%v: %d acquisitions, %.0f/s", time.Duration(from), time.Duration(to), tl.Acquisitions[i], rate)})
	}
	c.Marks = append(c.Marks, faultMarks(r, xs)...)
	return c
}

// timeTicks labels a linear x axis of nanoseconds in seconds.
func (c *chart) timeTicks(xs linScale) {
	step := niceStep((xs.hi-xs.lo)/1e9, 8)
	for v := 0.0; v*1e9 <= xs.hi*1.0000001; v += step {
		px := xs.at(xs.lo + v*1e9)
		c.Grid = append(c.Grid, line{px, c.Y0, px, c.Y1})
		c.XTicks = append(c.XTicks, tick{X: px, Y: c.Y1 + 16, Label: strconv.FormatFloat(v, 'f', -1, 64), V: v, Anchor: "middle"})
	}
}

// faultMarks marks the kills and stops of the report that fall within the
// x scale, times in nanoseconds from the start.
func faultMarks(r *stress.Report, xs linScale) []mark {
	var out []mark
	for _, k := range r.Faults.KillEvents {
		if in(float64(k.AtNs), xs) {
			out = append(out, mark{X: xs.at(float64(k.AtNs)), Class: "kill", Label: "kill " + k.Worker,
				Title: fmt.Sprintf("SIGKILL of %s holding the lock at %v", k.Worker, time.Duration(k.AtNs))})
		}
	}
	for _, s := range r.Faults.StopEvents {
		if in(float64(s.AtNs), xs) {
			out = append(out, mark{X: xs.at(float64(s.AtNs)), Class: "stop", Label: "stop " + s.Worker,
				Title: fmt.Sprintf("SIGSTOP of %s holding the lock at %v, for %v", s.Worker, time.Duration(s.AtNs), time.Duration(s.DurationNs))})
		}
	}
	return out
}

func in(v float64, s linScale) bool { return v >= s.lo && v <= s.hi }
