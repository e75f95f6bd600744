package filelock

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/notify"
	"github.com/lockstress/lockstress/internal/proc"
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

// aliveRecheck is how often a waiter that watches the ticket of a live
// waiter on this host checks that it is still alive, and its ticket's age
// (a waiter or holder stopped for longer than the stale-after age). Its
// death is an event (the close of its ticket's descriptor), so the check
// is only a safety net.
const aliveRecheck = 5 * time.Second

// aliveRecheckPolled replaces aliveRecheck where waiters keep no
// descriptor of their tickets open (see Lock.keepsOpen), so that a death
// raises no event.
const aliveRecheckPolled = 500 * time.Millisecond

// dyingRecheck and maxDyingRecheck bound the rechecks of a waiter ahead
// that still looks alive right after an event of its ticket: it may be
// exiting, its descriptors closed but its process not yet gone.
const (
	dyingRecheck    = time.Millisecond
	maxDyingRecheck = 64 * time.Millisecond
)

// ticketNumberDigits is the width of a ticket's number, so that names sort
// like numbers in a listing.
const ticketNumberDigits = 20

type ticket struct {
	num  uint64
	name string // its name in the queue directory
	path string // its path, which ends with name
}

func (t ticket) compare(u ticket) int {
	return cmp.Or(cmp.Compare(t.num, u.num), strings.Compare(t.name, u.name))
}

// ticketNameLen is the length of a ticket's name.
const ticketNameLen = ticketNumberDigits + 1 + 2*tokenBytes

// parseTicketName returns the number of a ticket's name; other names are
// not tickets.
func parseTicketName[T string | []byte](name T) (uint64, bool) {
	if len(name) != ticketNameLen || name[ticketNumberDigits] != '-' || !validToken(name[ticketNumberDigits+1:]) {
		return 0, false
	}
	var n uint64
	for i := range ticketNumberDigits {
		c := name[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

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

// acquireInTurn takes the file lock, in turn when others wait for theirs:
// a fair handle always queues; a default one tries the lock at once,
// unless a waiter has asked for its turn, and queues once it has tried for
// its bound (see turn.go); a barging or shared handle never queues.
func (l *Lock) acquireInTurn(ctx context.Context, op string, wait bool) (held, error) {
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
	if !l.cfg.fair && errors.Is(err, ErrUnsafeDirectory) {
		// The queue is not ours to use: try without it.
		return l.acquireFile(ctx, op, true, 0, false)
	}
	return h, err
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
		return nil, errors.Join(err, pathError(op, l.given, lerr))
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
		err = errors.Join(err, pathError("unlock", f.q.l.given, lerr))
	}
	return err
}

// ticket returns the ticket of the queue named name, number num. Its name
// is the end of its path, one string: a waiter makes the tickets it looks
// at, at every turn.
func (q *queue) ticket(num uint64, name []byte) ticket {
	var b strings.Builder
	b.Grow(len(q.dir) + 1 + len(name))
	b.WriteString(q.dir)
	b.WriteByte(filepath.Separator)
	b.Write(name)
	p := b.String()
	return ticket{num: num, name: p[len(p)-len(name):], path: p}
}

// appendTicketName appends the name of ticket number num with the given
// token to b.
func appendTicketName(b []byte, num uint64, token string) []byte {
	var digits [ticketNumberDigits]byte
	d := strconv.AppendUint(digits[:0], num, 10)
	for range ticketNumberDigits - len(d) {
		b = append(b, '0')
	}
	b = append(b, d...)
	b = append(b, '-')
	return append(b, token...)
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
	var b backoff
	var w *notify.Watcher
	watch := !q.l.cfg.polling && q.fs == (fsys.OS{})
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	// again counts the rounds in a row that went round at once (a ticket
	// ahead found dead or gone); past a few, a round waits a backoff step
	// first, so that a directory listing that lags behind (NFS) cannot
	// make the loop spin.
	again := 0
	// woke is set when an event ended the last wait, or a recheck of a
	// dying waiter ahead; dying is the last such recheck.
	woke, dying := false, time.Duration(0)
	for ; ; again++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if again > immediateRetries {
			again = 0
			t := q.l.cfg.clock.NewTimer(b.next(q.l.cfg.minWait, q.l.cfg.maxWait))
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C():
			}
		}
		q.mu.Lock()
		me := *q.mine
		q.mu.Unlock()
		// Right after an enqueue, the listing it made serves: it misses
		// only tickets made since by waiters that listed the queue before
		// this one's ticket existed, as early as this one (see below),
		// and tickets made later, which are behind.
		var v queueView
		if q.listed != nil {
			v, q.listed = *q.listed, nil
		} else {
			var err error
			if v, err = q.view(&me); err != nil {
				return err
			}
		}
		if !v.has {
			if err := q.enqueue(); err != nil {
				return err
			}
			continue
		}
		if v.before == 0 {
			return nil
		}
		ahead := v.ahead
		if watch && w == nil {
			var err error
			if w, err = notify.New(); err != nil {
				w, watch = nil, false
			}
		}
		if w != nil {
			if err := w.WatchWrites(ahead.path); errors.Is(err, fs.ErrNotExist) {
				continue // gone in between
			} else if err != nil {
				w.Close()
				w, watch = nil, false
			}
		}
		state, err := q.judge(ahead)
		if err != nil {
			return err
		}
		if state == proc.Dead {
			continue
		}
		// Without a watch, poll. With one, the removal of the ticket ahead
		// wakes this waiter, and so does its waiter's death on this host;
		// the timer looks only for what raises no event here: a waiter
		// ahead on another host that died (its ticket expires by age), and
		// events lost. Right after an event, the waiter ahead may be dying
		// but not yet dead (a process's descriptors are closed before it
		// ends): recheck it soon, at growing steps, until a wait ends
		// without an event.
		var woken <-chan struct{}
		wait := b.next(q.l.cfg.minWait, q.l.cfg.maxWait)
		if w != nil {
			woken = w.C()
			switch {
			case state != proc.Alive:
				wait = q.l.cfg.maxWait
			case woke:
				dying = min(max(2*dying, dyingRecheck), maxDyingRecheck)
				wait = dying
			case q.l.keepsOpen():
				wait = aliveRecheck
			default:
				// Its death raises no event here (it keeps no descriptor
				// of its ticket open on this filesystem).
				wait = aliveRecheckPolled
			}
		}
		again = -1 // this round waits
		t := q.l.cfg.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
			// The rechecks of a dying waiter go on up to the longest.
			if woke = dying > 0 && dying < maxDyingRecheck; !woke {
				dying = 0
			}
		case <-woken:
			t.Stop()
			woke = true
			if v.before == 1 && q.gone(ahead) && !q.gone(me) {
				// The waiter just ahead was first and has left: the turn
				// is this one's. (Listing again would only find a ticket
				// made ahead since the last listing by a waiter that
				// began before this one's ticket existed — as early as
				// this one, so either order is first come, first served.)
				return nil
			}
		}
	}
}

// gone reports whether ticket t is known to be gone from the queue.
func (q *queue) gone(t ticket) bool {
	_, err := q.fs.Lstat(t.path)
	return errors.Is(err, fs.ErrNotExist)
}

// waiting reports whether a live waiter is queued (for TryLock), removing
// the tickets of dead waiters it finds.
func (q *queue) waiting() (bool, error) {
	ts, err := q.tickets()
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		state, err := q.judge(t)
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
// host, and proc.Unknown for a ticket kept for its age alone.
func (q *queue) judge(t ticket) (proc.State, error) {
	p := t.path
	data, info, err := fsys.ReadAll(q.fs, p, MaxRecordSize+1)
	if errors.Is(err, fs.ErrNotExist) {
		return proc.Dead, nil
	}
	if err != nil {
		return proc.Unknown, fmt.Errorf("fair queue: %w", err)
	}
	state := proc.Unknown
	r, perr := ParseRecord(data)
	id := proc.Identity{PID: r.PID, Host: r.Host, BootID: r.BootID, PIDNS: r.PIDNS, Start: r.Start}
	if perr == nil {
		state = q.l.cfg.liveness(id)
	}
	// Another host, no record yet (it is being written), a damaged one,
	// or a process that cannot be checked: only age can tell. Age tells
	// for a live process too: it refreshes its ticket while it waits and
	// while it holds the lock, so a ticket that has aged past the limit
	// belongs to a process that was stopped for that long — a holder whose
	// lock is then stale by the same rule, and which must not keep the
	// waiters behind it from breaking it.
	// A ticket is written right after it is made, so one without a valid
	// record is the debris of a waiter killed in between once it is older
	// than RecordGrace, the grace of a record-less lock file.
	limit := q.l.cfg.staleAfter
	if perr != nil {
		limit = RecordGrace
	}
	if state != proc.Dead && q.ticketExpired(p, info, limit) {
		state = proc.Dead
	}
	if state != proc.Dead {
		return state, nil
	}
	if err := q.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return proc.Unknown, fmt.Errorf("fair queue: removing the ticket of a dead waiter: %w", err)
	}
	return proc.Dead, nil
}

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
// unchanged (Lock.age). Without a ticket of its own (TryLock) nothing is
// judged expired by age.
//
// The limit is the lock's stale-after age (WithStaleAfter), or RecordGrace
// for a ticket without a valid record; a limit of 0 (age-based breaking
// off) expires nothing.
func (q *queue) ticketExpired(path string, info fsys.Info, limit time.Duration) bool {
	if limit == 0 {
		return false
	}
	q.mu.Lock()
	mine := q.mine
	q.mu.Unlock()
	if mine == nil || info.Changed().IsZero() {
		return false
	}
	own := mine.path
	probe, err := q.fs.Lstat(own)
	if err != nil {
		return false
	}
	if info.Changed().After(probe.Changed().Add(futureSlack)) && q.fs.Touch(own) == nil {
		if probe, err = q.fs.Lstat(own); err != nil {
			return false
		}
		if info.Changed().After(probe.Changed().Add(futureSlack)) {
			// Dated in the future: as old as it was seen unchanged.
			return q.l.age(path, info, probe.Changed()) > limit
		}
	}
	if probe.Changed().Sub(info.Changed()) <= limit-q.refreshEvery() {
		return false
	}
	// Close to the limit: make the probe fresh and measure again.
	if q.fs.Touch(own) != nil {
		return false
	}
	if probe, err = q.fs.Lstat(own); err != nil {
		return false
	}
	return probe.Changed().Sub(info.Changed()) > limit
}
