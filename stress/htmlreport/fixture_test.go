package htmlreport

import (
	"bytes"
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
