package filelock

import (
	"errors"
	"fmt"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
)

// Judging the tickets of the fair queue: the dead waiter's, the expired
// one's, and whether anyone waits.

// waiting reports whether a live waiter is queued (for TryLock), removing
// the tickets of dead waiters it finds; it opens the queue directory for
// the call.
func (q *queue) waiting() (waiting bool, err error) {
	err = q.visit(func() error {
		waiting, err = q.anyWaiting()
		return err
	})
	return waiting, err
}

// anyWaiting is waiting in the open queue directory.
func (q *queue) anyWaiting() (bool, error) {
	ts, err := q.tickets()
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		state, _, err := q.judge(t)
		if err != nil {
			return false, err
		}
		if state != proc.Dead {
			return true, nil
		}
	}
	if len(ts) > 0 {
		// Only dead tickets were there, now removed: remove the queue too
		// (this fails if a waiter has just come).
		_ = q.fs.Remove(q.dir)
	}
	return false, nil
}

// judge decides whether the waiter of ticket t is gone, and removes its
// ticket if it is provably dead or expired by age. It returns proc.Dead
// when the ticket is gone, proc.Alive when its waiter is alive on this
// host, and proc.Unknown for a ticket kept for its age alone. For a ticket
// kept, expiresIn is how long it may stay unchanged before it expires by
// age, at most (0: never, or unknown).
func (q *queue) judge(t ticket) (state proc.State, expiresIn time.Duration, err error) {
	p := t.path
	data, info, err := fsys.ReadAllIn(q.d, t.name, MaxRecordSize+1)
	if vanished(err) {
		return proc.Dead, 0, nil
	}
	if errors.Is(err, fsys.ErrNotRegular) {
		// No waiter of ours made it: someone who may write the queue
		// directory put it there, and the queue cannot be trusted.
		return proc.Unknown, 0, unsafeDir(q.dir, "%s, at a ticket's name, is not a regular file", t.name)
	}
	if err != nil {
		return proc.Unknown, 0, fmt.Errorf("fair queue: %w", err)
	}
	state = proc.Unknown
	r, perr := ParseRecord(data)
	if perr == nil {
		state, _ = q.l.cfg.holderState(&r)
	}
	// Another host, no record yet (it is being written), a damaged one,
	// or a process that cannot be checked: only age can tell. Age tells
	// for a live process too: it refreshes its ticket while it waits and
	// while it holds the lock, so a ticket that has aged past the limit
	// belongs to a process that was stopped for that long — a holder whose
	// lock is then stale by the same rule, and which must not keep the
	// waiters behind it from breaking it.
	// A ticket is written right after it is made, so an empty one is the
	// debris of a waiter killed in between once it is older than
	// emptyTicketGrace, and a damaged one once it is older than
	// RecordGrace, the grace of a record-less lock file.
	limit := q.l.cfg.staleAfter
	switch {
	case len(data) == 0 && q.l.localDir():
		limit = emptyTicketGrace
	case perr != nil:
		limit = RecordGrace
	}
	if state != proc.Dead {
		expired, left := q.ticketExpired(p, info, limit)
		if !expired {
			return state, left, nil
		}
		state = proc.Dead
	}
	if err := q.d.Remove(t.name); err != nil && !vanished(err) {
		return proc.Unknown, 0, fmt.Errorf("fair queue: removing the ticket of a dead waiter: %w", err)
	}
	return proc.Dead, 0, nil
}

// emptyTicketGrace is how long an empty ticket may hold up the queue on a
// filesystem of this host (Lock.localDir), whose readers see a write at
// once. Only this package writes tickets, at once after
// making them, so an empty one older than this is a killed waiter's. A
// waiter that was only slow (a stopped process, a loaded machine) loses
// its place, never the lock: it finds its ticket gone and queues again.
// Elsewhere (NFS, where a record reaches other hosts only when its writer
// closes the ticket) an empty ticket gets RecordGrace.
const emptyTicketGrace = time.Second

// refreshEvery is how often a waiter refreshes its ticket: every
// ticketRefresh, or a third of the stale-after age if that is shorter.
func (q *queue) refreshEvery() time.Duration {
	if s := q.l.cfg.staleAfter; s > 0 && s/3 < ticketRefresh {
		return s / 3
	}
	return ticketRefresh
}

// ticketExpired is the one place where the age of a ticket is judged: a
// ticket is expired when its last change (fsys.Info.Changed: a time no
// user can forge) is more than limit before that of a file just written
// on the same filesystem — this acquisition's own ticket, touched first if
// needed — so that only the filesystem's clock is compared with itself;
// one dated in the future of that clock is as old as it has been seen
// unchanged (Lock.age). Without a ticket of its own (TryLock, a tidy) the
// filesystem's clock as a probe beside the lock reads it (Lock.fsNow)
// serves instead, so that debris no waiter will ever come behind (a
// waiter of another host or PID namespace, killed) does not fail every
// fair TryLock for ever.
//
// The limit is the lock's stale-after age (WithStaleAfter), or RecordGrace
// for a ticket without a valid record; a limit of 0 (age-based breaking
// off) expires nothing.
//
// For a ticket not expired it also returns how long it may stay unchanged
// before it is, at most (0 when it never expires or that is unknown), so
// that a waiter judges it again by then.
func (q *queue) ticketExpired(path string, info fsys.Info, limit time.Duration) (bool, time.Duration) {
	if limit == 0 {
		return false, 0
	}
	q.mu.Lock()
	mine := q.mine
	q.mu.Unlock()
	if info.Changed().IsZero() {
		return false, 0
	}
	if mine == nil {
		return q.expiredByProbe(path, info, limit)
	}
	own := mine.name
	probe, err := q.d.Lstat(own)
	if err != nil {
		return false, 0
	}
	if info.Changed().After(probe.Changed().Add(futureSlack)) && q.d.Touch(own) == nil {
		if probe, err = q.d.Lstat(own); err != nil {
			return false, 0
		}
		if info.Changed().After(probe.Changed().Add(futureSlack)) {
			// Dated in the future: as old as it was seen unchanged.
			return expiredAt(seenFiles.unchangedFor(q.l, path, info), limit)
		}
	}
	if left := limit - probe.Changed().Sub(info.Changed()) - q.refreshEvery(); left >= aliveRecheck {
		// The probe may be up to a refresh old: expiry may be that
		// much nearer, and is still far.
		return false, left
	}
	// Close to the limit: make the probe fresh and measure again, so
	// that the time left is exact and the next judgement need not come
	// early.
	if q.d.Touch(own) != nil {
		return false, 0
	}
	if probe, err = q.d.Lstat(own); err != nil {
		return false, 0
	}
	return expiredAt(probe.Changed().Sub(info.Changed()), limit)
}

// expiredByProbe is ticketExpired by the filesystem's clock as read by a
// probe beside the lock, for an acquisition without a ticket of its own.
func (q *queue) expiredByProbe(path string, info fsys.Info, limit time.Duration) (bool, time.Duration) {
	now, coarse, err := q.l.fsNow()
	if err != nil {
		return false, 0
	}
	if coarse {
		limit += coarseSlack
	}
	if info.Changed().After(now.Add(futureSlack)) {
		// Dated in the future: as old as it was seen unchanged.
		return expiredAt(seenFiles.unchangedFor(q.l, path, info), limit)
	}
	return expiredAt(now.Sub(info.Changed()), limit)
}

// expiredAt reports whether something of the given age is past limit, and
// if not, how long until it is.
func expiredAt(age, limit time.Duration) (bool, time.Duration) {
	if age > limit {
		return true, 0
	}
	return false, limit - age + 1
}
