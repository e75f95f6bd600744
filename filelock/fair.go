package filelock

import (
	"context"
	"errors"
	"io/fs"
	"syscall"
)

// The fair queue (WithFair). See WithFair for the contract; the layout is:
//
//	x.lock                        the lock
//	x.lock.queue/                 the queue, while anyone waits
//	x.lock.queue/00000000000000000007-9f86d081884c7d659a2feaa0c55ad015
//	                              a ticket: number, '-', its record's token
//
// A ticket's name is never reused (the token is random), so removing a
// ticket by name removes that ticket or nothing.

// acquireInTurn takes the file lock, in turn when others wait for theirs:
// a fair handle always queues; a default one tries the lock at once,
// unless a waiter has asked for its turn, and queues once it has tried for
// its bound (see turn.go); a barging or shared handle never queues, and a
// default shared one gives way to a waiter's turn (shareturn.go).
func (l *Lock) acquireInTurn(ctx context.Context, op string, wait bool) (held, error) {
	if l.cfg.shared && !l.cfg.barging {
		return l.shareInTurn(ctx, op, wait)
	}
	if !l.cfg.queues() {
		return l.acquireFile(ctx, op, wait, 0, false)
	}
	q := newQueue(l)
	if l.cfg.fair && !wait {
		waiting, err := q.waiting()
		if err != nil {
			return nil, pathError(op, l.given, err)
		}
		if waiting {
			return nil, &fs.PathError{Op: op, Path: l.given, Err: ErrWouldBlock}
		}
		return l.acquireFile(ctx, op, false, 0, false)
	}
	if !l.cfg.fair {
		h, err := l.barge(ctx, q, op, wait)
		if !errors.Is(err, errWaitedPastBound) {
			return h, err
		}
	}
	h, err := l.acquireQueued(ctx, q, op)
	if !l.cfg.fair && cannotQueue(err) && ctx.Err() == nil {
		// The queue is not ours to use: try without it. (A wait that has
		// ended is not begun again: its error says why, and what could
		// not be undone, as a ticket that could not be removed.)
		return l.acquireFile(ctx, op, true, 0, false)
	}
	return h, err
}

// cannotQueue reports whether err says that this user cannot take part in
// the queue: it is not safe, or cannot be written here (another user's
// directory, a read-only filesystem, something else in its place, a full
// disk or quota).
func cannotQueue(err error) bool {
	return errors.Is(err, ErrUnsafeDirectory) || errors.Is(err, fs.ErrPermission) ||
		errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOTDIR) || noSpace(err)
}

// noSpace reports whether err says that the filesystem is full, or the
// user's quota used up.
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || diskFull(err)
}

// acquireQueued takes the file lock in turn: it queues, waits until no
// ticket is ahead of its own, and only then tries the lock.
func (l *Lock) acquireQueued(ctx context.Context, q *queue, op string) (held, error) {
	if err := q.enqueue(); err != nil {
		return nil, pathError(op, l.given, err)
	}
	stop := q.keepFresh()
	err := q.awaitTurn(ctx)
	var h held
	switch {
	case err == nil:
		h, err = l.takeTurn(ctx, q, op)
	case ctx.Err() != nil:
		err = waitError(ctx, op, l.given)
	default:
		err = pathError(op, l.given, err)
	}
	if err == nil {
		// The ticket stays first in the queue while the lock is held, so
		// that the waiter behind it is woken once, by the release.
		return &fairHeld{held: h, q: q, stop: stop}, nil
	}
	stop()
	if lerr := q.leave(); lerr != nil {
		// A ticket left behind would hold up every waiter behind it.
		return nil, pathError(op, l.given, errors.Join(err, lerr))
	}
	return nil, err
}

// fairHeld is a lock taken in turn: its ticket, first in the queue, is
// left after the lock is released.
type fairHeld struct {
	held
	q    *queue
	stop func()
}

func (f *fairHeld) release() error {
	err := f.held.release()
	f.stop()
	if lerr := f.q.leave(); lerr != nil {
		err = pathError("unlock", f.q.l.given, errors.Join(err, lerr))
	}
	return err
}
