package filelock

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
)

// Deliberately broken locks. The models must fail on each of them; the
// tests that show it are next to each model.

// offByOne wraps l in a handle whose reentrancy counter is off by one: an
// Unlock of a nested acquisition gives up two levels, so the lock is
// released while its owner still holds it once.
func offByOne(l *Lock) reHandle { return offByOneHandle{l} }

type offByOneHandle struct{ l *Lock }

func (h offByOneHandle) Unlock() error {
	h.l.mu.Lock()
	if h.l.depth > 1 {
		h.l.depth--
	}
	h.l.mu.Unlock()
	return h.l.Unlock()
}

func (h offByOneHandle) Lock() error                           { return h.l.Lock() }
func (h offByOneHandle) TryLock() error                        { return h.l.TryLock() }
func (h offByOneHandle) LockContext(ctx context.Context) error { return h.l.LockContext(ctx) }
func (h offByOneHandle) Inspect() (Status, error)              { return h.l.Inspect() }
func (h offByOneHandle) Depth() int                            { return h.l.Depth() }

// uncheckedRelease makes the soft strategy release without the ownership
// check: Unlock removes whatever the lock path names, and only a missing
// file counts as a lost lock.
func uncheckedRelease(m mechanism) mechanism { return uncheckedMechanism{m} }

type uncheckedMechanism struct{ mechanism }

func (m uncheckedMechanism) try(ctx context.Context, l *Lock, wait bool) (held, error) {
	h, err := m.mechanism.try(ctx, l, wait)
	if fh, ok := h.(*fileHeld); ok {
		return uncheckedHeld{fh}, err
	}
	return h, err
}

type uncheckedHeld struct{ *fileHeld }

func (h uncheckedHeld) release() error {
	h.stopHeartbeat()
	err := h.l.cfg.fs.Remove(h.l.path)
	if errors.Is(err, fs.ErrNotExist) {
		err = ErrLockLost
	}
	return err
}

// ignoringBusy makes a lock that does not exclude: an attempt that finds
// the lock held succeeds all the same.
func ignoringBusy(m mechanism) mechanism { return ignoringBusyMechanism{m} }

type ignoringBusyMechanism struct{ mechanism }

func (m ignoringBusyMechanism) try(ctx context.Context, l *Lock, wait bool) (held, error) {
	h, err := m.mechanism.try(ctx, l, wait)
	if errors.Is(err, errBusy) {
		return nopHeld{}, nil
	}
	return h, err
}

type nopHeld struct{}

func (nopHeld) release() error        { return nil }
func (nopHeld) lost() <-chan struct{} { return nil }

// naiveBreaking makes a file-based lock break stale locks as the
// libraries this package is measured against do: a waiter that finds the
// lock stale removes it by path, so a breaker that judged the old lock may
// remove a new holder's lock.
func naiveBreaking(m mechanism) mechanism { return naiveBreaker{fileMechanism: m.(fileMechanism)} }

// losingNaiveBreaking is naiveBreaking on the naive breaker's worst
// schedule, forced: between its judgement and its unlink, a breaker waits
// (up to a random deadline of at most maxLoss, on the real clock) for
// another to have taken the lock over, so that its unlink removes that
// holder's lock file. Processes racing on a busy machine meet this
// schedule now and then; a storm of them meets it at nearly every kill.
func losingNaiveBreaking(m mechanism) mechanism {
	return naiveBreaker{fileMechanism: m.(fileMechanism), losing: true}
}

// maxLoss bounds how long a breaker of losingNaiveBreaking waits to lose.
const maxLoss = 20 * time.Millisecond

// naiveBreaker is the mechanism of naiveBreaking and losingNaiveBreaking.
type naiveBreaker struct {
	fileMechanism
	losing bool
}

func (m naiveBreaker) try(_ context.Context, l *Lock, _ bool) (held, error) {
	data, err := l.newRecord()
	if err != nil {
		return nil, err
	}
	made := l.cfg.clock.Now()
	id, _, err := m.create(l, l.path, data, false)
	if err == nil {
		return m.newHeld(l, id, data, made, nil), nil
	}
	if !errors.Is(err, errBusy) {
		return nil, err
	}
	if v, err := m.judge(l, l.path, l.cfg.staleAfter, false); err == nil && v.stale {
		if m.losing {
			awaitTakeover(l, v.id)
		}
		l.cfg.fs.Remove(l.path) // the bug: the file judged may no longer be there
	}
	return nil, errBusy
}

// awaitTakeover waits until l's path names another file than the one
// with identity judged, or a random time of at most maxLoss has passed.
func awaitTakeover(l *Lock, judged fsys.FileID) {
	deadline := time.Now().Add(rand.N(maxLoss))
	for time.Now().Before(deadline) {
		if info, err := l.cfg.fs.Lstat(l.path); err == nil && !sameFile(info.ID, judged) {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}
