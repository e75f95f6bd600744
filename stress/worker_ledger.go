package stress

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/lockstress/lockstress/stress/detect"
)

// ledgerIO reads and writes the ledger record at offset 0.
type ledgerIO interface {
	readAt(b []byte) (int, error)
	writeAt(b []byte) error
	close() error
}

// ledgerEnter reads the ledger, which must be released, and writes it held
// with the next sequence number and this acquisition's nonce.
func (w *worker) ledgerEnter(nonce uint64) error {
	if w.ledger == nil {
		f, err := openLedger(w.spec.LedgerPath, !w.spec.ReopenLedger)
		if err != nil {
			return err
		}
		w.ledger, w.kept = f, !w.spec.ReopenLedger
	}
	f := w.ledger
	n, err := f.readAt(w.rbuf)
	if err != nil {
		return &os.PathError{Op: "read", Path: w.spec.LedgerPath, Err: err}
	}
	w.entry = detect.Entry{Nonce: nonce}
	prev := w.lastSeq
	rec, perr := detect.ParseRecord(w.rbuf[:n])
	if perr == nil {
		prev = rec.Seq
		if rec.State != detect.Released {
			w.entry.Flags |= detect.FlagHeld
			w.entry.Seen = rec.Nonce
		}
	} else {
		w.entry.Flags |= detect.FlagTornEntry
	}
	w.entry.Seq = prev + 1
	if w.entry.Flags != 0 {
		w.observe(w.entry.Flags, n, perr)
	}
	w.wbuf = detect.AppendRecord(w.wbuf[:0], detect.Record{Seq: w.entry.Seq, State: detect.Held, Owner: w.spec.Owner, Nonce: nonce})
	if err := w.writeLedger(f); err != nil {
		return &os.PathError{Op: "write", Path: w.spec.LedgerPath, Err: err}
	}
	w.slot.seq.Store(w.entry.Seq)
	w.lastSeq = max(w.lastSeq, w.entry.Seq)
	return nil
}

// ledgerLeave checks that the ledger still holds this acquisition and
// writes it released.
func (w *worker) ledgerLeave() error {
	f := w.ledger
	if f == nil {
		return nil
	}
	n, err := f.readAt(w.rbuf)
	if err != nil {
		return errors.Join(&os.PathError{Op: "read", Path: w.spec.LedgerPath, Err: err}, w.closeLedger(true))
	}
	var flag detect.Flags
	rec, perr := detect.ParseRecord(w.rbuf[:n])
	switch {
	case perr != nil:
		flag = detect.FlagTornExit
	case rec.State != detect.Held || rec.Nonce != w.entry.Nonce || rec.Seq != w.entry.Seq:
		flag = detect.FlagChanged
		w.entry.Seen = rec.Nonce
	}
	if flag != 0 {
		w.entry.Flags |= flag
		w.observe(flag, n, perr)
	}
	if f := w.entry.Flags; f&^detect.FlagHeld != 0 || f&detect.FlagHeld != 0 && !w.killed(w.entry.Seen) {
		w.slot.ledgerFlags.Add(1)
	}
	w.wbuf = detect.AppendRecord(w.wbuf[:0], detect.Record{Seq: w.entry.Seq, State: detect.Released, Owner: w.spec.Owner, Nonce: w.entry.Nonce})
	werr := w.writeLedger(f)
	if werr != nil {
		werr = &os.PathError{Op: "write", Path: w.spec.LedgerPath, Err: werr}
	}
	return errors.Join(werr, w.closeLedger(werr != nil))
}

// writeLedger writes w.wbuf into the ledger f, with what the checks of this
// acquisition found so far saved in the worker's slot first, and the slot
// marked writing meanwhile (see regionSlot).
func (w *worker) writeLedger(f ledgerIO) error {
	s := w.slot
	s.found.Store(w.entry.Seen)
	s.findings.Store(uint32(w.entry.Flags & ledgerFindings))
	s.writing.Store(1)
	err := f.writeAt(w.wbuf)
	s.writing.Store(0)
	return err
}

// closeLedger closes the ledger unless it is kept open; with always it
// closes it in any case.
func (w *worker) closeLedger(always bool) error {
	if w.ledger == nil || w.kept && !always {
		return nil
	}
	f := w.ledger
	w.ledger = nil
	if err := f.close(); err != nil {
		return &os.PathError{Op: "close", Path: w.spec.LedgerPath, Err: err}
	}
	return nil
}

// observe writes what was read into the observations file, for the first
// few observations.
func (w *worker) observe(f detect.Flags, n int, perr error) {
	if w.obsCount >= w.spec.MaxExamples {
		return
	}
	w.obsCount++
	if w.obs == nil {
		var err error
		name := filepath.Join(w.spec.LogDir, detect.ObsName(w.spec.Worker, w.spec.Incarnation))
		if w.obs, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
			w.countError("observe", err)
			return
		}
	}
	o := detect.Observation{Seq: w.entry.Seq, Nonce: w.entry.Nonce, AtNs: monotime(), Flags: f, Record: string(w.rbuf[:n])}
	if perr != nil {
		o.Error = perr.Error()
	}
	b, _ := json.Marshal(o) // plain data: always marshals
	if _, err := w.obs.Write(append(b, '\n')); err != nil {
		w.countError("observe", err)
	}
}

// killed reports whether the acquisition of nonce was killed inside the
// critical section, by this host (its region's last kills) or, on a host
// of a shared run, by another, whose note is written before its kill and
// so before any takeover: read only then, as a takeover is rare.
func (w *worker) killed(nonce uint64) bool {
	if w.reg.wasKilled(nonce) {
		return true
	}
	if w.spec.RunDir == "" {
		return false
	}
	elsewhere, _ := otherHostsKills(w.spec.RunDir, w.spec.HostDir)
	return elsewhere[nonce]
}
