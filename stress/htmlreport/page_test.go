package htmlreport

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/lockstress/lockstress/stress"
)

// TestPageSVGs checks that every chart is present, has plotted elements,
// and places each of them, with finite coordinates, inside its viewBox.
func TestPageSVGs(t *testing.T) {
	root, _ := render(t, sampleReport(t))
	for _, tc := range []struct {
		id    string
		plots func(*node) bool
		min   int
	}{
		{"latency-acquire", classed("polyline", "series"), 1},
		{"latency-hold", classed("polyline", "series"), 1},
		{"latency-handoff", classed("polyline", "series"), 1},
		{"run0-fairness", classed("rect", "bar"), 4},
		{"run0-throughput", classed("rect", "bar"), 4},
		{"run0-window0", classed("rect", "hold"), 3},
	} {
		t.Run(tc.id, func(t *testing.T) {
			svg := svgByID(t, root, tc.id)
			if n := len(svg.all(tc.plots)); n < tc.min {
				t.Errorf("%d plotted elements, want at least %d", n, tc.min)
			}
			checkInViewBox(t, svg)
		})
	}
}

// checkInViewBox fails for an element of svg placed outside its viewBox or
// at a coordinate that is not a finite number.
func checkInViewBox(t *testing.T, svg *node) {
	t.Helper()
	var x0, y0, w, h float64
	if _, err := fmt.Sscanf(svg.attr("viewBox"), "%g %g %g %g", &x0, &y0, &w, &h); err != nil || w <= 0 || h <= 0 {
		t.Fatalf("viewBox %q", svg.attr("viewBox"))
	}
	const slack = 1 // the group's offset is inside the height
	for _, n := range svg.all(func(*node) bool { return true }) {
		for _, a := range []string{"x", "x1", "x2", "width"} {
			if n.attr(a) != "" && (n.num(t, a) < x0-slack || n.num(t, a) > w+slack) {
				t.Errorf("<%s %s=%s> outside the width %g", n.XMLName.Local, a, n.attr(a), w)
			}
		}
		for _, a := range []string{"y", "y1", "y2", "height"} {
			if n.attr(a) != "" && (n.num(t, a) < y0-slack || n.num(t, a) > h+slack) {
				t.Errorf("<%s %s=%s> outside the height %g", n.XMLName.Local, a, n.attr(a), h)
			}
		}
		if n.XMLName.Local == "polyline" {
			for _, p := range points(t, n) {
				if p[0] < x0 || p[0] > w || p[1] < y0 || p[1] > h {
					t.Errorf("polyline point %v outside the viewBox", p)
				}
			}
		}
	}
}

// TestFairnessBarsMatchReport checks that the bars stand for the workers'
// acquisitions, in order, with heights in proportion, the starved worker
// marked, and the Jain index in the title.
func TestFairnessBarsMatchReport(t *testing.T) {
	r := sampleReport(t)
	root, _ := render(t, r)
	svg := svgByID(t, root, "run0-fairness")
	bars := svg.all(classed("rect", "bar"))
	if len(bars) != len(r.Workers) {
		t.Fatalf("%d bars for %d workers", len(bars), len(r.Workers))
	}
	tallest := bars[1].num(t, "height") // w1 has the most
	for i, w := range r.Workers {
		if got := bars[i].num(t, "data-v"); got != float64(w.Acquisitions) {
			t.Errorf("bar %d stands for %g, want %s's %d", i, got, w.Name, w.Acquisitions)
		}
		starved := strings.Contains(bars[i].attr("class"), "starved")
		if starved != (w.Acquisitions == 0) {
			t.Errorf("bar of %s (%d acquisitions): starved %v", w.Name, w.Acquisitions, starved)
		}
		if want := tallest * float64(w.Acquisitions) / 300; !starved && math.Abs(bars[i].num(t, "height")-want) > 0.02 {
			t.Errorf("bar of %s: height %g, want %g", w.Name, bars[i].num(t, "height"), want)
		}
	}
	if title := svg.all(classed("text", "title"))[0].Text; !strings.Contains(title, "Jain index 0.571 over 4 workers") {
		t.Errorf("title %q does not give the Jain index 0.571", title)
	}
}

// TestPercentileCurveMatchesReport reads the acquire curve back off its
// axis: it must rise to the report's maximum and start at its minimum.
func TestPercentileCurveMatchesReport(t *testing.T) {
	r := sampleReport(t)
	root, _ := render(t, r)
	svg := svgByID(t, root, "latency-acquire")
	line := svg.all(classed("polyline", "series"))[0]
	pts := points(t, line)
	for i := 1; i < len(pts); i++ {
		if pts[i][0] < pts[i-1][0] || pts[i][1] > pts[i-1][1]+1e-9 {
			t.Fatalf("points %d and %d go back: %v, %v", i-1, i, pts[i-1], pts[i])
		}
	}
	for _, tc := range []struct {
		name string
		y    float64
		want int64
	}{{"max", pts[len(pts)-1][1], r.AcquireLatency.MaxNs}, {"min", pts[0][1], 50}} {
		if got := logAxisValue(t, svg, tc.y); math.Abs(got/float64(tc.want)-1) > 0.01 {
			t.Errorf("%s read off the axis: %.0fns, want %dns", tc.name, got, tc.want)
		}
	}
	if got := line.num(t, "data-max"); got != float64(r.AcquireLatency.MaxNs) {
		t.Errorf("data-max %g, want %d", got, r.AcquireLatency.MaxNs)
	}
}

// TestThroughputMatchesReport checks that each bar is its bin's
// acquisitions per second.
func TestThroughputMatchesReport(t *testing.T) {
	r := sampleReport(t)
	root, _ := render(t, r)
	bars := svgByID(t, root, "run0-throughput").all(classed("rect", "bar"))
	if len(bars) != len(r.Timeline.Acquisitions) {
		t.Fatalf("%d bars for %d bins", len(bars), len(r.Timeline.Acquisitions))
	}
	for i, n := range r.Timeline.Acquisitions {
		if got, want := bars[i].num(t, "data-v"), float64(n)*2; got != want {
			t.Errorf("bin %d: %g/s, want %g/s", i, got, want)
		}
		if got, want := bars[i].num(t, "height")/bars[1].num(t, "height"), float64(n)/200; math.Abs(got-want) > 0.001 {
			t.Errorf("bin %d: height ratio %g, want %g", i, got, want)
		}
	}
}

// TestTimelineWindow checks the holders' window: a bar per critical
// section, the overlapping two in red, the killed one marked, and a mark
// for the violation and the kill.
func TestTimelineWindow(t *testing.T) {
	root, _ := render(t, sampleReport(t))
	svg := svgByID(t, root, "run0-window0")
	for _, tc := range []struct {
		what string
		m    func(*node) bool
		want int
	}{
		{"critical sections", classed("rect", "hold"), 3},
		{"overlapping sections", classed("rect", "overlap"), 2},
		{"killed sections", classed("rect", "killed"), 1},
		{"violation marks", classed("line", "violation"), 1},
		{"kill marks", classed("line", "kill"), 1},
		{"worker rows", classed("text", "ytick"), 3},
	} {
		if got := len(svg.all(tc.m)); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.what, got, tc.want)
		}
	}
}

// TestSelfContained checks that the page loads nothing and runs nothing,
// and shows the verdict and the exact command line.
func TestSelfContained(t *testing.T) {
	root, page := render(t, sampleReport(t))
	for _, el := range []string{"script", "link", "img", "iframe", "object"} {
		if n := len(root.all(named(el))); n > 0 {
			t.Errorf("%d <%s> elements", n, el)
		}
	}
	if urls := regexp.MustCompile(`https?://[^"]*`).FindAllString(page, -1); len(urls) != len(root.all(named("svg"))) || strings.Join(urls, "") != strings.Repeat("http://www.w3.org/2000/svg", len(urls)) {
		t.Errorf("addresses other than the SVG namespace: %v", urls)
	}
	codes := root.all(classed("code", "cmd"))
	if len(codes) != 1 || codes[0].Text != "lockstress -strategy ofd -html 'a b.html'" {
		t.Errorf("command line not shown as given")
	}
	if n := len(root.all(classed("span", "FAIL"))); n < 2 {
		t.Errorf("%d FAIL verdict badges, want the page's and the run's", n)
	}
}

// A run's cautions are shown under its verdict, one paragraph each.
func TestCautionShown(t *testing.T) {
	r := sampleReport(t)
	r.Verdict, r.Reason, r.Violations = stress.VerdictPass, "", 0
	r.Cautions = []string{"lock held 3.7% of the time: a lock that lets a second worker in now and then is seen only while one is inside"}
	root, _ := render(t, r)
	got := root.all(classed("p", "caution"))
	if len(got) != 1 || got[0].Text != "Caution: "+r.Cautions[0] {
		t.Errorf("caution paragraphs %d (%v), want one with the report's caution", len(got), got)
	}
}

// A member of a mixed population that never acquired the lock has no
// curve, and the legend says so.
func TestMemberWithoutSamples(t *testing.T) {
	r := sampleReport(t)
	r.Strategy = "soft,os"
	r.Members = []stress.MemberStats{{Strategy: "soft", Workers: 2}, {Strategy: "os", Workers: 2, Acquisitions: 600, AcquireLatency: r.AcquireLatency}}
	root, _ := render(t, r)
	svg := svgByID(t, root, "latency-acquire")
	var labels []string
	for _, l := range svg.all(classed("polyline", "series")) {
		labels = append(labels, l.attr("data-label"))
	}
	if want := []string{"soft,os", "soft,os — os workers"}; strings.Join(labels, "|") != strings.Join(want, "|") {
		t.Errorf("curves %q, want %q", labels, want)
	}
	if !strings.Contains(textOf(svg), "soft,os — soft workers (no samples)") {
		t.Error("the legend does not name the member without samples")
	}
}

// The cpu row gives the adapters' processes beside the workers, and only
// where a run had them.
func TestCPUText(t *testing.T) {
	for _, tc := range []struct {
		r    stress.Report
		want string
	}{
		{stress.Report{WorkerCPUNs: 1.5e9, WorkerCPUShare: 0.25}, "1.5s, 0.25 cores"},
		{stress.Report{WorkerCPUNs: 1.5e9, WorkerCPUShare: 0.25, AdapterCPUNs: 3e9, AdapterCPUShare: 0.5},
			"1.5s, 0.25 cores; their adapters' processes 3s, 0.50 cores"},
	} {
		if got := cpuText(&tc.r); got != tc.want {
			t.Errorf("cpuText = %q; want %q", got, tc.want)
		}
	}
}
