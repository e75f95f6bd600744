package filelock

import (
	"context"

	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
)

// Waiting in the fair queue for the tickets ahead to go.

// awaitTurn waits until no ticket is ahead of this acquisition's, removing
// the tickets of dead waiters ahead of it on the way. A ticket found gone
// (judged stale by another waiter) is replaced at the end of the queue.
//
// The ticket just ahead is watched before it is judged, so that nothing it
// does after the judgement goes unseen: its removal (the end of that
// waiter's turn), and the closing of its descriptor, which its waiter
// keeps open until it leaves the queue (see queue.open) — so that the
// death of a waiter on this host is an event too.
func (q *queue) awaitTurn(ctx context.Context) error {
	tw := turnWait{q: q, watch: !q.l.cfg.polling && q.fs == (fsys.OS{})}
	defer tw.close()
	// again counts the rounds in a row that went round at once (a ticket
	// ahead found dead or gone); past a few, a round waits a backoff step
	// first, so that a directory listing that lags behind (NFS) cannot
	// make the loop spin.
	for again := 0; ; again++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if again > immediateRetries {
			again = 0
			if err := tw.sleep(ctx, tw.b.next(q.l.cfg.minWait, q.l.cfg.maxWait), nil); err != nil {
				return err
			}
		}
		turn, waited, err := q.awaitRound(ctx, &tw)
		if err != nil || turn {
			return err
		}
		if waited {
			again = -1
		}
	}
}

// awaitRound looks at the queue (currentView) and, unless this
// acquisition's ticket is first or gone (then queued again), waits for the
// ticket just ahead; it reports whether the turn is this acquisition's,
// and whether the round waited.
func (q *queue) awaitRound(ctx context.Context, tw *turnWait) (turn, waited bool, err error) {
	q.mu.Lock()
	me := *q.mine
	q.mu.Unlock()
	v, err := q.currentView(&me)
	if err != nil {
		return false, false, err
	}
	if !v.has {
		// Removed as expired (this process was stopped, or a clock
		// stepped), or missed by a listing that lags behind (NFS):
		// queue again, the missed ticket gone first, so that the new
		// one neither waits behind it nor leaves it behind.
		if err := q.forgetMine(); err != nil {
			return false, false, err
		}
		return false, false, q.enqueue()
	}
	if v.before == 0 {
		return true, false, nil
	}
	ahead := v.ahead
	if !tw.watchAhead(ahead) {
		return false, false, nil // gone in between
	}
	state, expiresIn, err := q.judge(ahead)
	if err != nil || state == proc.Dead {
		return false, false, err
	}
	woken, err := tw.waitAhead(ctx, state, expiresIn)
	if err != nil {
		return false, true, err
	}
	return q.turnAfterWait(v, me, state, woken), true, nil
}

// turnAfterWait reports whether, after a wait for the ticket ahead in
// view v, judged in state, the turn is this acquisition's (ticket me)
// without listing the queue again.
func (q *queue) turnAfterWait(v queueView, me ticket, state proc.State, woken bool) bool {
	if woken && v.before == 1 && q.gone(v.ahead) && !q.gone(me) {
		// The waiter just ahead was first and has left: the turn is
		// this one's. (Listing again would only find a ticket made
		// ahead since the last listing by a waiter that began before
		// this one's ticket existed — as early as this one, so either
		// order is first come, first served.)
		return true
	}
	// The waiters ahead can be judged by age alone (another host,
	// another PID namespace), and none asks for its turn: they may have
	// died minutes before their tickets expire. A default waiter takes
	// the turn as if it were first, rather than let a free lock wait for
	// that age: the queue orders, and never excludes (docs/design.md,
	// "Turns"). Behind more than one, it does so only if none of them is
	// a waiter of this host alive, which will ask for its turn.
	if state != proc.Unknown || q.l.cfg.fair || q.turnAsked() {
		return false
	}
	return v.before == 1 || q.noneAliveBefore(me)
}

// noneAliveBefore reports whether no ticket before me is a waiter of this
// host alive (judge: those provably dead are removed on the way).
func (q *queue) noneAliveBefore(me ticket) bool {
	ts, err := q.tickets()
	if err != nil {
		return false
	}
	for _, t := range ts {
		if t.compare(me) >= 0 {
			break
		}
		if state, _, err := q.judge(t); err != nil || state == proc.Alive {
			return false
		}
	}
	return true
}

// currentView is the queue as seen from ticket mine. Right after an
// enqueue, the listing it made serves: it misses only tickets made since
// by waiters that listed the queue before this one's ticket existed, as
// early as this one (see awaitTurn), and tickets made later, which are
// behind.
func (q *queue) currentView(mine *ticket) (queueView, error) {
	if q.listed != nil {
		v := *q.listed
		q.listed = nil
		return v, nil
	}
	return q.view(mine)
}

// gone reports whether ticket t is known to be gone from the queue.
func (q *queue) gone(t ticket) bool {
	_, err := q.d.Lstat(t.name)
	return vanished(err)
}
