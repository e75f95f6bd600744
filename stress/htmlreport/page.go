// Package htmlreport renders lockstress JSON reports (stress.Document) as
// one self-contained HTML page: inline SVG charts and CSS, no script and
// nothing fetched from the network. The page shows the acquire, hold and
// handoff latency distributions as HdrHistogram percentile curves (one
// line per run, and per member of a mixed population), and for each run
// its configuration, filesystem and verdict, the acquisitions per worker
// with the Jain index, the throughput over time, and who held the lock in
// the windows around each violation (or a sample window).
package htmlreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"

	"github.com/lockstress/lockstress/stress"
)

// Source is one document to render, with the label that names it on the
// page (a file name, say); the label may be empty when there is one.
type Source struct {
	Label string
	Doc   *stress.Document
}

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"f":   func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) },
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
}).Parse(pageHTML))

// Chart widths, in SVG units (the page scales them to its width).
const (
	wideChart   = 960
	narrowChart = 470
)

// page is what the template draws.
type page struct {
	Verdict string
	Sources []Source
	Latency []*chart
	Table   []latencyRow
	Runs    []runView
}

// Write renders the sources as one HTML page to w. It fails if a source
// has no runs or a histogram of a report does not decode.
func Write(w io.Writer, sources ...Source) error {
	p := page{Sources: sources}
	var reports []*stress.Report
	for _, s := range sources {
		if s.Doc == nil || len(s.Doc.Runs) == 0 {
			return fmt.Errorf("htmlreport: %q has no runs", s.Label)
		}
		reports = append(reports, s.Doc.Runs...)
	}
	p.Verdict = stress.WorstVerdict(reports...)
	for _, d := range []struct{ id, name, title string }{
		{"acquire", "acquire", "Acquire latency by percentile"},
		{"hold", "hold", "Hold time by percentile"},
		{"handoff", "handoff", "Handoff latency by percentile"},
	} {
		width := float64(narrowChart)
		if d.id == "acquire" {
			width = wideChart
		}
		c, err := percentileChart("latency-"+d.id, d.title, curves(sources, d.name), width, width*0.5)
		if err != nil {
			return fmt.Errorf("htmlreport: %s latency: %w", d.name, err)
		}
		p.Latency = append(p.Latency, c)
	}
	p.Table = latencyTable(sources)
	n := 0
	for _, s := range sources {
		for _, r := range s.Doc.Runs {
			p.Runs = append(p.Runs, newRunView(n, runLabel(s, r, len(sources) > 1), r))
			n++
		}
	}
	return pageTemplate.Execute(w, p)
}

// runLabel names a run on the page: its strategy, after the source's label
// when there are several sources.
func runLabel(s Source, r *stress.Report, several bool) string {
	if several && s.Label != "" {
		return s.Label + ": " + r.Strategy
	}
	return r.Strategy
}

// curves returns the distribution named ("acquire", "hold" or
// "handoff") of every run, and of every member of a mixed population.
func curves(sources []Source, name string) []curve {
	var out []curve
	for _, s := range sources {
		for _, r := range s.Doc.Runs {
			label := runLabel(s, r, len(sources) > 1)
			out = append(out, curve{label, pick(name, r.AcquireLatency, r.HoldTime, r.HandoffLatency)})
			for _, m := range r.Members {
				out = append(out, curve{label + " — " + m.Strategy + " workers", pick(name, m.AcquireLatency, m.HoldTime, stress.Latency{})})
			}
		}
	}
	return out
}

func pick(name string, acquire, hold, handoff stress.Latency) stress.Latency {
	switch name {
	case "acquire":
		return acquire
	case "hold":
		return hold
	}
	return handoff
}
