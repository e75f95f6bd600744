package htmlreport

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lockstress/lockstress/stress"
)

// curve is one latency distribution to draw, with its label.
type curve struct {
	Label   string
	Latency stress.Latency
}

// percentileTicks is the number of points per halving of the distance to
// 100%, as in HdrHistogram's percentile output.
const percentileTicks = 5

// percentilePoints is a distribution as the chart draws it: x = 1/(1-p)
// and the latency at p, in nanoseconds.
type percentilePoints struct {
	label string
	x, ns []float64
}

// points returns the curve's points, with ok false when it carries no
// histogram; the maximum is at x = count.
func (cv curve) points() (p percentilePoints, ok bool, err error) {
	hist, err := cv.Latency.Decode()
	if errors.Is(err, stress.ErrNoHistogram) {
		return p, false, nil
	} else if err != nil {
		return p, false, fmt.Errorf("%s: %w", cv.Label, err)
	}
	p.label = cv.Label
	n := float64(hist.TotalCount())
	for _, b := range hist.CumulativeDistributionWithTicks(percentileTicks) {
		x := n
		if b.Quantile < 100 {
			x = math.Min(1/(1-b.Quantile/100), n)
		}
		p.x, p.ns = append(p.x, math.Max(x, 1)), append(p.ns, math.Max(float64(b.ValueAt), 1))
	}
	return p, true, nil
}

// percentileChart draws latency distributions as HdrHistogram's plotter
// does: x is the percentile on a log scale of 1/(1-p), so that 90%, 99%,
// 99.9% are equally spaced, y the latency on a log scale. The maximum is
// drawn at 1/(1-p) = count. A curve without a histogram is only named in
// the legend, as having no samples.
func percentileChart(id, title string, curves []curve, w, h float64) (*chart, error) {
	c := newChart(id, title, w, h)
	c.XLabel, c.YLabel = "percentile", "latency"
	var all []percentilePoints
	var empty []string
	lo, hi, xmax := math.Inf(1), 1.0, 100.0
	for _, cv := range curves {
		p, ok, err := cv.points()
		if err != nil {
			return nil, err
		} else if !ok {
			empty = append(empty, cv.Label)
			continue
		}
		lo, hi, xmax = math.Min(lo, p.ns[0]), math.Max(hi, float64(cv.Latency.MaxNs)), math.Max(xmax, p.x[len(p.x)-1])
		all = append(all, p)
	}
	if len(all) == 0 {
		c.Note = "no samples"
		return c, nil
	}
	ylo, yhi := decades(lo, hi)
	_, xhi := decades(1, xmax)
	xs, ys := logScale{1, xhi, c.X0, c.X1}, logScale{ylo, yhi, c.Y1, c.Y0}
	c.percentileAxes(xs, ys)
	for i, p := range all {
		s := series{Label: p.label, Color: color(i), Max: p.ns[len(p.ns)-1]}
		for j := range p.x {
			s.Points = append(s.Points, point{xs.at(p.x[j]), ys.at(p.ns[j])})
		}
		c.Series = append(c.Series, s)
		c.Legend = append(c.Legend, legendItem{p.label, s.Color, c.Y0 + 6 + 16*float64(i)})
	}
	for _, label := range empty {
		c.Legend = append(c.Legend, legendItem{label + " (no samples)", "#bbb", c.Y0 + 6 + 16*float64(len(c.Legend))})
	}
	return c, nil
}

// percentileAxes draws the grid and ticks: a tick per decade of x (0%,
// 90%, 99%, ...) and 1, 2, 5 times each power of ten of y.
func (c *chart) percentileAxes(xs, ys logScale) {
	for x := 1.0; x <= xs.hi*1.0000001; x *= 10 {
		px := xs.at(x)
		c.Grid = append(c.Grid, line{px, c.Y0, px, c.Y1})
		c.XTicks = append(c.XTicks, tick{X: px, Y: c.Y1 + 16, Label: percentLabel(x), V: x, Anchor: "middle"})
	}
	for d := ys.lo; d <= ys.hi*1.0000001; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := d * m
			if v > ys.hi*1.0000001 {
				break
			}
			py := ys.at(v)
			c.Grid = append(c.Grid, line{c.X0, py, c.X1, py})
			if m == 1 || ys.hi/ys.lo <= 1000 {
				c.YTicks = append(c.YTicks, tick{X: c.X0 - 6, Y: py + 4, Label: nsLabel(v), V: v, Anchor: "end"})
			}
		}
	}
}

// percentLabel names the percentile of x = 1/(1-p): 1 is 0%, 10 is 90%,
// 100 is 99%.
func percentLabel(x float64) string {
	if x <= 1 {
		return "0%"
	}
	s := fmt.Sprintf("%.10f", 100*(1-1/x))
	return strings.TrimRight(strings.TrimRight(s, "0"), ".") + "%"
}

// nsLabel formats nanoseconds as a duration of three significant digits.
func nsLabel(ns float64) string {
	if ns < 1 {
		return "0"
	}
	unit := math.Pow(10, math.Max(math.Floor(math.Log10(ns))-2, 0))
	return time.Duration(math.Round(ns/unit) * unit).String()
}
