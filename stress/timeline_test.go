package stress

import (
	"reflect"
	"testing"
	"time"

	"github.com/lockstress/lockstress/stress/detect"
)

func TestBinWidth(t *testing.T) {
	for _, tc := range []struct {
		total, want time.Duration
	}{
		{50 * time.Millisecond, time.Millisecond},
		{300 * time.Millisecond, 5 * time.Millisecond},
		{3 * time.Second, 50 * time.Millisecond},
		{10 * time.Second, 100 * time.Millisecond},
		{20 * time.Second, 200 * time.Millisecond},
		{time.Minute, time.Second},
		{time.Hour, time.Second},
	} {
		if got := time.Duration(binWidth(int64(tc.total))); got != tc.want {
			t.Errorf("binWidth(%v) = %v, want %v", tc.total, got, tc.want)
		}
	}
}

// TestWindowSpans checks the windows a report gets: around its violations
// (merged when they overlap, at most maxWindows), or a sample. The report
// runs 10 s with 10000 acquisitions: a window reaches 12 ms either side.
func TestWindowSpans(t *testing.T) {
	const ms = int64(time.Millisecond)
	at := func(ns ...int64) []detect.Violation {
		var out []detect.Violation
		for _, n := range ns {
			out = append(out, detect.Violation{AtNs: n})
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		ledger     []detect.Violation
		interval   []detect.Violation
		kills      []KillEvent
		stops      []StopEvent
		wantReason string
		want       []detect.Span
	}{
		{name: "sample in the middle", wantReason: "sample", want: []detect.Span{{FromNs: 4988 * ms, ToNs: 5012 * ms}}},
		{name: "sample over a kill and its recovery", kills: []KillEvent{{AtNs: 2000 * ms, RecoveryNs: 30 * ms}}, wantReason: "sample",
			want: []detect.Span{{FromNs: 1988 * ms, ToNs: 2042 * ms}}},
		{name: "sample over a stop", stops: []StopEvent{{AtNs: 3000 * ms, DurationNs: 100 * ms}}, wantReason: "sample",
			want: []detect.Span{{FromNs: 2988 * ms, ToNs: 3112 * ms}}},
		{name: "violations of two detectors, two merged", ledger: at(1000*ms, 9995*ms), interval: at(1010 * ms), wantReason: "violation",
			want: []detect.Span{{FromNs: 988 * ms, ToNs: 1022 * ms}, {FromNs: 9983 * ms, ToNs: 10000 * ms}}},
		{name: "at most four", ledger: at(0, 1000*ms, 2000*ms, 3000*ms, 4000*ms), wantReason: "violation",
			want: []detect.Span{{FromNs: 0, ToNs: 12 * ms}, {FromNs: 988 * ms, ToNs: 1012 * ms}, {FromNs: 1988 * ms, ToNs: 2012 * ms}, {FromNs: 2988 * ms, ToNs: 3012 * ms}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &Report{ElapsedNs: 10000 * ms, Acquisitions: 10000, Faults: Faults{KillEvents: tc.kills, StopEvents: tc.stops}}
			rep.Detectors.Ledger.Examples, rep.Detectors.Interval.Examples = tc.ledger, tc.interval
			spans, reason := windowSpans(rep, rep.ElapsedNs)
			if reason != tc.wantReason || !reflect.DeepEqual(spans, tc.want) {
				t.Errorf("windows %v (%s), want %v (%s)", spans, reason, tc.want, tc.wantReason)
			}
		})
	}
}
