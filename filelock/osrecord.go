package filelock

// The holder record of an OS or OFD lock, written once the hold has
// lasted recordDelay.
//
// A kernel lock needs no record: the kernel says whether it is held, and
// drops it when its holder dies. The record is there for Inspect, to say
// who holds a lock held for long, and for the best-effort detection of
// another strategy on the same path (liveRecord). Writing it into the
// empty lock file and emptying the file again at the release cost nearly
// two fifths of an uncontended cycle (on tmpfs and ext4 the write
// allocates the file's first block and the truncation frees it), so a
// hold shorter than recordDelay writes none: the record is written by a
// timer, and the release stops it. A hold that pays for its record is
// thus some hundreds of times longer than the writing. Until then
// Inspect reports the lock held by a holder that has not written its
// record yet, as it does for a Soft lock's claim being made.
//
// A lock file that held a record when it was locked (that of a holder
// that died holding it) gets this holder's record at once, so that no
// dead process is ever reported as the holder.
//
// The delayed write looks at the file once more: anything written into it
// meanwhile (by the holder itself, which may lock its own data file, or
// by another program) is never written over, as at the acquisition.
// The holding handle's own Inspect writes the record at once if it is
// still to come, so that a handle that holds the lock sees itself as the
// holder.
//
// The timer's write and the release are ordered by osHeld.mu: a write
// that begins after the release has stopped the timer finds the holding
// released and writes nothing; one that began before ends before the
// release looks at the file.

import (
	"time"
)

// recordDelay is how long an OS or OFD lock is held before its holder
// writes its record.
const recordDelay = 10 * time.Millisecond

// recordLater makes the holder write its record, for an acquisition at
// acquired, once it has held the lock for recordDelay.
func (h *osHeld) recordLater(l *Lock, acquired time.Time) {
	h.acquired = acquired
	h.timer = l.cfg.clock.AfterFunc(recordDelay, func() {
		if delayedRecordHook != nil {
			delayedRecordHook()
		}
		h.writeDelayed(l, acquired)
	})
}

// recordNow writes the record at once if its delayed write is still to
// come (for the holding handle's own Inspect).
func (h *osHeld) recordNow(l *Lock) {
	if h.timer == nil {
		return
	}
	h.timer.Stop()
	h.writeDelayed(l, h.acquired)
}

// writeDelayed writes the record, unless the holding has been released,
// the record is written already, or the file holds anything now. An error
// leaves the lock held without a record, as on a full disk: the kernel's
// lock needs none.
func (h *osHeld) writeDelayed(l *Lock, acquired time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released || h.record != nil {
		return
	}
	if info, err := h.f.Stat(); err != nil || info.Size != 0 {
		return
	}
	_ = h.writeRecord(l, acquired, false)
}

// Test hooks, nil elsewhere: delayedRecordHook is called as the delayed
// write begins, releaseUnlockHook as a release is about to unlock.
var delayedRecordHook, releaseUnlockHook func()

// stopRecord stops the record's delayed write, waiting for one that has
// begun to end: the release then sees the file as that write left it.
func (h *osHeld) stopRecord() {
	if h.timer != nil {
		h.timer.Stop()
	}
	h.mu.Lock()
	h.released = true
	h.mu.Unlock()
}

// writeRecord writes this holder's record, for an acquisition at
// acquired, into the locked file, emptied first if truncate. On a full
// disk the file is left empty and the lock is held without a record.
func (h *osHeld) writeRecord(l *Lock, acquired time.Time, truncate bool) error {
	data, err := newRecord(l.cfg.self, acquired).MarshalText()
	if err == nil && truncate {
		err = h.f.Truncate(0)
	}
	if err == nil {
		_, err = h.f.WriteAt(data, 0)
	}
	if noSpace(err) {
		return h.f.Truncate(0)
	}
	if err == nil {
		h.record = data
	}
	return err
}
