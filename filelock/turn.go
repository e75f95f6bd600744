package filelock

import (
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
)

// Serving in turn without giving up throughput (docs/design.md, "Turns").
//
// A default handle barges: it tries the lock and retries, as every other
// file lock does, so that a holder that takes the lock again at once keeps
// it without waking anybody. Alone, that starves: under contention the
// releaser wins nearly every race against waiters that must first be
// woken. So a waiter that has tried for its bound (Lock.bargeBound) joins
// the queue that WithFair uses, and the waiter first in it, once it has
// waited there for a turn's length (Lock.turnLength), creates the turn
// marker, a file named turnName in the queue directory. A barger that sees
// the marker queues instead of trying, and TryLock fails; so the holder's
// next acquisition queues behind the waiter, whose turn comes at the
// release. The waiter removes the marker when it has the lock, or when it
// gives up. Each holder thus keeps the lock for at most about a turn's
// length of acquisitions in a row while others wait in the queue, and each
// waiter there is served in the queue's order.
//
// The marker only orders acquisitions, never excludes: a marker left by a
// waiter that died makes bargers queue until the next waiter first in the
// queue takes the lock and removes it; a marker in a queue directory that
// is not safe (checkQueueDir) is ignored, and a barger that cannot queue
// there goes on trying.

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
// there looks in it for debris (see turnWanted).
const tidyEvery = time.Second

// turnWanted reports whether a waiter first in the queue has asked for its
// turn: the marker is there, in a queue directory that is safe. Where the
// queue directory is there, it also tidies it now and then (tidy): tickets
// of waiters killed while queued are removed by the waiter behind them, and
// nobody is behind the last one.
func (q *queue) turnWanted() bool {
	if _, err := q.fs.Lstat(q.dir); err != nil {
		return false
	}
	if now := q.l.cfg.clock.Now(); q.l.lastTidy.IsZero() || now.Sub(q.l.lastTidy) >= tidyEvery {
		q.l.lastTidy = now
		if q.tidy() != nil {
			return false // not a queue to take part in
		}
	}
	if _, err := q.fs.Lstat(q.turnPath()); err != nil {
		return false
	}
	_, err := q.checkQueueDir()
	return err == nil
}

// tidy removes the tickets of dead waiters and, if no live one is left, the
// turn marker and the queue directory. A waiter that queues meanwhile and
// asks for its turn makes the marker again (askTurn).
func (q *queue) tidy() error {
	waiting, err := q.waiting()
	if err != nil || waiting {
		return err
	}
	_ = q.fs.Remove(q.turnPath())
	_ = q.fs.Remove(q.dir) // fails unless empty
	return nil
}

// askTurn creates the turn marker after d, and again every d while it is
// missing (a tidy may remove it at the moment this waiter queues), until
// the returned function is called; that function also removes the marker,
// whoever made it.
func (q *queue) askTurn(d time.Duration) (done func()) {
	var mu sync.Mutex
	stopped := false
	var t clock.Timer
	var ask func()
	ask = func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if f, err := q.fs.CreateExcl(q.turnPath(), q.l.cfg.perm); err == nil {
			f.Close()
		}
		t = q.l.cfg.clock.AfterFunc(d, ask)
	}
	mu.Lock()
	t = q.l.cfg.clock.AfterFunc(d, ask)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
		// Only orders: a marker that cannot be removed is removed by the
		// next waiter first in the queue, or by a tidy.
		_ = q.fs.Remove(q.turnPath())
	}
}
