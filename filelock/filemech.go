package filelock

// The file mechanism: Soft and Link, whose lock is the existence of the
// lock file. One attempt creates it or, finding it busy, judges it by the
// stale rule (stale.go) and breaks it under the guard (guard.go,
// breaker.go, mixed.go), sweeping the debris of killed processes after a
// break (sweep.go); a lock made is held as a fileHeld (fileheld.go). Each
// step is a method of fileMechanism that takes the handle, so that the
// handle (lock.go) has no method that only these strategies use.

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
)

// fileMechanism is a strategy whose lock is the existence of the lock file
// holding the holder's record: Soft and Link, which differ only in how the
// file is created. The stale rule, the guard, the heartbeat and the
// ownership-checked release are shared. docs/design.md argues why breaking
// never removes a live lock.
type fileMechanism struct {
	// create makes the file at path holding data, exclusively: errBusy if
	// something is there. With keep, it also returns the file opened for
	// writing, to be kept open while the lock is held (see keepsOpen);
	// it may return nil all the same.
	create func(l *Lock, path string, data []byte, keep bool) (fsys.FileID, io.Closer, error)
}

// judgeEvery is how often a waiter reads a busy lock file to judge it by
// the stale rule.
const judgeEvery = 100 * time.Millisecond

func (m fileMechanism) try(ctx context.Context, l *Lock, wait bool) (held, error) {
	for attempt := 0; ; attempt++ {
		data, err := l.newRecord()
		if err != nil {
			return nil, err
		}
		made := l.cfg.clock.Now()
		holdRecord(data)
		id, kept, err := m.create(l, l.path, data, l.keepsOpen())
		if err == nil {
			return m.newHeld(l, id, data, made, kept), nil
		}
		dropRecord(data)
		if !errors.Is(err, errBusy) || attempt > 0 {
			return nil, err
		}
		now := l.cfg.clock.Now()
		if !l.lastJudge.IsZero() && now.Sub(l.lastJudge) < judgeEvery && now.Sub(l.lastJudge) >= 0 {
			return nil, errBusy
		}
		l.lastJudge = now
		broke, err := m.breakStale(ctx, l, wait)
		if err != nil {
			return nil, err
		}
		if !broke {
			return nil, errBusy
		}
	}
}

// breakStale removes the lock file if it is stale. It reports whether the
// path may now be free. The judgement is made twice: once without the
// guard, to decide whether to take it, and again while holding it; only
// the second counts.
func (m fileMechanism) breakStale(ctx context.Context, l *Lock, wait bool) (bool, error) {
	v, err := m.judge(l, l.path, l.cfg.staleAfter, false)
	l.staleAt = time.Time{}
	if v.staleIn > 0 {
		l.staleAt = l.cfg.clock.Now().Add(v.staleIn)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if errors.Is(err, ErrNotRegular) {
		return false, err
	}
	if err != nil || !v.breakable() {
		return false, nil // unreadable or live: it is busy
	}
	g, err := m.takeGuard(ctx, l, wait, time.Time{})
	if errors.Is(err, errBusy) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer g.release()
	v, err = m.judge(l, l.path, l.cfg.staleAfter, false)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil || !v.breakable() {
		return false, nil
	}
	if err := m.kernelLocked(l, l.path); err != nil {
		return false, err
	}
	removed, err := m.removeAside(l, l.path, v)
	m.sweep(l, removed)
	return removed, err
}
