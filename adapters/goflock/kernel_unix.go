//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package main

import (
	"errors"
	"io/fs"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// kernelFlock takes the lock as a Go program with no library does: it opens
// the lock file, waits in flock(LOCK_EX), the kernel's queue, and closes the
// file to release it.
//
// flock(2) has no timeout. A wait that runs out leaves its call blocked in
// the kernel, in a goroutine of its own (the pending attempt), and the next
// request takes that call up again rather than queueing a second one: so at
// most one call waits per adapter, and a request keeps its place in the
// kernel's queue. A pending call granted while no request waits for it
// closes its descriptor at once, so a lock nobody asked for is never kept.
// Every attempt has a descriptor, and so an open file description, of its
// own, which is what flock(2) locks belong to: an attempt that ends cannot
// lend its lock to another, nor release another's.
//
// The platforms are those whose flock(2) is the kernel's own (Solaris
// emulates it with fcntl record locks, which belong to the process).
type kernelFlock struct {
	path    string
	fd      int      // the descriptor of the lock held, or -1
	pending *attempt // the call whose wait ran out, or nil
	hooks   kernelHooks
}

// kernelHooks let tests see and force the orders that timing decides.
type kernelHooks struct {
	lateGrantDone func()                   // a pending call granted with no request waiting has closed
	waitRanOut    func(granted chan error) // a wait ran out, before it is given up
}

// attempt is one flock(LOCK_EX) call blocked in the kernel.
type attempt struct {
	fd      int
	granted chan error // the call's result, sent unless abandoned
	mu      sync.Mutex
	// abandoned: no request waits for the result; ended: the call has
	// returned. Both under mu.
	abandoned, ended bool
}

// newKernelFlock returns the bare flock(2) lock on path.
func newKernelFlock(path string) (*kernelFlock, error) {
	return &kernelFlock{path: path, fd: -1}, nil
}

// lock takes the lock, trying once at once and then waiting in the kernel.
func (k *kernelFlock) lock(wait time.Duration) (bool, error) {
	if k.fd >= 0 {
		return false, &fs.PathError{Op: "flock", Path: k.path, Err: errors.New("already held by this adapter")}
	}
	a := k.takePending()
	if a == nil {
		fd, err := unix.Open(k.path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return false, &fs.PathError{Op: "open", Path: k.path, Err: err}
		}
		err = flockRetry(fd, unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return k.took(fd, err)
		}
		if wait == 0 {
			_ = unix.Close(fd)
			return false, nil
		}
		a = k.start(fd)
	}
	return k.await(a, wait)
}

// takePending returns the pending attempt, whose result this request now
// waits for, or nil if there is none or it has ended.
func (k *kernelFlock) takePending() *attempt {
	a := k.pending
	k.pending = nil
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended && a.abandoned { // granted with nobody waiting, and closed
		return nil
	}
	a.abandoned = false
	return a
}

// start makes a flock(LOCK_EX) call on fd in a goroutine.
func (k *kernelFlock) start(fd int) *attempt {
	a := &attempt{fd: fd, granted: make(chan error, 1)}
	done := k.hooks.lateGrantDone
	go func() {
		err := flockRetry(fd, unix.LOCK_EX)
		a.mu.Lock()
		defer a.mu.Unlock()
		a.ended = true
		if !a.abandoned {
			a.granted <- err
			return
		}
		_ = unix.Close(fd) // releases a lock granted too late, or ends a failed call
		if done != nil {
			done()
		}
	}()
	return a
}

// await waits up to wait for a's result, and leaves a pending if it has
// none by then.
func (k *kernelFlock) await(a *attempt, wait time.Duration) (bool, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-a.granted:
		return k.took(a.fd, err)
	case <-t.C:
	}
	if k.hooks.waitRanOut != nil {
		k.hooks.waitRanOut(a.granted)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case err := <-a.granted: // granted as the wait ran out
		return k.took(a.fd, err)
	default:
		a.abandoned = true
		k.pending = a
		return false, nil
	}
}

// took keeps fd as the lock held if err is nil, and closes it otherwise.
func (k *kernelFlock) took(fd int, err error) (bool, error) {
	if err != nil {
		_ = unix.Close(fd)
		return false, &fs.PathError{Op: "flock", Path: k.path, Err: err}
	}
	k.fd = fd
	return true, nil
}

// unlock releases the lock by closing its descriptor.
func (k *kernelFlock) unlock() error {
	if k.fd < 0 {
		return &fs.PathError{Op: "unlock", Path: k.path, Err: errors.New("not held by this adapter")}
	}
	fd := k.fd
	k.fd = -1
	if err := unix.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: k.path, Err: err}
	}
	return nil
}

// close releases the lock if it is held; a pending call ends with the
// process.
func (k *kernelFlock) close() {
	if k.fd >= 0 {
		_ = k.unlock()
	}
}

// flockRetry is flock(2), tried again when a signal interrupts it.
func flockRetry(fd, how int) error {
	for {
		if err := unix.Flock(fd, how); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
