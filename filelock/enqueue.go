package filelock

import (
	"errors"
	"fmt"

	"github.com/lockstress/lockstress/internal/fsys"
)

// Joining the fair queue and leaving it: a ticket made in the open queue
// directory (queuedir.go), and removed from it.

// maxEnqueueAttempts bounds the attempts to create the queue directory, in
// case something that is not a directory (a dangling symbolic link) is in
// its place, and to make a ticket in it, in case it is removed each time
// between its opening and the ticket.
const maxEnqueueAttempts = 100

// enqueue creates a ticket numbered one above the last ticket in the queue,
// opening the queue directory, and creating it, if needed, and makes it
// this acquisition's. If it fails, it closes the directory and removes it
// when that is empty, so that a failure (a full disk) leaves nothing
// behind; a ticket this acquisition had is then gone.
func (q *queue) enqueue() error {
	made := false
	err := q.enqueueOnce(&made)
	if err != nil {
		q.closeDir()
		if made {
			_ = q.fs.Remove(q.dir) // fails unless empty
		}
	}
	return err
}

// enqueueOnce is enqueue; it sets *made when it created the directory.
func (q *queue) enqueueOnce(made *bool) error {
	for attempt := 1; ; attempt++ {
		if q.d == nil {
			if err := q.openDir(true, made); err != nil {
				return err
			}
		}
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
		f, err := q.d.CreateExcl(t.name, q.l.cfg.perm)
		if vanished(err) && attempt < maxEnqueueAttempts {
			// The directory was removed since it was opened (the last
			// waiter left), or by path is not there: open it again,
			// making it.
			q.closeDir()
			continue
		}
		if err != nil {
			return fmt.Errorf("fair queue: %w", err)
		}
		if f, err = q.fillTicket(t, f, data); err != nil {
			return err
		}
		q.mu.Lock()
		q.mine, q.open = &t, f
		q.mu.Unlock()
		// Every ticket listed is before the new one.
		v.has = true
		q.listed = &v
		return nil
	}
}

// fillTicket writes data, the record, into ticket t just made as f, and
// returns f, or nil where Lock.keepsOpen says not to keep it open. If it
// fails, the ticket is closed and removed.
func (q *queue) fillTicket(t ticket, f fsys.File, data []byte) (fsys.File, error) {
	if _, err := q.checkDir(); err != nil {
		// By path, replaced since it was listed: the ticket is not in
		// our queue.
		return nil, errors.Join(err, f.Close(), q.d.Remove(t.name))
	}
	if _, err := fsys.SetPerm(f, q.l.cfg.perm); err != nil {
		return nil, errors.Join(fmt.Errorf("fair queue: %w", err), f.Close(), q.d.Remove(t.name))
	}
	if _, err := f.Write(data); err != nil {
		return nil, errors.Join(fmt.Errorf("fair queue: %w", err), f.Close(), q.d.Remove(t.name))
	}
	if q.l.keepsOpen() {
		return f, nil
	}
	if err := f.Close(); err != nil {
		return nil, errors.Join(fmt.Errorf("fair queue: %w", err), q.d.Remove(t.name))
	}
	return nil, nil
}

// forgetMine removes this acquisition's ticket, if it is there, and lets
// it go, leaving the queue directory open.
func (q *queue) forgetMine() error {
	q.mu.Lock()
	t, f := q.mine, q.open
	q.mu.Unlock()
	if t == nil {
		return nil
	}
	if err := q.d.Remove(t.name); err != nil && !vanished(err) {
		return fmt.Errorf("fair queue: %w", err)
	}
	q.mu.Lock()
	q.mine, q.open = nil, nil
	q.mu.Unlock()
	if f != nil {
		f.Close()
	}
	return nil
}

// leave removes this acquisition's ticket, closes the queue directory, and
// removes it if that was the last entry.
func (q *queue) leave() error {
	q.mu.Lock()
	t, f, d := q.mine, q.open, q.d
	q.mine, q.open, q.d = nil, nil, nil
	q.mu.Unlock()
	var err error
	if t != nil && d != nil {
		err = d.Remove(t.name)
	}
	// Closed after the removal: the waiter behind is woken by the removal,
	// and a close of a ticket still there would only wake it to recheck.
	if f != nil {
		f.Close()
	}
	if d != nil {
		d.Close()
	}
	if t == nil {
		return nil
	}
	if err != nil && !vanished(err) {
		return fmt.Errorf("fair queue: %w", err)
	}
	// Fails while others wait, as it should; a waiter that finds the
	// directory gone between opening it and making its ticket makes it
	// again.
	if q.fs.Remove(q.dir) != nil {
		q.removeLeftMarker()
	}
	return nil
}

// removeLeftMarker removes the turn marker, and then the queue directory,
// when no ticket is left beside it. A turn's end leaves the marker while
// another ticket that may share it is queued (endTurn); when that ticket's
// waiter has had the lock before and leaves first, nobody queued would
// remove it but a later acquisition's tidy. Under contention most leaves
// cannot remove the directory, so the marker is looked for first, by path,
// and the directory listed only when it is there.
func (q *queue) removeLeftMarker() {
	if _, err := q.fs.Lstat(q.turnPath()); err != nil {
		return
	}
	_ = q.removeIfIdle(func() (bool, error) {
		tickets := false
		err := q.scan(func(name []byte) {
			_, ok := parseTicketName(name)
			tickets = tickets || ok
		})
		return tickets, err
	})
}
