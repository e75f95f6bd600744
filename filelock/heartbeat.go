package filelock

// The heartbeat: a holder of a Soft or Link lock refreshes its lock
// file's mtime while it holds it, so that a long critical section is never
// broken by age, and finds out if the lock was taken away.

import "errors"

// scheduleBeat schedules the next heartbeat of the current run (beatRun);
// beatMu is held.
func (h *fileHeld) scheduleBeat() {
	run := h.beatRun
	h.timer = h.l.cfg.clock.AfterFunc(h.every, func() { h.heartbeat(run) })
}

// heartbeat refreshes the lock file and schedules the next heartbeat,
// until the holding ends or the lock is found lost. A timer of an earlier
// run of the heartbeat (stopped by a release, then resumed when it
// failed), which fired before it could be stopped, does nothing: two runs
// at once would each refresh, and each close Lost.
func (h *fileHeld) heartbeat(run int) {
	h.beatMu.Lock()
	defer h.beatMu.Unlock()
	if h.stopped || run != h.beatRun {
		return
	}
	if h.beat() {
		h.scheduleBeat()
	}
}

// stopHeartbeat ends the heartbeat, waiting for one in progress.
func (h *fileHeld) stopHeartbeat() {
	h.beatMu.Lock()
	defer h.beatMu.Unlock()
	h.stopped = true
	h.beatRun++
	if h.timer != nil {
		h.timer.Stop()
	}
}

// beat refreshes the lock file's mtime if it is still this holder's. It
// reports false when the lock was found lost. It takes no guard, so that
// nothing — not a breaker that died holding the guard on another host —
// can keep a holder from refreshing: a breaker that judged the lock before
// a refresh sees the new mtime on the file it moves aside, and puts it
// back, and a beat that finds the file moved aside waits for the next
// beat to know. Errors are retried at the next beat; a lock that cannot be
// refreshed grows stale and may be broken, which the next beat then finds.
func (h *fileHeld) beat() bool {
	owned, err := h.owned()
	aside := errors.Is(err, errMovedAside)
	if err == nil && !owned || aside && h.seenAside {
		// Gone; or aside at two beats running, which no break takes
		// unless stopped in the middle (or the name is another's link
		// to the file): lost to this holder either way.
		h.markLost()
		return false
	}
	h.seenAside = aside
	if owned {
		t := h.l.cfg.clock.Now()
		if h.l.cfg.fs.Touch(h.l.path) == nil {
			h.mu.Lock()
			h.refreshed = t
			h.mu.Unlock()
		}
	}
	return true
}

// young reports whether the lock was made or refreshed so recently, by
// this host's clocks, that no process can judge it stale by age: less than
// half the stale-after age ago.
func (h *fileHeld) young() bool {
	if h.l.cfg.staleAfter == 0 {
		return true
	}
	h.mu.Lock()
	refreshed := h.refreshed
	h.mu.Unlock()
	now := h.l.cfg.clock.Now()
	limit := h.l.cfg.staleAfter / 2
	// Both the monotonic and the wall clock must agree: the monotonic
	// clock stops while the machine sleeps, and the wall clock may jump.
	mono, wall := now.Sub(refreshed), now.Round(0).Sub(refreshed.Round(0))
	return mono >= 0 && mono < limit && wall >= 0 && wall < limit
}

// resumeHeartbeat starts the heartbeat again after a failed release.
func (h *fileHeld) resumeHeartbeat() {
	h.beatMu.Lock()
	defer h.beatMu.Unlock()
	h.stopped = false
	if h.every > 0 {
		h.scheduleBeat()
	}
}
