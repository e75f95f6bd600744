package filelock

// A held Soft or Link lock: its lock file, kept open where that makes its
// holder's death an event, and the ownership-checked release, which
// removes the lock file only if it is still this holder's.

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
)

// fileHeld is a Soft or Link lock this process holds.
type fileHeld struct {
	m    fileMechanism
	l    *Lock
	id   fsys.FileID
	data []byte // the record as written

	lostCh chan struct{} // closed when the heartbeat finds the lock lost
	every  time.Duration // the heartbeat's interval; 0: none

	// beatMu is held by a heartbeat while it runs and by stopHeartbeat,
	// which therefore waits for a heartbeat in progress.
	beatMu  sync.Mutex
	timer   clock.Timer // the next heartbeat
	stopped bool
	beatRun int // counts the heartbeat's stops: a timer of an earlier run does nothing
	// seenAside: the last beat found the file moved aside (errMovedAside).
	seenAside bool

	mu        sync.Mutex
	refreshed time.Time // when the lock file was made or last refreshed
	isLost    bool

	// kept is the lock file opened for writing, held open while the lock
	// is held (see keepsOpen); nil if none.
	kept io.Closer
}

// closeKept closes the kept descriptor, if any.
func (h *fileHeld) closeKept() {
	if h.kept != nil {
		h.kept.Close()
		h.kept = nil
	}
}

// newHeld returns the holding of a lock file made, with data, no earlier
// than made; kept is the file kept open, or nil.
func (m fileMechanism) newHeld(l *Lock, id fsys.FileID, data []byte, made time.Time, kept io.Closer) *fileHeld {
	h := &fileHeld{m: m, l: l, id: id, data: data, lostCh: make(chan struct{}), refreshed: made,
		every: l.cfg.heartbeatEvery(), kept: kept}
	if h.every > 0 {
		// A timer callback rather than a goroutine: nothing runs, and
		// nothing is left to wait for, between heartbeats. beatMu keeps
		// a callback that fires at once from racing this assignment.
		h.beatMu.Lock()
		h.scheduleBeat()
		h.beatMu.Unlock()
	}
	return h
}

func (h *fileHeld) lost() <-chan struct{} { return h.lostCh }

// release removes the lock file if it is still this holder's: the same
// inode with the same record (and so the same random token). If the lock
// may have been judged stale, the check and the removal are made under the
// guard, or, when the guard cannot be had within releaseGuardWait, by
// moving the file aside and removing it only if it is this holder's.
func (h *fileHeld) release() error {
	h.stopHeartbeat()
	err := h.remove()
	if err != nil && !errors.Is(err, ErrLockLost) {
		if owned, oerr := h.owned(); owned || oerr != nil {
			// The lock file is (or may still be) this holder's: keep
			// the hold, so that Unlock can be retried.
			h.resumeHeartbeat()
			return &holdKept{err}
		}
	}
	if errors.Is(err, ErrLockLost) {
		h.markLost()
	}
	h.closeKept()
	dropRecord(h.data)
	return err
}

// remove removes the lock file if it is this holder's; see release.
func (h *fileHeld) remove() error {
	h.mu.Lock()
	isLost := h.isLost
	h.mu.Unlock()
	if isLost {
		// Found lost by the heartbeat. Should the file be this holder's
		// again all the same (put back by a break that found it
		// refreshed), it is removed, so that it does not hold the lock
		// for nobody until it is stale; an error doing so leaves it to
		// that age.
		_ = h.releaseUnguarded()
		return ErrLockLost
	}
	guarded := !h.young()
	if guarded {
		g, err := h.m.takeGuard(context.Background(), h.l, true, h.l.cfg.clock.Now().Add(releaseGuardWait))
		if err != nil {
			return h.releaseUnguarded()
		}
		defer g.release()
	}
	owned, err := h.owned()
	if errors.Is(err, errMovedAside) && !guarded {
		// A break is under way, and holds the guard: wait for its end,
		// which puts the file back if it was refreshed since judged.
		if g, gerr := h.m.takeGuard(context.Background(), h.l, true, h.l.cfg.clock.Now().Add(releaseGuardWait)); gerr == nil {
			defer g.release()
			owned, err = h.owned()
		}
	}
	if errors.Is(err, errMovedAside) {
		// Still aside with the guard had, or after waiting for it: a
		// break stopped in the middle, or another's link to the file.
		return ErrLockLost
	}
	switch {
	case owned:
		err := h.l.cfg.fs.Remove(h.l.path)
		if errors.Is(err, fs.ErrNotExist) {
			// Removed between the check and here: only a breaker does
			// that, to a lock it judged stale.
			return ErrLockLost
		}
		return err
	case err == nil:
		return ErrLockLost
	}
	return err
}

// releaseUnguarded removes the lock file without the guard (held by
// another, or impossible to make): it moves whatever is at the path aside
// and removes it only if it is this holder's file with this holder's
// record, never removing by path after a check (docs/design.md, "Release
// without the guard").
func (h *fileHeld) releaseUnguarded() error {
	removed, err := h.m.removeIf(h.l, h.l.path, h.isMine)
	switch {
	case err != nil:
		return err
	case !removed:
		return ErrLockLost
	}
	return nil
}
