package filelock

import "context"

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
