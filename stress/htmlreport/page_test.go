package htmlreport

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lockstress/lockstress/stress"
	"github.com/lockstress/lockstress/stress/detect"
)

const ms = int64(time.Millisecond)

// latencyOf returns the summary of the values as a report carries it.
func latencyOf(t *testing.T, values ...int64) stress.Latency {
	t.Helper()
	h := detect.NewLatencyHistogram()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return stress.Latency{Count: h.TotalCount(), P50Ns: h.ValueAtQuantile(50), P99Ns: h.ValueAtQuantile(99), MaxNs: h.Max(), Histogram: string(enc)}
}

// sampleReport returns a report of a 2 s run of four workers, one starved,
// with an overlap between w0 and w1 at 1.0002 s and a kill of w3.
func sampleReport(t *testing.T) *stress.Report {
	t.Helper()
	var acquire []int64
	for i := int64(1); i <= 1000; i++ {
		acquire = append(acquire, i*i*50) // 50ns to 50ms
	}
	overlap := detect.Violation{Detector: detect.Interval, Kind: detect.KindOverlap, Workers: []string{"w1", "w0"}, AtNs: 1000*ms + ms/5, Detail: "entered while w0 was inside"}
	return &stress.Report{
		Strategy: "ofd", Hosts: []string{"h"}, Verdict: stress.VerdictFail, Reason: "mutual exclusion was violated",
		Config:       stress.ReportConfig{Procs: 4, DurationNs: 2000 * ms, Hold: "0s", Think: "0s", Detectors: true, KillRate: 1},
		ElapsedNs:    2000 * ms,
		Acquisitions: 600, Throughput: 300,
		Workers:        []stress.WorkerStats{{Name: "w0", Acquisitions: 100}, {Name: "w1", Acquisitions: 300}, {Name: "w2"}, {Name: "w3", Acquisitions: 200, Incarnations: 2}},
		Fairness:       stress.Fairness{Workers: 4, Jain: 0.5714, Min: 0, Max: 300, Starved: []string{"w2"}},
		AcquireLatency: latencyOf(t, acquire...), HoldTime: latencyOf(t, 1000, 2000, 3000), HandoffLatency: latencyOf(t, 500, 700),
		Faults:    stress.Faults{Kills: 1, Recovered: 1, KillEvents: []stress.KillEvent{{Worker: "w3", AtNs: 1000*ms + 7*ms/10}}},
		Detectors: stress.Detectors{Enabled: true, Interval: stress.DetectorReport{Count: 1, Examples: []detect.Violation{overlap}}},
		Timeline: &stress.Timeline{BinNs: 500 * ms, Acquisitions: []int64{100, 200, 200, 100}, Windows: []stress.Window{{
			Host: "h", Reason: "violation", FromNs: 999 * ms, ToNs: 1001 * ms,
			Holdings: []detect.Holding{
				{Worker: "w0", FromNs: 1000 * ms, ToNs: 1000*ms + 3*ms/10, Seq: 7},
				{Worker: "w1", FromNs: 1000*ms + ms/5, ToNs: 1000*ms + ms/2, Seq: 8},
				{Worker: "w3", FromNs: 1000*ms + 6*ms/10, ToNs: 1000*ms + 7*ms/10, Seq: 9, Ended: "killed"},
			},
		}}},
	}
}

// render renders the reports as one document and parses the page.
func render(t *testing.T, reports ...*stress.Report) (*node, string) {
	t.Helper()
	doc := stress.NewDocument(reports...)
	doc.Command = "lockstress -strategy ofd -html 'a b.html'"
	var b bytes.Buffer
	if err := Write(&b, Source{Doc: doc}); err != nil {
		t.Fatal(err)
	}
	return parsePage(t, b.Bytes()), b.String()
}

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
