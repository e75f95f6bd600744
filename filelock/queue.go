package filelock

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
)

// The fair queue of one acquisition: listing it and keeping its ticket
// fresh (joining and leaving it: enqueue.go).

// queueSuffix is appended to the lock path to name the queue directory.
const queueSuffix = ".queue"

const (
	// ticketRefresh is how often a waiter sets its ticket's modification
	// time to now, so that the age rule never removes a live waiter.
	ticketRefresh = time.Minute
)

// queue is the fair queue of one acquisition.
type queue struct {
	l   *Lock
	fs  fsys.FS
	dir string
	// d is the queue directory, open (queuedir.go): from enqueue to leave,
	// or for a visit; nil otherwise, and nil with a ticket only when the
	// directory that ticket was made in is gone. Written under mu by the
	// acquisition; read under mu by the timers that keep files fresh.
	d fsys.Dir

	// listed is the queue as enqueue last saw it, with the new ticket
	// put in its place; the first round of awaitTurn after an enqueue
	// uses it instead of listing the directory again.
	listed *queueView

	mu   sync.Mutex
	mine *ticket // this acquisition's ticket, once it has one
	// open is mine's descriptor, opened for writing and kept open until
	// the ticket is left where Lock.keepsOpen says so (nil elsewhere): the
	// death of this process closes it, which is an event (IN_CLOSE_WRITE)
	// for the waiter behind.
	open fsys.File
}

func newQueue(l *Lock) *queue {
	return &queue{l: l, fs: l.cfg.fs, dir: l.path + queueSuffix}
}

// scan calls fn with the name of every entry of the open queue directory,
// judged again first. A queue that is not open, or by path not there, is
// empty.
func (q *queue) scan(fn func(name []byte)) error {
	if q.d == nil {
		return nil
	}
	if there, err := q.checkDir(); err != nil || !there {
		return err
	}
	if err := q.d.Scan(fn); err != nil && !vanished(err) {
		return fmt.Errorf("fair queue: %w", err)
	}
	return nil
}

// tickets lists the queue in order.
func (q *queue) tickets() ([]ticket, error) {
	var ts []ticket
	err := q.scan(func(name []byte) {
		if num, ok := parseTicketName(name); ok {
			ts = append(ts, q.ticket(num, name))
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ts, ticket.compare)
	return ts, nil
}

// queueView is what a waiter needs to know of the queue, from one listing.
type queueView struct {
	maxNum uint64 // the highest ticket number; 0 when there is none
	has    bool   // the waiter's own ticket is there
	before int    // the tickets before the waiter's own
	ahead  ticket // the ticket just before the waiter's own, if before > 0
}

// view lists the queue as seen from ticket mine; with mine nil, every
// ticket is before it. It makes no string but the name of the ticket ahead:
// a waiter lists the queue at every turn, and a queue may be long.
func (q *queue) view(mine *ticket) (queueView, error) {
	var v queueView
	var aheadNum uint64
	var aheadName [ticketNameLen]byte
	err := q.scan(func(name []byte) {
		num, ok := parseTicketName(name)
		if !ok {
			return
		}
		v.maxNum = max(v.maxNum, num)
		if mine != nil {
			if num == mine.num && string(name) == mine.name {
				v.has = true
				return
			}
			if num > mine.num || num == mine.num && string(name) > mine.name {
				return
			}
		}
		v.before++
		if v.before == 1 || num > aheadNum || num == aheadNum && string(name) > string(aheadName[:]) {
			aheadNum = num
			copy(aheadName[:], name)
		}
	})
	if err != nil {
		return queueView{}, err
	}
	if v.before > 0 {
		v.ahead = q.ticket(aheadNum, aheadName[:])
	}
	return v, nil
}

// keepFresh refreshes this acquisition's ticket every refreshEvery, while
// it waits and while it holds the lock, until the returned function is
// called. It runs as a timer callback, not a goroutine of its own; a
// callback that runs after stop touches nothing.
func (q *queue) keepFresh() (stop func()) {
	var mu sync.Mutex
	stopped := false
	var t clock.Timer
	var refresh func()
	refresh = func() {
		q.mu.Lock()
		if q.mine != nil && q.d != nil {
			// A failure only makes the ticket look older; the age rule is
			// generous.
			_ = q.d.Touch(q.mine.name)
		}
		q.mu.Unlock()
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			t = q.l.cfg.clock.AfterFunc(q.refreshEvery(), refresh)
		}
	}
	mu.Lock()
	t = q.l.cfg.clock.AfterFunc(q.refreshEvery(), refresh)
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}
