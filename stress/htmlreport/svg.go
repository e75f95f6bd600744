package htmlreport

import (
	"fmt"
	"math"
	"strings"
)

// chart is the geometry of one SVG chart, worked out in Go and drawn by
// the "chart" template: every element is placed in the viewBox W×H, the
// plot in the box from (X0, Y0) at the top left to (X1, Y1).
type chart struct {
	ID, Title      string
	W, H           float64
	X0, Y0, X1, Y1 float64
	XLabel, YLabel string
	// Grid lines, and the ticks of each axis with their values (data-v:
	// the value the tick stands for, in the axis's unit).
	Grid   []line
	XTicks []tick
	YTicks []tick
	Series []series
	Rects  []rect
	Marks  []mark
	Legend []legendItem
	// Note is a line written in the plot, e.g. when it has no data.
	Note string
}

type line struct{ X1, Y1, X2, Y2 float64 }

// tick is a label on an axis at (X, Y), standing for the value V.
type tick struct {
	X, Y   float64
	Label  string
	V      float64
	Anchor string
}

// series is a polyline; Max is the largest value it plots (data-max).
type series struct {
	Label, Color string
	Points       []point
	Max          float64
	Dashed       bool
}

type point struct{ X, Y float64 }

// PointsAttr returns the points in the form of an SVG points attribute.
func (s series) PointsAttr() string {
	var b strings.Builder
	for i, p := range s.Points {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.2f,%.2f", p.X, p.Y)
	}
	return b.String()
}

// rect is a bar or a critical section; V is the value it stands for
// (data-v), Title its tooltip, Class its CSS class.
type rect struct {
	X, Y, W, H   float64
	Fill, Class  string
	Title, Label string
	V            float64
}

// mark is a vertical line across the plot at X: a violation, kill or stop.
type mark struct {
	X           float64
	Class       string
	Label       string
	Title       string
	LabelOffset float64
}

// legendItem is a series' colour and label, Y from the top of the plot.
type legendItem struct {
	Label, Color string
	Y            float64
}

// MidX and MidY are the centre of the plot.
func (c *chart) MidX() float64 { return (c.X0 + c.X1) / 2 }
func (c *chart) MidY() float64 { return (c.Y0 + c.Y1) / 2 }

// MidX is the centre of the rect.
func (r rect) MidX() float64 { return r.X + r.W/2 }

// newChart returns an empty chart of the given size with room for the
// axes' labels.
func newChart(id, title string, w, h float64) *chart {
	return &chart{ID: id, Title: title, W: w, H: h, X0: 64, Y0: 14, X1: w - 30, Y1: h - 40}
}

// logScale maps values in [lo, hi] (both positive) to [a, b] on a
// logarithmic axis.
type logScale struct{ lo, hi, a, b float64 }

func (s logScale) at(v float64) float64 {
	v = math.Min(math.Max(v, s.lo), s.hi)
	return s.a + (s.b-s.a)*(math.Log(v)-math.Log(s.lo))/(math.Log(s.hi)-math.Log(s.lo))
}

// linScale maps values in [lo, hi] to [a, b].
type linScale struct{ lo, hi, a, b float64 }

func (s linScale) at(v float64) float64 {
	if s.hi == s.lo {
		return s.a
	}
	return s.a + (s.b-s.a)*(v-s.lo)/(s.hi-s.lo)
}

// decades returns the powers of ten from the one at or below lo to the one
// at or above hi.
func decades(lo, hi float64) (float64, float64) {
	return math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
}

// niceStep returns a step of 1, 2 or 5 times a power of ten that cuts
// [0, hi] into at most n steps.
func niceStep(hi float64, n int) float64 {
	if hi <= 0 {
		return 1
	}
	raw := hi / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// yTicksLinear adds grid lines and labels for a linear y axis from 0.
func (c *chart) yTicksLinear(y linScale, step float64, label func(float64) string) {
	for v := 0.0; v <= y.hi*1.0000001; v += step {
		py := y.at(v)
		c.Grid = append(c.Grid, line{c.X0, py, c.X1, py})
		c.YTicks = append(c.YTicks, tick{X: c.X0 - 6, Y: py + 4, Label: label(v), V: v, Anchor: "end"})
	}
}

// palette are the colours of the series, in order.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"}

func color(i int) string { return palette[i%len(palette)] }
