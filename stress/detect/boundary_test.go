package detect

import "testing"

// The tests of this file pin each verifier's comparisons at their
// boundaries: the first case that must be a violation and the last that
// must not. A verifier whose comparison is weakened by one goes blind to
// exactly the cases next to its boundary, which a run of a broken strategy
// would not show, since the other detectors still fire there.

// TestLedgerSequenceBoundary: a worker's own sequence numbers must
// strictly increase, and no sequence number may be logged twice.
func TestLedgerSequenceBoundary(t *testing.T) {
	for _, tc := range []struct {
		name  string
		logs  []logSpec
		kinds map[string]int64
	}{
		{"one worker, increasing by one", []logSpec{{owner: "w0", entries: seqs(4, 5)}}, map[string]int64{}},
		{"one worker, the same number twice", []logSpec{{owner: "w0", entries: seqs(5, 5)}},
			map[string]int64{KindRegression: 1, KindDuplicate: 1}},
		{"one worker, back by one", []logSpec{{owner: "w0", entries: seqs(5, 4)}}, map[string]int64{KindRegression: 1}},
		{"two workers, consecutive numbers", []logSpec{{owner: "w0", entries: seqs(1)}, {owner: "w1", entries: seqs(2)}}, map[string]int64{}},
		{"two workers, the same number", []logSpec{{owner: "w0", entries: seqs(1)}, {owner: "w1", entries: seqs(1)}}, map[string]int64{KindDuplicate: 1}},
		{"two workers, the same first number 1", []logSpec{{owner: "w0", entries: seqs(1, 2)}, {owner: "w1", entries: seqs(1)}}, map[string]int64{KindDuplicate: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := VerifyLedger(writeLogs(t, tc.logs...), nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !sameCounts(res.Violations.ByKind, tc.kinds) {
				t.Errorf("violations %v, want %v", res.Violations.ByKind, tc.kinds)
			}
			for _, v := range res.Violations.Examples {
				if v.Detector != Ledger {
					t.Errorf("violation %+v is not the ledger's", v)
				}
			}
		})
	}
}

// TestLedgerFlagsEachCounted: every flag a worker sets is a violation of
// its own kind, alone and together with the others, and an entry with no
// flag is none.
func TestLedgerFlagsEachCounted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags Flags
		kinds map[string]int64
	}{
		{"none", 0, map[string]int64{}},
		{"warm-up only", FlagWarmup, map[string]int64{}},
		{"held", FlagHeld, map[string]int64{KindHeld: 1}},
		{"torn on entry", FlagTornEntry, map[string]int64{KindTorn: 1}},
		{"torn on leaving", FlagTornExit, map[string]int64{KindTorn: 1}},
		{"changed", FlagChanged, map[string]int64{KindNonceChanged: 1}},
		{"all four", FlagHeld | FlagTornEntry | FlagTornExit | FlagChanged,
			map[string]int64{KindHeld: 1, KindTorn: 2, KindNonceChanged: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Entry{Seq: 1, Nonce: 5, Acquired: 10, Released: 20, Seen: 6, Flags: tc.flags}
			res, err := VerifyLedger(writeLogs(t, logSpec{owner: "w0", entries: []Entry{e}}), nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !sameCounts(res.Violations.ByKind, tc.kinds) {
				t.Errorf("violations %v, want %v", res.Violations.ByKind, tc.kinds)
			}
		})
	}
}

// TestIntervalBoundary: a critical section that begins one nanosecond
// before the furthest end so far overlaps it; one that begins at that end
// does not. Zero-length sections count like any other, and the furthest
// end, not the last one, is what a later section is compared with.
func TestIntervalBoundary(t *testing.T) {
	iv := func(a, b int64) Entry { return Entry{Acquired: a, Released: b} }
	for _, tc := range []struct {
		name      string
		logs      []logSpec
		want      int64
		intervals int64
	}{
		{"begins at the end", []logSpec{{owner: "w0", entries: []Entry{iv(0, 10)}}, {owner: "w1", entries: []Entry{iv(10, 20)}}}, 0, 2},
		{"begins one before the end", []logSpec{{owner: "w0", entries: []Entry{iv(0, 10)}}, {owner: "w1", entries: []Entry{iv(9, 20)}}}, 1, 2},
		{"zero-length inside", []logSpec{{owner: "w0", entries: []Entry{iv(0, 10)}}, {owner: "w1", entries: []Entry{iv(5, 5)}}}, 1, 2},
		{"zero-length at the end", []logSpec{{owner: "w0", entries: []Entry{iv(0, 10)}}, {owner: "w1", entries: []Entry{iv(10, 10)}}}, 0, 2},
		{"ended before it began: skipped", []logSpec{{owner: "w0", entries: []Entry{iv(0, 10)}}, {owner: "w1", entries: []Entry{iv(5, 4)}}}, 0, 1},
		{"the furthest end counts", []logSpec{{owner: "w0", entries: []Entry{iv(0, 100)}}, {owner: "w1", entries: []Entry{iv(10, 20)}}, {owner: "w2", entries: []Entry{iv(99, 120)}}}, 2, 3},
		{"a later section moves the end on", []logSpec{{owner: "w0", entries: []Entry{iv(0, 10)}}, {owner: "w1", entries: []Entry{iv(5, 30)}}, {owner: "w2", entries: []Entry{iv(20, 40)}}}, 2, 3},
		{"the first section opens the sweep", []logSpec{{owner: "w0", entries: []Entry{iv(-20, -10)}}, {owner: "w1", entries: []Entry{iv(-15, -12)}}}, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := VerifyIntervals(writeLogs(t, tc.logs...), 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if res.Violations.Count != tc.want || res.Violations.ByKind[KindOverlap] != tc.want {
				t.Errorf("%d overlaps (%v), want %d: %v", res.Violations.Count, res.Violations.ByKind, tc.want, res.Violations.Examples)
			}
			if res.Intervals != tc.intervals {
				t.Errorf("%d intervals swept, want %d", res.Intervals, tc.intervals)
			}
			for _, v := range res.Violations.Examples {
				if v.Detector != Interval {
					t.Errorf("violation %+v is not the interval detector's", v)
				}
			}
		})
	}
}
