package stress

import (
	"fmt"
	"os"

	"github.com/lockstress/lockstress/stress/detect"
)

// The ledger's look at a kill. A worker checks on leaving that the ledger
// still holds its acquisition (ledgerLeave), which is how the ledger alone
// sees a second worker that wrote over it while it was inside. A worker
// killed inside never leaves, and the worker that takes the lock over
// finds the ledger held by it, which the kill excuses (a takeover): so a
// second worker that entered before the kill, while the holder was alive,
// would go unseen by the ledger, and on a run that several hosts share the
// ledger is the one detector that sees across them. So the killer looks
// for the holder, while it is stopped, before the kill.

// holderStopped, if set, is called with the ledger's path and the entry of
// a holder stopped inside, to be killed, before the killer looks at the
// ledger: a test's way to write over it then, as a second worker let in
// would.
var holderStopped func(ledgerPath string, e detect.Entry)

// beforeKill, for a holder stopped inside whose entry is e, looks at the
// ledger (ledgerAtKill, adding what it finds to e) and notes the kill for
// the other hosts of a shared run, both within noteBound: the holder is
// stopped meanwhile, and a slow or hung filesystem would otherwise make
// the kill a stop long enough for its lock to be broken as stale, or hang
// the run. An error says that either failed, or was not done in time.
func (r *runner) beforeKill(e *detect.Entry) error {
	found := *e
	var note func() error
	if r.hostDir != "" {
		note = r.killNote(e.Nonce)
	}
	look, stopped := !r.cfg.DetectorsOff, holderStopped // read here: the look may outlive the run
	if !look && note == nil {
		return nil
	}
	what := "looking at the ledger before a kill"
	if note != nil {
		what = "looking at the ledger and noting a kill for the other hosts of the run"
	}
	err := r.withinBound(what, func() error {
		if look {
			if stopped != nil {
				stopped(r.ledgerPath, found)
			}
			if err := ledgerAtKill(r.ledgerPath, &found); err != nil {
				return fmt.Errorf("looking at the ledger before a kill: %w", err)
			}
		}
		if note != nil {
			if err := note(); err != nil {
				return fmt.Errorf("noting a kill for the other hosts of the run: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		*e = found // written before the step's result was sent
	}
	return err
}

// ledgerAtKill adds to e, the entry of a holder stopped inside the critical
// section and about to be killed, what its own checks would have found in
// the ledger at path. Once it has written its hold (e.Seq is its sequence
// number), as its leave would: FlagChanged (the nonce found in e.Seen) if
// the ledger holds neither its hold nor its release, FlagTornExit if it
// holds a torn record. Before (e.Seq is 0), as its entry would: FlagHeld
// (the holder's nonce in e.Seen) if the ledger holds another's hold,
// FlagTornEntry if a torn record. (A holder is never stopped for a kill
// in the middle of its write: see pickHolder.)
func ledgerAtKill(path string, e *detect.Entry) error {
	f, err := openLedger(path, false)
	if err != nil {
		return err
	}
	defer f.close()
	b := make([]byte, detect.RecordSize+64)
	n, err := f.readAt(b)
	if err != nil {
		return &os.PathError{Op: "read", Path: path, Err: err}
	}
	rec, perr := detect.ParseRecord(b[:n])
	written := e.Seq != 0
	switch {
	case perr != nil && written:
		e.Flags |= detect.FlagTornExit
	case perr != nil:
		e.Flags |= detect.FlagTornEntry
	case written && (rec.Nonce != e.Nonce || rec.Seq != e.Seq):
		// Its hold, or its release if it was stopped between the write
		// of the release and its phase's change, is all the lock lets
		// the ledger hold: it has not been released.
		e.Flags |= detect.FlagChanged
		e.Seen = rec.Nonce
	case !written && rec.State == detect.Held && rec.Nonce != e.Nonce:
		// Its own hold may be there, written before its number was
		// stored; another's is what its entry would have found held.
		e.Flags |= detect.FlagHeld
		e.Seen = rec.Nonce
	}
	return nil
}
