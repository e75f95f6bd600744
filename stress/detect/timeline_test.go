package detect

import (
	"reflect"
	"testing"
)

// TestTimeline checks the counts per bin and the critical sections listed
// in each span, for logs of two workers (w0: sequence numbers 1, 3, 5 at
// 10·seq after origin 1000; w1: 2, 4, the second killed inside).
func TestTimeline(t *testing.T) {
	const origin = 1000
	at := func(seq uint64, flags Flags) Entry {
		return Entry{Seq: seq, Nonce: seq, Acquired: origin + int64(10*seq), Released: origin + int64(10*seq+5), Flags: flags}
	}
	logs := writeLogs(t,
		logSpec{host: "h", owner: "w0", entries: []Entry{at(1, 0), at(3, 0), at(5, 0)}},
		logSpec{host: "h", owner: "w1", entries: []Entry{at(2, 0), at(4, FlagKilled)}},
	)
	for _, tc := range []struct {
		name      string
		bin, end  int64
		spans     []Span
		maxPer    int
		counts    []int64
		holdings  [][]string // "worker/seq" of each span's holdings
		truncated []bool
	}{
		{name: "one bin a section", bin: 10, end: 60, counts: []int64{0, 1, 1, 1, 1, 1}},
		{name: "wide bins", bin: 25, end: 60, counts: []int64{2, 2, 1}},
		{name: "end cuts the last", bin: 20, end: 40, counts: []int64{1, 2}},
		{
			name: "spans", bin: 100, end: 100, counts: []int64{5}, maxPer: 10,
			spans:    []Span{{FromNs: 24, ToNs: 31}, {FromNs: 44, ToNs: 46}, {FromNs: 90, ToNs: 95}},
			holdings: [][]string{{"w1/2", "w0/3"}, {"w1/4 killed"}, nil}, truncated: []bool{false, false, false},
		},
		{
			name: "truncated", bin: 100, end: 100, counts: []int64{5}, maxPer: 2,
			spans:    []Span{{FromNs: 0, ToNs: 100}},
			holdings: [][]string{{"w0/1", "w1/2"}}, truncated: []bool{true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Timeline(logs, origin, tc.bin, tc.end, tc.spans, tc.maxPer)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Counts, tc.counts) {
				t.Errorf("counts %v, want %v", res.Counts, tc.counts)
			}
			if got := holdingNames(res.Holdings); !reflect.DeepEqual(got, nilIfEmpty(tc.holdings)) {
				t.Errorf("holdings %v, want %v", got, tc.holdings)
			}
			if len(tc.spans) > 0 && !reflect.DeepEqual(res.Truncated, tc.truncated) {
				t.Errorf("truncated %v, want %v", res.Truncated, tc.truncated)
			}
		})
	}
}

// TestTimelineTimes checks that a holding's times are from the origin.
func TestTimelineTimes(t *testing.T) {
	logs := writeLogs(t, logSpec{host: "h", owner: "w0", entries: []Entry{{Seq: 1, Acquired: 5030, Released: 5070}}})
	res, err := Timeline(logs, 5000, 10, 100, []Span{{FromNs: 0, ToNs: 100}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := Holding{Worker: "w0", FromNs: 30, ToNs: 70, Seq: 1}
	if len(res.Holdings[0]) != 1 || res.Holdings[0][0] != want {
		t.Errorf("holdings %+v, want [%+v]", res.Holdings[0], want)
	}
}

func holdingNames(spans [][]Holding) [][]string {
	var out [][]string
	for _, hs := range spans {
		var names []string
		for _, h := range hs {
			s := h.Worker + "/" + string(rune('0'+h.Seq))
			if h.Ended != "" {
				s += " " + h.Ended
			}
			names = append(names, s)
		}
		out = append(out, names)
	}
	return out
}

func nilIfEmpty(x [][]string) [][]string {
	if len(x) == 0 {
		return nil
	}
	return x
}
