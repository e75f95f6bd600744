package filelock

import (
	"context"
	"errors"
	"io/fs"
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

func (m uncheckedMechanism) try(l *Lock) (held, error) {
	h, err := m.mechanism.try(l)
	if sh, ok := h.(*softHeld); ok {
		return uncheckedHeld{sh}, err
	}
	return h, err
}

type uncheckedHeld struct{ *softHeld }

func (h uncheckedHeld) release() error {
	err := h.f.Close()
	rerr := h.fs.Remove(h.path)
	if errors.Is(rerr, fs.ErrNotExist) {
		rerr = ErrLockLost
	}
	return errors.Join(err, rerr)
}

// ignoringBusy makes a lock that does not exclude: an attempt that finds
// the lock held succeeds all the same.
func ignoringBusy(m mechanism) mechanism { return ignoringBusyMechanism{m} }

type ignoringBusyMechanism struct{ mechanism }

func (m ignoringBusyMechanism) try(l *Lock) (held, error) {
	h, err := m.mechanism.try(l)
	if errors.Is(err, errBusy) {
		return nopHeld{}, nil
	}
	return h, err
}

type nopHeld struct{}

func (nopHeld) release() error { return nil }
