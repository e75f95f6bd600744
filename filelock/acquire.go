package filelock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// One acquisition of a handle: the count of a handle that holds the lock
// already, the process-wide table, the lock's directory, and the attempts
// on the file lock.

// enter counts one more acquisition if the handle holds the lock. It
// reports whether it did, or an error matching ErrLockLost if the handle's
// holding was found lost: it holds nothing to count.
func (l *Lock) enter(op string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.depth == 0 {
		return false, nil
	}
	if isClosed(l.held.lost()) {
		return false, &fs.PathError{Op: op, Path: l.given, Err: fmt.Errorf("%w: unlock it first", ErrLockLost)}
	}
	l.depth++
	return true, nil
}

// isClosed reports whether ch is closed; a nil channel never is.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (l *Lock) acquire(ctx context.Context, op string, wait bool) error {
	if entered, err := l.enter(op); entered || err != nil {
		return err
	}
	if wait {
		if ctx.Err() != nil {
			return waitError(ctx, op, l.given)
		}
		select {
		case l.sem <- struct{}{}:
		case <-ctx.Done():
			return waitError(ctx, op, l.given)
		}
	} else {
		select {
		case l.sem <- struct{}{}:
		default:
			return &fs.PathError{Op: op, Path: l.given, Err: ErrWouldBlock}
		}
	}
	defer func() { <-l.sem }()
	if entered, err := l.enter(op); entered || err != nil {
		return err
	}
	key, err := l.prepare(op)
	if err != nil {
		return err
	}
	l.lastJudge, l.staleAt, l.waitKey = time.Time{}, time.Time{}, key
	if err := processLocks.acquire(ctx, key, l.cfg.shared, wait); err != nil {
		if errors.Is(err, errBusy) {
			return &fs.PathError{Op: op, Path: l.given, Err: ErrWouldBlock}
		}
		return waitError(ctx, op, l.given)
	}
	h, err := l.acquireInTurn(ctx, op, wait)
	if err != nil {
		processLocks.release(key, l.cfg.shared)
		return err
	}
	l.mu.Lock()
	l.depth, l.held, l.slot = 1, h, key
	l.mu.Unlock()
	return nil
}

// prepare checks the lock's directory (creating it if asked) and returns
// the key of the lock in the process-wide table.
func (l *Lock) prepare(op string) (slotKey, error) {
	dir := dirOf(l.path)
	if l.cfg.createDirs {
		if err := l.checkWay(dir); err != nil {
			return slotKey{}, pathError(op, l.given, err)
		}
		if err := l.makeDirs(dir); err != nil {
			return slotKey{}, pathError(op, l.given, err)
		}
	}
	info, link, err := l.statDir(dir)
	if err == nil && !info.Mode.IsDir() {
		err = fmt.Errorf("parent %s is not a directory: %w", dir, syscall.ENOTDIR)
	}
	if err == nil {
		if err := l.dirRules(dir, info, link); err != nil {
			return slotKey{}, pathError(op, l.given, err)
		}
		l.dir = info
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("parent directory %s does not exist: %w", dir, err)
		}
		return slotKey{}, &fs.PathError{Op: op, Path: l.given, Err: err}
	}
	key := slotKey{fs: l.cfg.fs, dir: info.ID, name: filepath.Base(l.path)}
	if info.ID.IsZero() {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return slotKey{}, &fs.PathError{Op: op, Path: l.given, Err: err}
		}
		key.name = filepath.Join(strings.ToLower(abs), key.name)
	}
	return key, nil
}

// errWaitedPastBound is acquireFile's error when its bound has passed.
var errWaitedPastBound = errors.New("waited past the bound")

// acquireFile takes the file lock, retrying with backoff while it is busy.
// With a bound, it gives up with errWaitedPastBound once it has waited
// that long (kernelBoundFactor times that in the kernel), leaving a wait in
// the kernel for the next acquisition of this process to adopt. A waiter inTurn (first in the queue) keeps watching
// however many races it loses: it is the one to be woken.
func (l *Lock) acquireFile(ctx context.Context, op string, wait bool, bound time.Duration, inTurn bool) (held, error) {
	var b backoff
	wake := wakeup{l: l, inTurn: inTurn}
	defer wake.close()
	var giveUp, giveUpInKernel time.Time
	if bound > 0 {
		now := l.cfg.clock.Now()
		giveUp, giveUpInKernel = now.Add(bound), now.Add(kernelBoundFactor*bound)
	}
	for {
		h, err := l.attempt(ctx, &wake, wait, giveUpInKernel)
		if err == nil || errors.Is(err, errWaitedPastBound) {
			return h, err
		}
		if !errors.Is(err, errBusy) {
			if ctx.Err() != nil {
				return nil, waitError(ctx, op, l.given)
			}
			return nil, pathError(op, l.given, err)
		}
		if !wait {
			return nil, &fs.PathError{Op: op, Path: l.given, Err: ErrWouldBlock}
		}
		if wake.arm() {
			// At once, or waiting in the kernel. The attempt judges the
			// lock again: a holder that died between the last judgement
			// and the start of the watch raised no event the watch saw.
			l.lastJudge = time.Time{}
			continue
		}
		d := wake.pollAfter(&b)
		if !giveUp.IsZero() && !wake.inKernel {
			left := giveUp.Sub(l.cfg.clock.Now())
			if left <= 0 {
				return nil, errWaitedPastBound
			}
			d = min(d, left)
		}
		t := l.cfg.clock.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, waitError(ctx, op, l.given)
		case <-t.C():
		case <-wake.C():
			t.Stop()
			wake.woken()
			// The event may be the holder's death (the kernel closing
			// its lock file), which only a judgement can tell from a
			// release, however recent the last one.
			l.lastJudge = time.Time{}
		}
	}
}

// attempt is one attempt of acquireFile. A wait in the kernel lasts until
// giveUp at most (if set), and then gives up with errWaitedPastBound.
func (l *Lock) attempt(ctx context.Context, wake *wakeup, wait bool, giveUp time.Time) (held, error) {
	if !wake.inKernel || giveUp.IsZero() {
		return wake.try(ctx, wait)
	}
	tryCtx, stop := l.until(ctx, giveUp)
	h, err := wake.try(tryCtx, wait)
	bounded := tryCtx.Err() != nil && ctx.Err() == nil
	stop()
	if err != nil && bounded {
		return nil, errWaitedPastBound
	}
	return h, err
}

// until returns a context that ends with ctx or at t by the handle's clock,
// and the function that releases it.
func (l *Lock) until(ctx context.Context, t time.Time) (context.Context, func()) {
	c, cancel := context.WithCancel(ctx)
	timer := l.cfg.clock.AfterFunc(t.Sub(l.cfg.clock.Now()), cancel)
	return c, func() {
		timer.Stop()
		cancel()
	}
}

// kernelBoundFactor: a wait in the kernel lasts kernelBoundFactor times
// the bound of a watching wait. The kernel's queue hands the lock over in
// tens of microseconds and, while every waiter gets a processor at once,
// nearly in turn; the longer bound leaves it that work and only catches a
// waiter it has passed over, as it does on a busy machine, where a
// releaser that locks again at once wins every time.
const kernelBoundFactor = 4
