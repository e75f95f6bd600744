package filelock

import (
	"context"
	"errors"
	"sync"

	"github.com/lockstress/lockstress/internal/fsys"
)

// kernelWait is one wait for an os or ofd lock in the kernel (flock
// without LOCK_NB, F_OFD_SETLKW), made on a goroutine of its own so that
// the acquisition that waits for it can leave when its context is done.
// The call cannot be interrupted, so a wait that its acquisition left is
// abandoned, not ended: the next acquisition of the same lock in this
// process, with the same mechanism and mode, on the same file, adopts it;
// if it wins while no acquisition waits for it, it releases the lock at
// once. docs/design.md argues the races.
type kernelWait struct {
	key    slotKey
	locker osLocker
	shared bool
	f      fsys.OSFile
	id     fsys.FileID // the file f is open on

	// done is closed when the call returned while an acquisition waits.
	done chan struct{}
	// Guarded by kernelWaits.mu.
	waited bool  // an acquisition waits for it
	ended  bool  // the call returned
	err    error // the call's result, once ended
}

// kernelWaitTable holds the pending kernel waits of this process, at most
// one per lock (slotKey), so that a process never holds more than one
// thread blocked per lock however many acquisitions gave up on it.
type kernelWaitTable struct {
	mu sync.Mutex
	m  map[slotKey]*kernelWait
}

var kernelWaits = &kernelWaitTable{m: map[slotKey]*kernelWait{}}

// kernelWaitHook, if set, is called when an acquisition starts waiting for
// a kernel wait, with whether it adopted an abandoned one (tests).
var kernelWaitHook func(adopted bool)

// adopt returns the abandoned wait for key with locker and mode shared on
// the file id, now waited for by the caller; nil if no wait is pending, so
// that the caller may start one. It reports false if a wait is pending
// that the caller cannot take: one another acquisition waits for (a shared
// lock), or of another mechanism, mode or file.
func (t *kernelWaitTable) adopt(key slotKey, locker osLocker, shared bool, id fsys.FileID) (*kernelWait, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kw := t.m[key]
	switch {
	case kw == nil:
		return nil, true
	case kw.waited || kw.locker != locker || kw.shared != shared || id.IsZero() || kw.id != id:
		return nil, false
	}
	kw.waited = true
	return kw, true
}

// start starts a wait for the lock on f, the file id, waited for by the
// caller. It reports false, and starts nothing, if a wait is pending for
// key already.
func (t *kernelWaitTable) start(key slotKey, locker osLocker, shared bool, f fsys.OSFile, id fsys.FileID) (*kernelWait, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m[key] != nil {
		return nil, false
	}
	kw := &kernelWait{key: key, locker: locker, shared: shared, f: f, id: id, done: make(chan struct{}), waited: true}
	t.m[key] = kw
	go func() { t.end(kw, locker.(kernelWaiter).lockWait(f.Fd(), shared)) }()
	return kw, true
}

// end records the result of kw's call: it passes to the acquisition that
// waits for it, if any; otherwise the wait is removed and its lock, if
// won, released at once — before the table lets go, so that a wait no
// longer pending holds nothing.
func (t *kernelWaitTable) end(kw *kernelWait, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kw.ended, kw.err = true, err
	if kw.waited {
		close(kw.done)
		return
	}
	t.remove(kw)
	kw.discard()
}

// wait waits for kw until its call returns or ctx is done. It returns kw's
// file, locked, if the call won, even if ctx is done by then; the call's
// error, its file closed; or ctx's error, leaving kw abandoned.
func (t *kernelWaitTable) wait(ctx context.Context, kw *kernelWait) (fsys.OSFile, error) {
	select {
	case <-kw.done:
	case <-ctx.Done():
	}
	t.mu.Lock()
	if !kw.ended {
		kw.waited = false
		t.mu.Unlock()
		return nil, ctx.Err()
	}
	t.remove(kw)
	t.mu.Unlock()
	if kw.err != nil {
		return nil, errors.Join(kw.err, kw.f.Close())
	}
	return kw.f, nil
}

// remove drops kw from the table; t.mu is held.
func (t *kernelWaitTable) remove(kw *kernelWait) {
	if t.m[kw.key] == kw {
		delete(t.m, kw.key)
	}
}

// discard releases the lock of an abandoned wait that won it, and closes
// its file.
func (kw *kernelWait) discard() {
	if kw.err == nil {
		kw.locker.unlock(kw.f.Fd())
	}
	kw.f.Close()
}

// pending returns the number of pending kernel waits (tests).
func (t *kernelWaitTable) pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// tryInKernel is one attempt that waits for the lock in the kernel,
// adopting the abandoned wait of an earlier acquisition if there is one.
// *kept is as for tryKept. It reports false, having tried nothing, if
// another wait is pending for the lock that this acquisition cannot take:
// the caller then watches and polls instead.
func (m osMechanism) tryInKernel(ctx context.Context, l *Lock, kept *fsys.OSFile) (held, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, true, err
	}
	var id fsys.FileID
	if info, err := (fsys.OS{}).Lstat(l.path); err == nil {
		if !info.Mode.IsRegular() {
			return nil, true, notRegular(info.Mode)
		}
		id = info.ID
	}
	kw, ok := kernelWaits.adopt(l.waitKey, m.locker, l.cfg.shared, id)
	if !ok {
		return nil, false, nil
	}
	adopted := kw != nil
	if !adopted {
		f, err := m.openKept(l, kept)
		if err != nil {
			return nil, true, err
		}
		info, err := f.Stat()
		if err == nil {
			// Never wait on another's file: its owner may hold it for ever.
			err = l.ownerRule(info)
		}
		if err != nil {
			return nil, true, errors.Join(err, f.Close())
		}
		if kw, ok = kernelWaits.start(l.waitKey, m.locker, l.cfg.shared, f, info.ID); !ok {
			*kept = f
			return nil, false, nil
		}
	}
	if kernelWaitHook != nil {
		kernelWaitHook(adopted)
	}
	f, err := kernelWaits.wait(ctx, kw)
	if err != nil {
		return nil, true, err
	}
	// The lock is held on f: locking it again in the same mode without
	// waiting leaves it as it is (flock and F_OFD_SETLK do nothing for a
	// lock of that mode held by the same open file), and checks, as every
	// attempt does, that the path still names the file locked.
	h, err := m.lockOpen(l, f)
	switch {
	case err == nil:
		return h, true, nil
	case errors.Is(err, errBusy):
		*kept = f
		return nil, true, err
	}
	return nil, true, errors.Join(err, f.Close())
}
