package detect

import "testing"

func TestViolationString(t *testing.T) {
	for _, tc := range []struct {
		v    Violation
		want string
	}{
		{Violation{Detector: Interval, Kind: KindOverlap, Detail: "d"}, "interval overlap: d"},
		{Violation{Detector: Ledger, Kind: KindDuplicate, Workers: []string{"w1", "w2"}, Seq: 1, Detail: "d"}, "ledger duplicate-seq [w1 w2] seq 1: d"},
		{Violation{Detector: Occupancy, Kind: KindOccupied, Workers: []string{"w0"}, Detail: "d"}, "occupancy occupied [w0]: d"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// TestTallyMerge: counts add up whatever the limit; examples are kept up
// to the limit and no further.
func TestTallyMerge(t *testing.T) {
	v := func(kind string) Violation { return Violation{Detector: Ledger, Kind: kind, Detail: kind} }
	for _, tc := range []struct {
		name          string
		max, own, add int
		wantExamples  int
	}{
		{"room for all", 5, 1, 2, 3},
		{"exactly full", 3, 1, 2, 3},
		{"one too many", 2, 1, 2, 2},
		{"already full", 1, 1, 2, 1},
		{"no examples", 0, 1, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := NewTally(tc.max), NewTally(tc.max+10)
			for range tc.own {
				a.Add(v(KindTorn))
			}
			for range tc.add {
				b.Add(v(KindHeld))
			}
			a.Merge(b)
			if a.Count != int64(tc.own+tc.add) || a.ByKind[KindTorn] != int64(tc.own) || a.ByKind[KindHeld] != int64(tc.add) {
				t.Errorf("count %d by kind %v, want %d: %d torn, %d held", a.Count, a.ByKind, tc.own+tc.add, tc.own, tc.add)
			}
			if len(a.Examples) != tc.wantExamples {
				t.Errorf("%d examples, want %d", len(a.Examples), tc.wantExamples)
			}
			if len(a.Examples) > 0 && tc.own > 0 && tc.max > 0 && a.Examples[0].Kind != KindTorn {
				t.Errorf("the tally's own examples come first: %v", a.Examples)
			}
		})
	}
}
