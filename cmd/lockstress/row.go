package main

import (
	"fmt"
	"math"
	"slices"

	"github.com/lockstress/lockstress/stress"
)

// row is one figure compared between the reports of the two sides.
type row struct {
	fig                  figure
	old, new             []float64
	oldMedian, newMedian float64
	delta                float64 // relative change of the medians
	p                    float64 // of the U test; NaN with one report a side
}

// compareFigure compares one figure; false when a report lacks it.
func compareFigure(f figure, old, new []*stress.Report) (row, bool) {
	r := row{fig: f, p: math.NaN()}
	for _, side := range []struct {
		reps []*stress.Report
		xs   *[]float64
	}{{old, &r.old}, {new, &r.new}} {
		for _, rep := range side.reps {
			x, ok := f.value(rep)
			if !ok {
				return row{}, false
			}
			*side.xs = append(*side.xs, x)
		}
	}
	r.oldMedian, r.newMedian = median(r.old), median(r.new)
	switch {
	case r.oldMedian == r.newMedian:
		r.delta = 0
	case r.oldMedian == 0:
		r.delta = math.Inf(1) // the figures are never negative
	default:
		r.delta = (r.newMedian - r.oldMedian) / math.Abs(r.oldMedian)
	}
	if r.tested() {
		r.p = uTest(r.old, r.new)
	}
	return r, true
}

// tested reports whether the sides have enough reports for a test.
func (r row) tested() bool { return len(r.old) > 1 || len(r.new) > 1 }

// canShow reports whether the sides have enough reports for a change to
// be significant at alpha.
func (r row) canShow(alpha float64) bool {
	return r.tested() && minUTestP(len(r.old), len(r.new)) < alpha
}

// significant reports whether the change is beyond run-to-run noise.
func (r row) significant(alpha float64) bool { return r.tested() && r.p < alpha }

// worse reports whether the figure changed for the worse.
func (r row) worse() bool { return (r.delta < 0) == r.fig.higherBetter && r.delta != 0 }

// stat describes the test: its p-value and the number of reports.
func (r row) stat() string {
	if !r.tested() {
		return fmt.Sprintf("n=%d+%d", len(r.old), len(r.new))
	}
	return fmt.Sprintf("p=%.3f n=%d+%d", r.p, len(r.old), len(r.new))
}

// why says why the sides cannot show a change at alpha.
func (r row) why(alpha float64) string {
	if !r.tested() {
		return "one report a side: no significance can be claimed"
	}
	return fmt.Sprintf("%d+%d reports cannot show a change at alpha %g (the least p-value is %.3f; %d a side can)",
		len(r.old), len(r.new), alpha, minUTestP(len(r.old), len(r.new)), reportsNeeded(alpha))
}

// reportsNeeded returns how many reports a side can show a change at
// alpha, both sides alike.
func reportsNeeded(alpha float64) int {
	n := 2
	for minUTestP(n, n) >= alpha && n < 100 {
		n++
	}
	return n
}

// median returns the median of xs.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread returns the largest deviation from the median, relative to it.
func spread(xs []float64, med float64) float64 {
	var d float64
	for _, x := range xs {
		d = max(d, math.Abs(x-med))
	}
	if med == 0 {
		return 0
	}
	return d / math.Abs(med)
}

// percent formats a relative change with its sign, to a tenth of a
// percent below 100%.
func percent(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "+∞"
	case math.IsInf(x, -1):
		return "-∞"
	case math.Abs(x) < 0.0005:
		return "0%"
	case math.Abs(x) >= 1:
		return fmt.Sprintf("%+.0f%%", 100*x)
	}
	return fmt.Sprintf("%+.1f%%", 100*x)
}
