package filelock

import (
	"context"
	"errors"
	"io/fs"
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
)

// Serving in turn without giving up throughput (docs/design.md, "Turns").
//
// A default handle barges: it tries the lock and retries, as every other
// file lock does, so that a holder that takes the lock again at once keeps
// it without waking anybody. Alone, that starves: under contention the
// releaser wins nearly every race against waiters that must first be
// woken. So a waiter that has tried for its bound (Lock.bargeBound) joins
// the queue that WithFair uses; while that queue is there, an acquisition
// that finds the lock busy joins it at once. The waiter first in the queue
// tries the lock once, then lets the holder keep taking it for a turn's
// length (Lock.turnLength) without racing it, and then creates the turn
// marker, a file named turnName in the queue directory. An acquisition
// that sees the marker queues instead of trying, and TryLock fails; so
// the holder's next acquisition queues behind the waiter, whose turn comes
// at the release. The waiter removes the marker when it has the lock, or
// when it gives up. Each holder thus keeps the lock for about a turn's
// length of acquisitions in a row, with one wake-up of another process
// per turn, and the waiters in the queue are served in its order.
//
// The marker only orders acquisitions, never excludes: a marker left by a
// waiter that died makes acquisitions queue until the next waiter first in
// the queue takes the lock and removes it, or a tidy finds no live waiter;
// a marker in a queue directory that is not safe (checkQueueDir) is
// ignored, and a default acquisition that cannot queue there goes on
// trying.

// turnName is the name of the turn marker in the queue directory; it is
// not a ticket's name.
const turnName = "turn"

// turnLength is how long the waiter first in the queue lets a holder keep
// taking the lock before it creates the turn marker.
func (l *Lock) turnLength() time.Duration { return l.cfg.maxWait / 8 }

// bargeBound is how long a default handle tries the lock before it joins
// the queue: the longest wait between its attempts.
func (l *Lock) bargeBound() time.Duration { return l.cfg.maxWait }

func (q *queue) turnPath() string { return besideDir(q.dir, turnName) }

// tidyEvery is how often, at most, a handle that finds the queue directory
// there looks in it for debris (see queue.look), and about how often a
// waiter touches its turn marker.
const tidyEvery = time.Second

// barge is a default handle's acquisition before it queues: none if a
// waiter has asked for its turn; one attempt if the queue is there (others
// wait in it); otherwise attempts for up to its bound. It returns
// errWaitedPastBound when the acquisition is to queue.
func (l *Lock) barge(ctx context.Context, q *queue, op string, wait bool) (held, error) {
	queued, wanted := q.look()
	switch {
	case wanted && !wait:
		return nil, &fs.PathError{Op: op, Path: l.given, Err: ErrWouldBlock}
	case wanted:
		return nil, errWaitedPastBound
	case queued && wait:
		h, err := l.acquireFile(ctx, op, false, 0, false)
		if errors.Is(err, ErrWouldBlock) {
			return nil, errWaitedPastBound
		}
		return h, err
	}
	return l.acquireFile(ctx, op, wait, l.bargeBound(), false)
}

// takeTurn takes the lock for the waiter first in the queue. A fair
// handle tries at once and asks for its turn after a turn's length; a
// default one tries once, and if the lock is busy lets its holder keep it
// for a turn's length before it asks.
func (l *Lock) takeTurn(ctx context.Context, q *queue, op string) (held, error) {
	delay := l.turnLength()
	if !l.cfg.fair {
		h, err := l.acquireFile(ctx, op, false, 0, false)
		if err == nil {
			// A marker there was made by another waiter: one that died
			// first in the queue, whose marker ends with this turn; or
			// one that takes itself for first as well, having seen its
			// ticket ahead leave before this one's was made, whose
			// marker is left while it waits (see endTurn).
			q.endTurn(q.d, false)
		}
		if !errors.Is(err, ErrWouldBlock) {
			return h, err
		}
		t := l.cfg.clock.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, waitError(ctx, op, l.given)
		case <-t.C():
		}
		delay = 0
	}
	done := q.askTurn(delay)
	defer done()
	return l.acquireFile(ctx, op, true, 0, true)
}

// look reports whether the queue directory is there, and whether a waiter
// first in it has asked for its turn: the marker is there, in a queue
// directory that is safe. Where the queue directory is there, it also
// tidies it now and then (tidy): tickets of waiters killed while queued
// are removed by the waiter behind them, and nobody is behind the last one.
//
// It looks by path, opening no descriptor but for a tidy: it is on every
// default acquisition's way, it only reads, and the marker only orders,
// never excludes, so a marker seen through something put in the queue's
// place between the looks can cost order, never exclusion; and a queue
// that is not safe by the last look is ignored.
func (q *queue) look() (queued, wanted bool) {
	if _, err := q.fs.Lstat(q.dir); err != nil {
		return false, false
	}
	if now := q.l.cfg.clock.Now(); q.l.lastTidy.IsZero() || now.Sub(q.l.lastTidy) >= tidyEvery {
		q.l.lastTidy = now
		if err := q.tidy(); err != nil {
			return false, false // not a queue to take part in
		}
	}
	if !q.markerKept(q.fs.Lstat(q.turnPath())) {
		// None, or one its waiter stopped keeping: a waiter that was
		// stopped (SIGSTOP) must not hold up those that take a free lock.
		return true, false
	}
	err := q.checkQueueDir()
	return err == nil, err == nil
}

// turnAsked reports whether the turn marker is in the open queue directory
// and still kept: whether a waiter first in the queue asks for its turn.
func (q *queue) turnAsked() bool { return q.markerKept(q.d.Lstat(turnName)) }

// markerKept reports whether a look at the turn marker, which gave info
// or err, found it there and kept: changed within turnMarkerLife.
func (q *queue) markerKept(info fsys.Info, err error) bool {
	return err == nil && q.markerAge(info) <= turnMarkerLife
}

// turnMarkerLife is how long a turn marker counts after its last change:
// its waiter touches it every tidyEvery, or at most half as long again
// (askTurn), while it waits.
const turnMarkerLife = 3 * tidyEvery

// markerAge is the age of the turn marker that info describes, by the
// filesystem's clock (an NFS server's may be seconds off this host's), or
// by this host's where the filesystem's cannot be read; one changed in the
// future of that clock (a clock stepped back since) is as old as this
// process has seen it unchanged, as a lock file would be.
func (q *queue) markerAge(info fsys.Info) time.Duration {
	now, _, err := q.l.fsNow()
	if err != nil {
		now = q.l.cfg.clock.Now()
	}
	if info.Changed().After(now.Add(futureSlack)) {
		return seenFiles.unchangedFor(q.l, q.turnPath(), info)
	}
	return now.Sub(info.Changed())
}

// tidy removes the tickets of dead waiters and, if no live one is left, the
// turn marker and the queue directory. A waiter that queues meanwhile and
// asks for its turn makes the marker again (askTurn).
func (q *queue) tidy() error { return q.removeIfIdle(q.anyWaiting) }

// removeIfIdle removes the turn marker and the queue directory if queued,
// called on the open queue directory, reports that nobody is queued. A
// waiter that queues meanwhile and asks for its turn makes the marker
// again (askTurn); the directory's removal fails if one has just come.
func (q *queue) removeIfIdle(queued func() (bool, error)) error {
	return q.visit(func() error {
		busy, err := queued()
		if err != nil || busy {
			return err
		}
		_ = q.d.Remove(turnName)
		_ = q.fs.Remove(q.dir) // fails unless empty
		return nil
	})
}

// minMarkerCheck is the shortest time between two looks of a waiter for
// its turn marker, whatever the turn's length (a backoff of nanoseconds).
const minMarkerCheck = time.Millisecond

// askTurn creates the turn marker after d (at once if d <= 0, in a
// goroutine of its own) and keeps it until the returned function is
// called, which ends the turn (endTurn). Keeping it is touching it every
// tidyEvery and, between the touches, looking for it a turn's length
// after making it and then at doubling steps, to make it again if a tidy
// or another waiter removed it (docs/design.md, "Turns").
func (q *queue) askTurn(d time.Duration) (done func()) {
	dir := q.d // open until leave, which comes after done
	var mu sync.Mutex
	stopped := false
	var t clock.Timer
	var touched time.Time
	first := min(max(q.l.turnLength(), minMarkerCheck), tidyEvery/2)
	every := first
	var ask func()
	ask = func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		var made bool
		if touched, made = q.keepMarker(dir, touched); made {
			every = first
		}
		t = q.l.cfg.clock.AfterFunc(every, ask)
		// Half of tidyEvery at most: touched within one and a half, well
		// inside the marker's life.
		every = min(2*every, tidyEvery/2)
	}
	mu.Lock()
	t = q.l.cfg.clock.AfterFunc(d, ask)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
		q.endTurn(dir, true)
	}
}

// endTurn removes the turn marker at the end of a turn, unless another
// waiter may take itself for first too: then the marker may be its, and
// is left for it. A turn that asked for itself (asked) made or kept the
// marker, which another waiter shares only if its ticket's number is no
// higher (sharesFirst); a turn that took the lock at its first try did
// not, and any other waiter queued may have made it. (The marker only
// orders: one that cannot be removed, or is left, is removed by the next
// waiter first in the queue, or by a tidy.)
func (q *queue) endTurn(dir fsys.Dir, asked bool) {
	if !q.l.cfg.fair && q.sharesFirst(asked) {
		return
	}
	_ = dir.Remove(turnName)
}

// sharesFirst reports whether the queue holds another ticket whose waiter
// may also take itself for first: with numbered set, one with a number no
// higher than this acquisition's (one that sorts before it, or that was
// made from a listing that did not yet show it, see awaitTurn); without,
// any other. Fair handles need not ask: none of them takes the lock again
// before the other has had it.
func (q *queue) sharesFirst(numbered bool) bool {
	q.mu.Lock()
	mine := q.mine
	q.mu.Unlock()
	shared := false
	err := q.scan(func(name []byte) {
		num, ok := parseTicketName(name)
		shared = shared || ok && mine != nil && string(name) != mine.name && (!numbered || num <= mine.num)
	})
	return err == nil && shared
}

// keepMarker makes sure the turn marker is in dir: it touches it if it was
// last touched (at touched) tidyEvery ago or more, and otherwise only looks
// for it; it creates it if it is missing, or in place of one it cannot
// touch. It returns when the marker was
// last touched or made, and whether it made it.
func (q *queue) keepMarker(dir fsys.Dir, touched time.Time) (time.Time, bool) {
	now := q.l.cfg.clock.Now()
	if !touched.IsZero() && now.Sub(touched) < tidyEvery {
		if _, err := dir.Lstat(turnName); !vanished(err) {
			return touched, false
		}
	} else if err := dir.Touch(turnName); err == nil {
		return now, false
	} else if !vanished(err) {
		// There, but not this waiter's to touch (another user's, made
		// in a tie): it would age out while this waiter waits. Make its
		// own in its place.
		_ = dir.Remove(turnName)
	}
	f, err := dir.CreateExcl(turnName, q.l.cfg.perm)
	if err == nil {
		f.Close()
	}
	return now, err == nil
}
