package main

import (
	"context"
	"errors"
	"io/fs"
	"time"

	"github.com/gofrs/flock"
)

// gofrsModule is the module of the gofrs/flock peer.
const gofrsModule = "github.com/gofrs/flock"

// gofrsRetry is how often a gofrs/flock wait tries again. The library
// leaves the delay to its caller; 10 ms suits a lock held for milliseconds.
const gofrsRetry = 10 * time.Millisecond

// gofrsFlock takes the lock with gofrs/flock, as a program that waits with
// a deadline does: TryLockContext, trying again every gofrsRetry.
type gofrsFlock struct{ f *flock.Flock }

// newGofrsFlock returns the gofrs/flock lock on path.
func newGofrsFlock(path string) gofrsFlock { return gofrsFlock{flock.New(path)} }

// lock takes the lock with TryLock, or TryLockContext for a wait.
func (g gofrsFlock) lock(wait time.Duration) (bool, error) {
	if g.f.Locked() {
		return false, g.pathError("flock", errors.New("already held by this adapter"))
	}
	if wait == 0 {
		ok, err := g.f.TryLock()
		return ok, g.pathError("flock", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ok, err := g.f.TryLockContext(ctx, gofrsRetry)
	if errors.Is(err, context.DeadlineExceeded) {
		return false, nil
	}
	return ok, g.pathError("flock", err)
}

// unlock releases the lock with Unlock, which closes the lock file.
func (g gofrsFlock) unlock() error {
	if !g.f.Locked() {
		return g.pathError("unlock", errors.New("not held by this adapter"))
	}
	return g.pathError("unlock", g.f.Unlock())
}

// close releases the lock if it is held.
func (g gofrsFlock) close() { _ = g.f.Close() }

// pathError is err as an *fs.PathError naming the lock file, or nil.
func (g gofrsFlock) pathError(op string, err error) error {
	var pe *fs.PathError
	if err == nil || errors.As(err, &pe) {
		return err
	}
	return &fs.PathError{Op: op, Path: g.f.Path(), Err: err}
}
