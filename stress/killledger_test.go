//go:build linux

package stress

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/stress/detect"
)

// TestLedgerAtKill: what the killer finds in the ledger while the holder
// it is about to kill is stopped inside, as the holder's own leave would
// have judged it.
func TestLedgerAtKill(t *testing.T) {
	const seq, nonce, other = 7, 0xaaaa, 0xbbbb
	record := func(seq uint64, state detect.State, nonce uint64) []byte {
		return detect.AppendRecord(nil, detect.Record{Seq: seq, State: state, Owner: "w1", Nonce: nonce})
	}
	for _, tc := range []struct {
		name   string
		ledger []byte
		seq    uint64 // the holder's, 0: not yet written
		flags  detect.Flags
		seen   uint64
	}{
		{"its hold", record(seq, detect.Held, nonce), seq, 0, 0},
		{"its release, before it left", record(seq, detect.Released, nonce), seq, 0, 0},
		{"not yet written: the last holder's release", record(seq-1, detect.Released, other), 0, 0, 0},
		{"not yet written: its hold there, its number not yet stored", record(seq, detect.Held, nonce), 0, 0, 0},
		{"not yet written: another's hold", record(seq-1, detect.Held, other), 0, detect.FlagHeld, other},
		{"not yet written: torn", record(seq-1, detect.Released, other)[:detect.RecordSize/2], 0, detect.FlagTornEntry, 0},
		{"another's hold over its own", record(seq+1, detect.Held, other), seq, detect.FlagChanged, other},
		{"another's release over its own", record(seq+1, detect.Released, other), seq, detect.FlagChanged, other},
		{"its sequence number, another's nonce", record(seq, detect.Held, other), seq, detect.FlagChanged, other},
		{"its nonce, another sequence number", record(seq+1, detect.Held, nonce), seq, detect.FlagChanged, nonce},
		{"torn", record(seq, detect.Held, nonce)[:detect.RecordSize/2], seq, detect.FlagTornExit, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger")
			require.NoError(t, os.WriteFile(path, tc.ledger, 0o644))
			e := detect.Entry{Seq: tc.seq, Nonce: nonce, Flags: detect.FlagKilled}
			require.NoError(t, ledgerAtKill(path, &e))
			require.Equal(t, tc.flags|detect.FlagKilled, e.Flags)
			require.Equal(t, tc.seen, e.Seen)
		})
	}
	t.Run("no ledger", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger")
		e := detect.Entry{Seq: seq, Nonce: nonce}
		err := ledgerAtKill(path, &e)
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.ErrorContains(t, err, path)
	})
}

// TestKillSeesASecondWorkerInside: a second worker that entered and left
// while the holder was inside, and the holder then killed, is a violation
// the ledger finds on its own. The test writes the second worker's release
// over the holder's hold while the killer has it stopped: the worker that
// takes over after the kill finds the ledger released, so nothing but the
// killer's look can see it (no occupancy or interval is planted).
func TestKillSeesASecondWorkerInside(t *testing.T) {
	var (
		once    sync.Once
		planted error = errors.New("no holder was stopped after writing its hold")
	)
	holderStopped = func(path string, e detect.Entry) {
		if e.Seq == 0 {
			return
		}
		once.Do(func() {
			rec := detect.AppendRecord(nil, detect.Record{Seq: e.Seq + 1, State: detect.Released, Owner: "intruder", Nonce: e.Nonce ^ 1})
			// In place, as a worker writes it: the workers map the file.
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err == nil {
				_, err = f.WriteAt(rec, 0)
				err = errors.Join(err, f.Close())
			}
			planted = err
		})
	}
	t.Cleanup(func() { holderStopped = nil })
	cfg := Config{Strategy: mustStrategy(t, "ofd"), Procs: 4, Hold: Fixed(500 * time.Microsecond), KillRate: 5, MinChecked: -1}
	var rep *Report
	longerRuns(t, 2*time.Second, 8*time.Second, func(d time.Duration) string {
		cfg.Duration = d
		rep = runStress(t, cfg)
		if planted != nil {
			return planted.Error()
		}
		return ""
	})
	require.NoError(t, planted)
	d := rep.Detectors
	require.Equal(t, int64(1), d.Ledger.ByKind[detect.KindNonceChanged], "ledger: %+v", d.Ledger)
	require.Zero(t, d.Occupancy.Count+d.Interval.Count, "only the ledger sees it")
	require.Equal(t, VerdictFail, rep.Verdict)
	require.Contains(t, d.Ledger.Examples[0].Detail, "when it was killed inside")
}

// slowLedgerWritesEnv makes a worker of the test binary write the mapped
// ledger in two halves, a millisecond apart (slowCopyToMap).
const slowLedgerWritesEnv = "STRESS_TEST_SLOW_LEDGER_WRITES"

func init() {
	if os.Getenv(slowLedgerWritesEnv) != "" { // in a worker of the test binary
		copyToMap = slowCopyToMap
	}
}

func slowCopyToMap(m, b []byte) {
	half := len(b) / 2
	copy(m, b[:half])
	time.Sleep(time.Millisecond)
	copy(m[half:], b[half:])
}

// TestNoKillInALedgerWrite: a holder stopped in the middle of its write of
// the mapped ledger is let go, not killed, or the next holder would find
// the record torn, on a lock that is correct. The workers here take a
// millisecond over each write, about half of their time inside.
func TestNoKillInALedgerWrite(t *testing.T) {
	rep := killRun(t, Config{Strategy: mustStrategy(t, "ofd"), Procs: 4, KillRate: 50,
		Env: []string{slowLedgerWritesEnv + "=1"}})
	require.NotZero(t, rep.Faults.Kills)
}

// memLedgerWatch is a memLedger that calls before ahead of each write.
type memLedgerWatch struct {
	memLedger
	before func()
}

func (m *memLedgerWatch) writeAt(b []byte) error { m.before(); return m.memLedger.writeAt(b) }

// TestKilledEntryKeepsWhatItFound: what a worker's ledger checks found is
// in its slot before each of its writes, marked writing meanwhile, so that
// the entry its killer writes for it keeps it: the ledger found held on
// entry (its hold then written over that), and the ledger changed under it
// on leaving (its release then written). A new acquisition starts with
// nothing found.
func TestKilledEntryKeepsWhatItFound(t *testing.T) {
	const other = 5
	w, _ := testWorker(t, 1, detect.Record{})
	w.spec.MaxExamples = 0
	led := &memLedgerWatch{memLedger: memLedger{b: detect.AppendRecord(nil, detect.Record{Seq: 41, State: detect.Held, Owner: "w1", Nonce: other})}}
	led.before = func() {
		require.Equal(t, uint32(1), w.slot.writing.Load(), "a write not marked")
		e := w.slot.entry(detect.FlagKilled)
		require.Equal(t, w.entry.Flags&ledgerFindings|detect.FlagKilled, e.Flags, "what the entry's killer would write")
		require.Equal(t, w.entry.Seen, e.Seen)
	}
	w.ledger = led
	require.NoError(t, w.enter(1, 77))
	require.Zero(t, w.slot.writing.Load())
	require.Equal(t, detect.FlagHeld|detect.FlagKilled, w.slot.entry(detect.FlagKilled).Flags, "found held on entry")
	require.Equal(t, uint64(other), w.slot.entry(detect.FlagKilled).Seen)

	led.b = detect.AppendRecord(nil, detect.Record{Seq: 42, State: detect.Held, Owner: "w1", Nonce: other + 1})
	require.NoError(t, w.ledgerLeave())
	require.Equal(t, detect.FlagHeld|detect.FlagChanged|detect.FlagKilled, w.slot.entry(detect.FlagKilled).Flags, "changed under it on leaving")
	require.Equal(t, uint64(other+1), w.slot.entry(detect.FlagKilled).Seen)

	w.slot.phase.Store(phaseOut)
	led.b = detect.AppendRecord(nil, detect.Record{Seq: 43, State: detect.Released, Owner: "w1", Nonce: other})
	require.NoError(t, w.enter(2, 78))
	require.Equal(t, detect.FlagKilled, w.slot.entry(detect.FlagKilled).Flags, "a new acquisition found nothing")
}

// TestHungLedgerLookKillsNothing: a look at the ledger before a kill that
// does not end (a hung filesystem) is given the note's bound, as a note
// is: the holder is let go, nothing more is killed, and the run ends on
// time, an ERROR that says why.
func TestHungLedgerLookKillsNothing(t *testing.T) {
	release := make(chan struct{})
	holderStopped = func(string, detect.Entry) { <-release }
	t.Cleanup(func() { holderStopped = nil })
	rep := runDespiteAHang(t, release, Config{Dir: t.TempDir(), Strategy: mustStrategy(t, "os"), Procs: 3, Duration: 3 * time.Second,
		Hold: Fixed(200 * time.Microsecond), KillRate: 20})
	require.Zero(t, rep.Faults.Kills)
	require.Len(t, rep.Failures, 1)
	require.Equal(t, "kills", rep.Failures[0].Worker)
	require.Contains(t, rep.Failures[0].Reason, "looking at the ledger before a kill: not done within 1s")
	require.Equal(t, VerdictError, rep.Verdict)
	for _, w := range rep.Workers {
		require.Equal(t, 1, w.Incarnations, "worker %s killed", w.Name)
		require.NotZero(t, w.Acquisitions, "worker %s left stopped", w.Name)
	}
}

// runDespiteAHang runs cfg, in which a step of the faults hangs until
// release is closed, and closes it once the run is over; a run still going
// after a minute, which waited for that step, fails the test once release
// has let it end.
func runDespiteAHang(t *testing.T, release chan struct{}, cfg Config) *Report {
	t.Helper()
	var (
		rep  *Report
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		rep, err = Run(context.Background(), cfg)
	}()
	select {
	case <-done:
		close(release)
	case <-time.After(time.Minute):
		close(release)
		<-done
		t.Fatalf("a run of %v still ran after a minute: it waited for the step that hangs", cfg.Duration)
	}
	require.NoError(t, err)
	return rep
}
