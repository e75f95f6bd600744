package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
)

// The queue directory of one acquisition: listing it, taking a ticket in
// it, keeping the ticket fresh and leaving it.

// queueSuffix is appended to the lock path to name the queue directory.
const queueSuffix = ".queue"

const (
	// ticketRefresh is how often a waiter sets its ticket's modification
	// time to now, so that the age rule never removes a live waiter.
	ticketRefresh = time.Minute
)

// maxEnqueueAttempts bounds the attempts to create the queue directory, in
// case something that is not a directory (a dangling symbolic link) is in
// its place.
const maxEnqueueAttempts = 100

// queue is the fair queue of one acquisition.
type queue struct {
	l   *Lock
	fs  fsys.FS
	dir string

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

// scan calls fn with the name of every entry of the queue directory. A
// queue that does not exist is empty.
func (q *queue) scan(fn func(name []byte)) error {
	if info, err := q.checkQueueDir(); err != nil || info.Mode == 0 {
		return err // a failure, or no queue
	}
	if err := fsys.ScanDir(q.fs, q.dir, fn); err != nil && !errors.Is(err, fs.ErrNotExist) {
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

// enqueue creates a ticket numbered one above the last ticket in the queue,
// creating the queue directory if needed, and makes it this acquisition's.
// If it fails, it removes the queue directory when that is empty, so that
// a failure (a full disk) leaves nothing behind.
func (q *queue) enqueue() error {
	made := false
	err := q.enqueueOnce(&made)
	if err != nil && made {
		_ = q.fs.Remove(q.dir) // fails unless empty
	}
	return err
}

// enqueueOnce is enqueue; it sets *made when it created the directory.
func (q *queue) enqueueOnce(made *bool) error {
	perm := q.l.cfg.perm
	for attempt := 1; ; attempt++ {
		v, err := q.view(nil)
		if err != nil {
			return err
		}
		num := v.maxNum + 1
		r := newRecord(q.l.cfg.self, q.l.cfg.clock.Now())
		data, err := r.MarshalText()
		if err != nil {
			return err
		}
		var name [ticketNameLen]byte
		t := q.ticket(num, appendTicketName(name[:0], num, r.Token))
		f, err := q.fs.CreateExcl(t.path, perm)
		if errors.Is(err, fs.ErrNotExist) {
			// No queue yet, or the last waiter removed it just now. The
			// directory may be searched by whoever may read the lock,
			// and written by no one but the lock's users (checkQueueDir).
			// MkdirAll fails with ErrExist if another waiter created the
			// directory and the last one removed it again meanwhile.
			err := q.fs.MkdirAll(q.dir, (perm|(perm&0o444)>>2)&^0o002)
			if err != nil && (!errors.Is(err, fs.ErrExist) || attempt >= maxEnqueueAttempts) {
				return fmt.Errorf("fair queue: %w", err)
			}
			*made = *made || err == nil
			continue
		}
		if err != nil {
			return fmt.Errorf("fair queue: %w", err)
		}
		if _, err := q.checkQueueDir(); err != nil {
			// Replaced since it was listed: the ticket is not in our queue.
			return errors.Join(err, f.Close(), q.fs.Remove(t.path))
		}
		if _, err = f.Write(data); err != nil {
			return errors.Join(fmt.Errorf("fair queue: %w", err), f.Close(), q.fs.Remove(t.path))
		}
		if !q.l.keepsOpen() {
			if err := f.Close(); err != nil {
				return errors.Join(fmt.Errorf("fair queue: %w", err), q.fs.Remove(t.path))
			}
			f = nil
		}
		q.mu.Lock()
		if q.open != nil {
			q.open.Close() // the ticket it was kept for is gone
		}
		q.mine, q.open = &t, f
		q.mu.Unlock()
		// Every ticket listed is before the new one.
		v.has = true
		q.listed = &v
		return nil
	}
}

// leave removes this acquisition's ticket, and the queue directory if that
// was the last entry.
func (q *queue) leave() error {
	q.mu.Lock()
	t, f := q.mine, q.open
	q.mine, q.open = nil, nil
	q.mu.Unlock()
	if t == nil {
		return nil
	}
	err := q.fs.Remove(t.path)
	// Closed after the removal: the waiter behind is woken by the removal,
	// and a close of a ticket still there would only wake it to recheck.
	if f != nil {
		f.Close()
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fair queue: %w", err)
	}
	// Fails while others wait, as it should; a waiter that finds the
	// directory gone between creating it and its ticket creates it again.
	_ = q.fs.Remove(q.dir)
	return nil
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
		if q.mine != nil {
			// A failure only makes the ticket look older; the age rule is
			// generous.
			_ = q.fs.Touch(q.mine.path)
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
