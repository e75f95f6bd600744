//go:build linux

package stress

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/stress/detect"
)

// The tests of this file pin the comparison at the heart of the worker's
// two detectors of its own, the occupancy counter and the ledger checks,
// each at its boundary and with the other detectors out of the picture:
// a detector gone blind on its own is caught here even though the others
// would still fire in a run of a broken strategy.

// memLedger is a ledger held in memory.
type memLedger struct{ b []byte }

func (m *memLedger) readAt(b []byte) (int, error) { return copy(b, m.b), nil }
func (m *memLedger) writeAt(b []byte) error       { m.b = append(m.b[:0], b...); return nil }
func (m *memLedger) close() error                 { return nil }

// testWorker returns a worker of n with every detector on, its shared
// region in ordinary memory, its ledger in memory and holding rec, and
// no log.
func testWorker(t *testing.T, n int, rec detect.Record) (*worker, *memLedger) {
	t.Helper()
	words := make([]uint64, regionSize(n)/8) // 8-byte aligned for the atomics
	reg := viewRegion(unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), regionSize(n)), n)
	led := &memLedger{b: detect.AppendRecord(nil, rec)}
	w := &worker{
		spec:   workerSpec{Worker: 0, Workers: n, Owner: "w0", Detectors: true, MaxExamples: 10},
		reg:    reg,
		slot:   &reg.slots[0],
		ledger: led,
		kept:   true,
		rbuf:   make([]byte, detect.RecordSize+64),
		errors: map[string]ErrorCount{},
	}
	w.slot.pid.Store(int64(os.Getpid()))
	return w, led
}

// TestOccupancyBoundary: a worker that finds the counter at 2 on entry
// (itself and one other) has seen a violation; at 1 (itself alone) it has
// not. The other worker is alive (this process), so nothing excuses it.
func TestOccupancyBoundary(t *testing.T) {
	for _, tc := range []struct {
		name   string
		others int // workers already counted inside
		want   int64
	}{
		{"alone", 0, 0},
		{"one other inside", 1, 1},
		{"two others inside", 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := testWorker(t, 3, detect.Record{State: detect.Released, Owner: "-"})
			for i := 1; i <= tc.others; i++ {
				w.reg.slots[i].phase.Store(phaseInside)
				w.reg.slots[i].pid.Store(int64(os.Getpid()))
				w.reg.hdr.occupancy.Add(1)
			}
			if err := w.enter(1, 7); err != nil {
				t.Fatal(err)
			}
			if got := w.slot.occupied.Load(); got != tc.want {
				t.Errorf("%d others inside: %d occupancy violations, want %d", tc.others, got, tc.want)
			}
			if int64(len(w.occupied)) != tc.want {
				t.Errorf("%d examples, want %d: %+v", len(w.occupied), tc.want, w.occupied)
			}
			for _, v := range w.occupied {
				if v.Detector != detect.Occupancy || v.Kind != detect.KindOccupied || len(v.Workers) != 1+tc.others {
					t.Errorf("bad example %+v", v)
				}
			}
			if err := w.leave(); err != nil {
				t.Fatal(err)
			}
			if got := w.reg.hdr.occupancy.Load(); got != int64(tc.others) {
				t.Errorf("counter %d after leaving, want %d", got, tc.others)
			}
		})
	}
}

// TestLedgerEnterBoundary: on entry the worker flags the ledger found held
// and a torn record, and nothing else; it writes the next sequence number.
func TestLedgerEnterBoundary(t *testing.T) {
	for _, tc := range []struct {
		name    string
		found   []byte
		lastSeq uint64
		flags   detect.Flags
		seq     uint64
	}{
		{"released", detect.AppendRecord(nil, detect.Record{Seq: 41, State: detect.Released, Owner: "w1", Nonce: 5}), 0, 0, 42},
		{"held", detect.AppendRecord(nil, detect.Record{Seq: 41, State: detect.Held, Owner: "w1", Nonce: 5}), 0, detect.FlagHeld, 42},
		{"held under this worker's own name", detect.AppendRecord(nil, detect.Record{Seq: 41, State: detect.Held, Owner: "w0", Nonce: 5}), 0, detect.FlagHeld, 42},
		{"torn", detect.AppendRecord(nil, detect.Record{Seq: 41, State: detect.Released, Owner: "w1", Nonce: 5})[:detect.RecordSize-1], 9, detect.FlagTornEntry, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, led := testWorker(t, 1, detect.Record{})
			w.spec.MaxExamples = 0 // no observations file
			led.b = tc.found
			w.lastSeq = tc.lastSeq
			if err := w.ledgerEnter(77); err != nil {
				t.Fatal(err)
			}
			if w.entry.Flags != tc.flags || w.entry.Seq != tc.seq {
				t.Errorf("flags %b seq %d, want %b %d", w.entry.Flags, w.entry.Seq, tc.flags, tc.seq)
			}
			if tc.flags == detect.FlagHeld && w.entry.Seen != 5 {
				t.Errorf("seen %d, want the holder's nonce 5", w.entry.Seen)
			}
			rec, err := detect.ParseRecord(led.b)
			if err != nil || rec.State != detect.Held || rec.Nonce != 77 || rec.Seq != tc.seq {
				t.Errorf("ledger after entry %+v (%v), want held by 77 at %d", rec, err, tc.seq)
			}
		})
	}
}

// TestLedgerLeaveBoundary: on leaving, the worker flags any change of the
// record it wrote — its state, its nonce or its sequence number — and a
// torn record; the record exactly as written is no violation.
func TestLedgerLeaveBoundary(t *testing.T) {
	const nonce, seq = 77, 42
	mine := detect.Record{Seq: seq, State: detect.Held, Owner: "w0", Nonce: nonce}
	with := func(f func(*detect.Record)) []byte {
		r := mine
		f(&r)
		return detect.AppendRecord(nil, r)
	}
	for _, tc := range []struct {
		name  string
		found []byte
		flag  detect.Flags
	}{
		{"unchanged", with(func(*detect.Record) {}), 0},
		{"released under it", with(func(r *detect.Record) { r.State = detect.Released }), detect.FlagChanged},
		{"another nonce", with(func(r *detect.Record) { r.Nonce = nonce + 1 }), detect.FlagChanged},
		{"next sequence number", with(func(r *detect.Record) { r.Seq = seq + 1 }), detect.FlagChanged},
		{"previous sequence number", with(func(r *detect.Record) { r.Seq = seq - 1 }), detect.FlagChanged},
		{"torn", with(func(*detect.Record) {})[1:], detect.FlagTornExit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, led := testWorker(t, 1, detect.Record{})
			w.spec.MaxExamples = 0
			led.b = tc.found
			w.entry = detect.Entry{Seq: seq, Nonce: nonce}
			if err := w.ledgerLeave(); err != nil {
				t.Fatal(err)
			}
			if w.entry.Flags != tc.flag {
				t.Errorf("flags %b, want %b", w.entry.Flags, tc.flag)
			}
			wantCount := int64(0)
			if tc.flag != 0 {
				wantCount = 1
			}
			if got := w.slot.ledgerFlags.Load(); got != wantCount {
				t.Errorf("ledger flags counted %d, want %d", got, wantCount)
			}
			rec, err := detect.ParseRecord(led.b)
			if err != nil || rec.State != detect.Released || rec.Nonce != nonce || rec.Seq != seq {
				t.Errorf("ledger after leaving %+v (%v), want released by %d at %d", rec, err, nonce, seq)
			}
		})
	}
}

// TestLedgerLiveCount: the live count of ledger flags counts an entry that
// found the ledger held, unless the holder it found was killed inside the
// critical section, by this host or, in a shared run, by another (noted
// in its directory); every other flag counts in any case.
func TestLedgerLiveCount(t *testing.T) {
	const killed, killedElsewhere, alive = 501, 503, 502
	for _, tc := range []struct {
		name   string
		flags  detect.Flags
		seen   uint64
		shared bool
		want   int64
	}{
		{"held by a killed worker", detect.FlagHeld, killed, false, 0},
		{"held by a live worker", detect.FlagHeld, alive, false, 1},
		{"torn on entry", detect.FlagTornEntry, 0, false, 1},
		{"held by a killed worker and torn", detect.FlagHeld | detect.FlagTornEntry, killed, false, 1},
		{"held by a worker another host killed", detect.FlagHeld, killedElsewhere, true, 0},
		{"held by a live worker of a shared run", detect.FlagHeld, alive, true, 1},
		{"held by a worker noted killed, in a run not shared", detect.FlagHeld, killedElsewhere, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, led := testWorker(t, 1, detect.Record{})
			w.spec.MaxExamples = 0
			w.reg.noteKilled(killed)
			run := t.TempDir()
			other, own := filepath.Join(run, "hosts", "b-1-x"), filepath.Join(run, "hosts", "a-1-y")
			for _, dir := range []string{other, own} {
				require.NoError(t, os.MkdirAll(dir, 0o755))
			}
			require.NoError(t, os.WriteFile(filepath.Join(other, killNotesName), fmt.Appendf(nil, "%016x\n", killedElsewhere), 0o644))
			if tc.shared {
				w.spec.RunDir, w.spec.HostDir = run, own
			}
			w.entry = detect.Entry{Seq: 3, Nonce: 77, Flags: tc.flags, Seen: tc.seen}
			led.b = detect.AppendRecord(nil, detect.Record{Seq: 3, State: detect.Held, Owner: "w0", Nonce: 77})
			if err := w.ledgerLeave(); err != nil {
				t.Fatal(err)
			}
			if got := w.slot.ledgerFlags.Load(); got != tc.want {
				t.Errorf("counted %d, want %d", got, tc.want)
			}
		})
	}
}
