package filelock

import (
	"context"
	"io/fs"
	"time"
)

// Shared acquisitions and turns (docs/design.md, "Turns").
//
// A shared handle never queues: a queue would serve its readers one at a
// time. But readers that take the lock whenever no writer holds it keep it
// from a writer for ever as soon as their holds overlap, since one of them
// always holds it. So a default shared acquisition gives way to an
// exclusive waiter that has asked for its turn (the turn marker, turn.go):
// it looks again at backoff steps, and takes the lock once that waiter has
// had it. The readers that hold the lock meanwhile release it in their own
// time, and the writer's turn comes then.
//
// It gives way for giveWayLimit at most, and then takes the lock as
// before. sync.RWMutex's readers give way without a limit, and so forbid a
// reader that holds the lock to wait for another's acquisition: the writer
// waits for the first reader, the second for the writer, and the first for
// the second. Across processes that wait is easy to make without knowing
// it (a program that holds the lock shared while it runs a tool that
// takes it shared too), and within one process too (two handles of one
// lock); with the limit it costs a blocking acquisition a delay, never a
// deadlock. (A TryLock, or an acquisition with a shorter deadline, fails
// meanwhile, as it would while a writer held the lock.)

// giveWayLimit is how long a shared acquisition gives way to a turn at
// most: as long as a turn marker that its waiter no longer keeps counts.
const giveWayLimit = turnMarkerLife

// shareInTurn takes a shared lock for a default handle, once no exclusive
// waiter asks for its turn, or once it has given way for giveWayLimit.
func (l *Lock) shareInTurn(ctx context.Context, op string, wait bool) (held, error) {
	q := newQueue(l)
	var b backoff
	var until time.Time
	for {
		_, wanted := q.look()
		now := l.cfg.clock.Now()
		if until.IsZero() {
			until = now.Add(giveWayLimit)
		}
		if !wanted || !now.Before(until) {
			return l.acquireFile(ctx, op, wait, 0, false)
		}
		if !wait {
			return nil, &fs.PathError{Op: op, Path: l.given, Err: ErrWouldBlock}
		}
		t := l.cfg.clock.NewTimer(min(b.next(l.cfg.minWait, l.cfg.maxWait), until.Sub(now)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, waitError(ctx, op, l.given)
		case <-t.C():
		}
	}
}
