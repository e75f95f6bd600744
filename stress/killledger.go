package stress

import (
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

// ledgerAtKill adds to e, the entry of a holder stopped inside the critical
// section and about to be killed, what its leave would have found in the
// ledger at path: FlagChanged (the nonce found in e.Seen) if the ledger
// holds neither its hold nor its release, FlagTornExit if it holds a torn
// record. A holder that has not yet written its hold (its sequence number
// is not known: e.Seq is 0) is left as it is: it may be stopped before its
// write, and no one can have taken over from a hold not written.
func ledgerAtKill(path string, e *detect.Entry) error {
	if e.Seq == 0 {
		return nil
	}
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
	switch {
	case perr != nil:
		e.Flags |= detect.FlagTornExit
	case rec.Nonce != e.Nonce || rec.Seq != e.Seq:
		// Its hold, or its release if it was stopped between the write
		// of the release and its phase's change, is all the lock lets
		// the ledger hold: it has not been released.
		e.Flags |= detect.FlagChanged
		e.Seen = rec.Nonce
	}
	return nil
}
