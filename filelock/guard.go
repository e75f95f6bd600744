package filelock

// The guard: a file beside the lock file that serialises the judging and
// removal of a lock file by breakers, and a release that cannot rule out
// having been judged stale. It is taken with the strategy's own exclusive
// creation and broken by the same stale rule as a lock file.

import (
	"context"
	"errors"
	"io/fs"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
)

// guardSuffix names the guard file beside a lock file.
const guardSuffix = ".guard"

// guard is a held guard file. The guard serialises the judging and
// removal of a lock file by breakers, and a release that cannot rule out
// having been judged stale.
type guard struct {
	l    *Lock
	path string
	id   fsys.FileID
	data []byte
}

// guardStaleAfter is the age after which a guard whose holder may be alive
// is broken: the lock's own stale-after age, or DefaultStaleAfter when
// age-based breaking of the lock is off.
func (fileMechanism) guardStaleAfter(l *Lock) time.Duration {
	if l.cfg.staleAfter > 0 {
		return l.cfg.staleAfter
	}
	return DefaultStaleAfter
}

// immediateRetries is how many times in a row the guard is tried again at
// once after finding it gone or broken, before waiting (or, without wait,
// giving up).
const immediateRetries = 3

// releaseGuardWait bounds how long a release waits for a guard held by
// another process before it releases without the guard: a breaker holds
// it for milliseconds, and a guard that anyone can plant must never keep a
// holder from releasing.
const releaseGuardWait = time.Second

// takeGuard takes the lock's guard file with the strategy's exclusive
// creation, breaking it by the stale rule if its holder died. Without wait
// it returns errBusy if the guard is held; with wait it waits as long as
// ctx allows, returning ctx's error when it ends, and, if until is not
// zero, returns errBusy once the clock reaches until.
func (m fileMechanism) takeGuard(ctx context.Context, l *Lock, wait bool, until time.Time) (*guard, error) {
	path := l.path + guardSuffix
	var b backoff
	immediate := 0
	for {
		data, err := l.newRecord()
		if err != nil {
			return nil, err
		}
		holdRecord(data)
		id, _, err := m.create(l, path, data, false)
		if err == nil {
			return &guard{l: l, path: path, id: id, data: data}, nil
		}
		dropRecord(data)
		if !errors.Is(err, errBusy) {
			return nil, err
		}
		v, err := m.judge(l, path, m.guardStaleAfter(l), false)
		switch {
		case errors.Is(err, fs.ErrNotExist): // released in between
		case err != nil:
			return nil, err
		case v.breakable():
			if _, err := m.removeAside(l, path, v); err != nil {
				return nil, err
			}
		default:
			immediate = immediateRetries // held: wait
		}
		if immediate < immediateRetries {
			immediate++
			continue
		}
		immediate = 0
		if !wait || !until.IsZero() && !l.cfg.clock.Now().Before(until) {
			return nil, errBusy
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		t := l.cfg.clock.NewTimer(b.next(l.cfg.minWait, l.cfg.maxWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		case <-t.C():
		}
	}
}

// release removes the guard if it is still this holder's. A nil guard is
// released by doing nothing.
func (g *guard) release() {
	if g == nil {
		return
	}
	data, info, err := readRecordFile(g.l.cfg.fs, g.path)
	if err == nil && sameFile(info.ID, g.id) && string(data) == string(g.data) {
		g.l.cfg.fs.Remove(g.path)
	}
	dropRecord(g.data)
}
