package detect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// logSpec is a hand-made worker log.
type logSpec struct {
	host    string
	owner   string
	inc     int
	entries []Entry
	obs     []Observation
	raw     []byte // appended after the entries
}

// writeLogs writes the logs into a fresh directory and returns them.
func writeLogs(t *testing.T, specs ...logSpec) []Log {
	t.Helper()
	dir := t.TempDir()
	for i, s := range specs {
		b := AppendLogHeader(nil, LogHeader{Run: "r", Host: s.host, Worker: i, Incarnation: s.inc, PID: 100 + i, Owner: s.owner})
		for _, e := range s.entries {
			b = AppendEntry(b, e)
		}
		b = append(b, s.raw...)
		if err := os.WriteFile(filepath.Join(dir, LogName(i, s.inc)), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if len(s.obs) > 0 {
			var lines []byte
			for _, o := range s.obs {
				j, _ := json.Marshal(o)
				lines = append(append(lines, j...), '\n')
			}
			if err := os.WriteFile(filepath.Join(dir, ObsName(i, s.inc)), lines, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	logs, err := FindLogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != len(specs) {
		t.Fatalf("FindLogs found %d logs, want %d", len(logs), len(specs))
	}
	return logs
}

// seqs makes entries with the given sequence numbers, nonce = 1000+seq,
// each critical section [10·seq, 10·seq+5].
func seqs(ns ...uint64) []Entry {
	var out []Entry
	for _, n := range ns {
		out = append(out, Entry{Seq: n, Nonce: 1000 + n, Acquired: int64(10 * n), Released: int64(10*n + 5)})
	}
	return out
}

func TestVerifyLedger(t *testing.T) {
	held := Entry{Seq: 3, Nonce: 77, Acquired: 30, Released: 35, Flags: FlagHeld, Seen: 1002}
	for _, tc := range []struct {
		name      string
		logs      []logSpec
		kinds     map[string]int64
		handoffs  int64
		retakes   int64
		takeovers int64
		detail    string // in the first example
	}{
		{
			name:     "clean alternating",
			logs:     []logSpec{{owner: "w0", entries: seqs(1, 3, 5)}, {owner: "w1", entries: seqs(2, 4, 6)}},
			kinds:    map[string]int64{},
			handoffs: 5,
		},
		{
			name:     "retakes",
			logs:     []logSpec{{owner: "w0", entries: seqs(1, 2, 3)}, {owner: "w1", entries: seqs(4)}},
			kinds:    map[string]int64{},
			handoffs: 3, retakes: 2,
		},
		{
			name:     "a restarted worker is the same worker",
			logs:     []logSpec{{owner: "w0", entries: seqs(1)}, {owner: "w0", inc: 1, entries: seqs(2)}},
			kinds:    map[string]int64{},
			handoffs: 1, retakes: 1,
		},
		{
			name:     "duplicated seq",
			logs:     []logSpec{{owner: "w0", entries: seqs(1, 2)}, {owner: "w1", entries: seqs(2, 3)}},
			kinds:    map[string]int64{KindDuplicate: 1},
			handoffs: 2, retakes: 2, // 1→2 by w0; 2→3 by w1
			detail: "sequence number 2 was written by two acquisitions",
		},
		{
			name:     "duplicated seq across hosts",
			logs:     []logSpec{{host: "a", owner: "a/w0", entries: seqs(1, 2)}, {host: "b", owner: "b/w0", entries: seqs(2)}},
			kinds:    map[string]int64{KindDuplicate: 1},
			handoffs: 1, retakes: 1,
		},
		{
			name:   "regression",
			logs:   []logSpec{{owner: "w0", entries: seqs(5, 3)}},
			kinds:  map[string]int64{KindRegression: 1},
			detail: "wrote sequence number 3 after it had written 5 itself",
		},
		{
			name: "torn record",
			logs: []logSpec{{owner: "w0", entries: []Entry{{Seq: 1, Nonce: 5, Flags: FlagTornEntry}},
				obs: []Observation{{Seq: 1, Nonce: 5, Flags: FlagTornEntry, Record: "lockstress-ledger v1 seq=0000garbage", Error: "torn ledger record: 35 bytes"}}}},
			kinds:  map[string]int64{KindTorn: 1},
			detail: "garbage",
		},
		{
			name:  "torn on leaving",
			logs:  []logSpec{{owner: "w0", entries: []Entry{{Seq: 1, Nonce: 5, Flags: FlagTornExit}}}},
			kinds: map[string]int64{KindTorn: 1},
		},
		{
			name:   "changed nonce",
			logs:   []logSpec{{owner: "w0", entries: []Entry{{Seq: 1, Nonce: 5, Flags: FlagChanged, Seen: 6}}}},
			kinds:  map[string]int64{KindNonceChanged: 1},
			detail: "on leaving the ledger held nonce 0000000000000006",
		},
		{
			name:     "found held by a live owner",
			logs:     []logSpec{{owner: "w0", entries: seqs(1, 2)}, {owner: "w1", entries: []Entry{held}}},
			kinds:    map[string]int64{KindHeld: 1},
			handoffs: 2, retakes: 1,
		},
		{
			name: "found held by a killed owner",
			logs: []logSpec{
				{owner: "w0", entries: append(seqs(1), Entry{Seq: 2, Nonce: 1002, Acquired: 20, Released: 25, Flags: FlagKilled})},
				{owner: "w1", entries: []Entry{held}},
			},
			kinds:    map[string]int64{},
			handoffs: 2, retakes: 1, takeovers: 1,
		},
		{
			name: "killed before writing the ledger",
			logs: []logSpec{
				{owner: "w0", entries: append(seqs(1), Entry{Seq: 0, Nonce: 9, Acquired: 20, Released: 25, Flags: FlagKilled})},
				{owner: "w1", entries: seqs(2)},
			},
			kinds:    map[string]int64{},
			handoffs: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := VerifyLedger(writeLogs(t, tc.logs...), nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.LogErrors) > 0 {
				t.Errorf("log errors: %v", res.LogErrors)
			}
			var want int64
			for _, n := range tc.kinds {
				want += n
			}
			if res.Violations.Count != want || !sameCounts(res.Violations.ByKind, tc.kinds) {
				t.Errorf("violations %d %v, want %d %v", res.Violations.Count, res.Violations.ByKind, want, tc.kinds)
			}
			if int64(len(res.Violations.Examples)) != want {
				t.Errorf("%d examples, want %d", len(res.Violations.Examples), want)
			}
			if res.Handoffs != tc.handoffs || res.Retakes != tc.retakes || res.Takeovers != tc.takeovers {
				t.Errorf("handoffs %d retakes %d takeovers %d, want %d %d %d", res.Handoffs, res.Retakes, res.Takeovers, tc.handoffs, tc.retakes, tc.takeovers)
			}
			if tc.detail != "" && (len(res.Violations.Examples) == 0 || !strings.Contains(res.Violations.Examples[0].Detail, tc.detail)) {
				t.Errorf("examples %v, want one saying %q", res.Violations.Examples, tc.detail)
			}
			for _, v := range res.Violations.Examples {
				if v.Detector != Ledger || len(v.Workers) == 0 || v.Detail == "" {
					t.Errorf("incomplete example %+v", v)
				}
			}
		})
	}
}

func sameCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, n := range a {
		if b[k] != n {
			return false
		}
	}
	return true
}

// The examples kept are limited; the counts are not.
func TestVerifyLedgerExampleLimit(t *testing.T) {
	var a, b []Entry
	for i := uint64(1); i <= 50; i++ {
		a = append(a, seqs(i)...)
		b = append(b, seqs(i)...)
	}
	res, err := VerifyLedger(writeLogs(t, logSpec{owner: "w0", entries: a}, logSpec{owner: "w1", entries: b}), nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	if res.Violations.Count != 50 || len(res.Violations.Examples) != 3 {
		t.Errorf("count %d with %d examples, want 50 with 3", res.Violations.Count, len(res.Violations.Examples))
	}
}

func TestDamagedLogs(t *testing.T) {
	bad := AppendEntry(nil, Entry{Seq: 9})
	bad[3] ^= 1
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"partial entry", []byte{1, 2, 3}, "partial entry of 3 bytes"},
		{"damaged entry", bad, "checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := writeLogs(t, logSpec{owner: "w0", entries: seqs(1, 2), raw: tc.raw})
			res, err := VerifyLedger(logs, nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			if res.Entries != 2 || len(res.LogErrors) != 1 || !strings.Contains(res.LogErrors[0], tc.want) {
				t.Errorf("entries %d, log errors %q; want 2 entries and an error saying %q", res.Entries, res.LogErrors, tc.want)
			}
		})
	}
	t.Run("no header", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, LogName(0, 0)), []byte("hello\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := FindLogs(dir); err == nil || !strings.Contains(err.Error(), "no header") {
			t.Errorf("FindLogs = %v, want an error about the header", err)
		}
	})
}

func TestVerifyIntervals(t *testing.T) {
	iv := func(a, b int64) Entry { return Entry{Acquired: a, Released: b} }
	for _, tc := range []struct {
		name string
		logs []logSpec
		want int64
	}{
		{"disjoint", []logSpec{{owner: "w0", entries: []Entry{iv(0, 10), iv(20, 30)}}, {owner: "w1", entries: []Entry{iv(11, 19), iv(31, 40)}}}, 0},
		{"touching is not overlapping", []logSpec{{owner: "w0", entries: []Entry{iv(0, 10)}}, {owner: "w1", entries: []Entry{iv(10, 20)}}}, 0},
		{"overlap", []logSpec{{owner: "w0", entries: []Entry{iv(0, 10)}}, {owner: "w1", entries: []Entry{iv(5, 15)}}}, 1},
		{"nested", []logSpec{{owner: "w0", entries: []Entry{iv(0, 100)}}, {owner: "w1", entries: []Entry{iv(10, 20), iv(30, 40)}}}, 2},
		{"three at once", []logSpec{{owner: "w0", entries: []Entry{iv(0, 10)}}, {owner: "w1", entries: []Entry{iv(1, 10)}}, {owner: "w2", entries: []Entry{iv(2, 10)}}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := VerifyIntervals(writeLogs(t, tc.logs...), 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if res.Violations.Count != tc.want {
				t.Errorf("%d overlaps, want %d: %v", res.Violations.Count, tc.want, res.Violations.Examples)
			}
			for _, v := range res.Violations.Examples {
				if v.Kind != KindOverlap || len(v.Workers) != 2 || v.Workers[0] == v.Workers[1] || !strings.Contains(v.Detail, "while") {
					t.Errorf("bad example %+v", v)
				}
			}
		})
	}
}

// TestHandoffLatency: a handoff's latency is the next holder's acquisition
// stamp minus the previous holder's release stamp, for handoffs between two
// workers of one host; re-takes, handoffs across hosts (whose clocks do not
// compare) and handoffs from a killed holder are left out.
func TestHandoffLatency(t *testing.T) {
	e := func(seq uint64, acq, rel int64, flags Flags) Entry {
		return Entry{Seq: seq, Nonce: 1000 + seq, Acquired: acq, Released: rel, Flags: flags}
	}
	res, err := VerifyLedger(writeLogs(t,
		logSpec{host: "a", owner: "w0", entries: []Entry{e(1, 100, 200, 0), e(3, 1000, 1100, 0), e(4, 1200, 1300, FlagKilled)}},
		logSpec{host: "a", owner: "w1", entries: []Entry{e(2, 230, 300, 0), e(5, 1400, 1500, 0)}},
		logSpec{host: "b", owner: "w2", entries: []Entry{e(6, 50, 60, 0)}},
	), nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	// 1→2: 30ns; 2→3: 700ns; 3→4 a re-take; 4→5 from a killed holder;
	// 5→6 across hosts.
	h := res.HandoffNs
	if res.Handoffs != 5 || h.TotalCount() != 2 || h.Min() != 30 || h.Max() != 700 {
		t.Errorf("handoffs %d, latencies %d from %d to %d; want 5, 2 from 30 to 700", res.Handoffs, h.TotalCount(), h.Min(), h.Max())
	}
}
