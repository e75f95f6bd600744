//go:build linux

package stress

import (
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
	// A loaded machine may make no kill of a holder that has written its
	// hold in a short run: make it again, longer.
	for cfg.Duration = 2 * time.Second; ; cfg.Duration *= 2 {
		rep = runStress(t, cfg)
		if planted == nil || cfg.Duration >= 8*time.Second {
			break
		}
		t.Logf("run of %v: %v; again, for %v", cfg.Duration, planted, 2*cfg.Duration)
	}
	require.NoError(t, planted)
	d := rep.Detectors
	require.Equal(t, int64(1), d.Ledger.ByKind[detect.KindNonceChanged], "ledger: %+v", d.Ledger)
	require.Zero(t, d.Occupancy.Count+d.Interval.Count, "only the ledger sees it")
	require.Equal(t, VerdictFail, rep.Verdict)
	require.Contains(t, d.Ledger.Examples[0].Detail, "when it was killed inside")
}
