package filelock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
)

// Lock is a cross-process lock on one path. Make it with New.
//
// A Lock is a handle, and ownership belongs to the handle: acquiring it
// again while it is held only increments a counter, and it is released
// when Unlock has been called as many times. Goroutines that share one
// handle therefore share its ownership: the handle excludes other handles
// and other processes, never the goroutines that use it. Give each
// goroutine that must be excluded its own handle (New is cheap); two
// handles for the same path in one process exclude each other under every
// strategy.
//
// All methods are safe for concurrent use.
type Lock struct {
	path  string // absolute but not cleaned (pathname_unix.go), so that a later chdir changes nothing
	given string // as given to New
	cfg   config
	mech  mechanism

	sem chan struct{} // one acquisition in progress per handle

	// lastJudge is when the acquisition in progress last judged the lock
	// by the stale rule; guarded by sem.
	lastJudge time.Time
	// staleAt is when, by this host's clock, the lock file last judged
	// live becomes stale by age if it does not change; zero when unknown.
	// Guarded by sem.
	staleAt time.Time
	// waitKey is the table key of the acquisition in progress; guarded
	// by sem.
	waitKey slotKey
	// dir describes the lock's directory (links followed) as the
	// acquisition in progress judged it; guarded by sem.
	dir fsys.Info
	// lastTidy is when an acquisition of the handle last tidied the
	// queue (queue.look); guarded by sem.
	lastTidy time.Time
	// local caches keepsOpen's look at the lock's filesystem: 0 not yet
	// looked, 1 yes, 2 no; guarded by sem.
	local int8
	// noRename is set once the lock's filesystem was found unable to
	// rename without replacing (see createSoft). Atomic: a release may
	// make a guard while an acquisition is in progress.
	noRename atomic.Bool

	mu    sync.Mutex
	depth int
	held  held
	slot  slotKey
}

// mechanism is one strategy's way of taking the file lock.
type mechanism interface {
	// try makes one attempt. It returns errBusy when another owner holds
	// the lock, or another error that ends the acquisition. An attempt
	// may break a stale lock, waiting for that (as long as ctx allows) only
	// if wait is set.
	try(ctx context.Context, l *Lock, wait bool) (held, error)
	// inspect reports who holds the lock at path.
	inspect(l *Lock) (Status, error)
}

// held is a file lock this process holds.
type held interface {
	// release gives the lock up. It returns ErrLockLost if the lock had
	// been taken away.
	release() error
	// lost returns a channel that is closed when the lock is found to
	// have been taken away while held; nil if that cannot happen.
	lost() <-chan struct{}
}

// New returns an unlocked handle for the lock at path. It checks the path's
// form and the options, and touches no file: the lock file is made when the
// lock is first acquired. Errors are *fs.PathError values matching
// ErrInvalidPath, ErrInvalidOption or ErrUnsupported.
func New(path string, opts ...Option) (*Lock, error) {
	if err := checkPath(path); err != nil {
		return nil, &fs.PathError{Op: "new", Path: path, Err: err}
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.shared && cfg.strategy.fileBased() {
		cfg.reject("shared locks need the os or ofd strategy, not %v", cfg.strategy)
	}
	if cfg.staleAfter > 0 && cfg.heartbeat > cfg.staleAfter/2 {
		cfg.reject("heartbeat interval %v must be at most half the stale-after age %v", cfg.heartbeat, cfg.staleAfter)
	}
	if cfg.shared && cfg.fair {
		cfg.reject("a fair lock cannot be shared")
	}
	if len(cfg.errs) > 0 {
		return nil, &fs.PathError{Op: "new", Path: path, Err: errors.Join(cfg.errs...)}
	}
	if !supported(cfg.strategy) {
		return nil, &fs.PathError{Op: "new", Path: path, Err: fmt.Errorf("strategy %v: %w", cfg.strategy, ErrUnsupported)}
	}
	abs, err := absolute(path)
	if err != nil {
		return nil, &fs.PathError{Op: "new", Path: path, Err: fmt.Errorf("%w: %w", ErrInvalidPath, err)}
	}
	if err := checkNameLength(filepath.Base(abs), &cfg); err != nil {
		return nil, &fs.PathError{Op: "new", Path: path, Err: err}
	}
	l := &Lock{path: abs, given: path, cfg: cfg, sem: make(chan struct{}, 1)}
	switch cfg.strategy {
	case Soft:
		l.mech = fileMechanism{create: createSoft}
	case Link:
		l.mech = fileMechanism{create: createLink}
	default:
		locker, _ := lockerFor(cfg.strategy)
		l.mech = osMechanism{locker: locker}
	}
	if cfg.mech != nil {
		l.mech = cfg.mech(l.mech)
	}
	return l, nil
}

func checkPath(path string) error {
	switch {
	case path == "":
		return fmt.Errorf("%w: empty", ErrInvalidPath)
	case strings.IndexByte(path, 0) >= 0:
		return fmt.Errorf("%w: contains a NUL byte", ErrInvalidPath)
	case strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)):
		return fmt.Errorf("%w: ends in a separator, so it names a directory", ErrInvalidPath)
	}
	switch filepath.Base(path) {
	case ".", "..":
		return fmt.Errorf("%w: names a directory", ErrInvalidPath)
	}
	return nil
}

// Path returns the lock's path as given to New.
func (l *Lock) Path() string { return l.given }

// Strategy returns the lock's strategy.
func (l *Lock) Strategy() Strategy { return l.cfg.strategy }

// Depth returns how many times the handle holds the lock: 0 when it is
// not held.
func (l *Lock) Depth() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.depth
}

// Lock acquires the lock, waiting as long as it takes, or as long as
// WithTimeout allows. If the handle already holds the lock it only counts
// one more acquisition; if that holding was found lost (Lost), it fails
// with an error matching ErrLockLost until the handle is unlocked. Waiters
// are served in turn once they have waited a while (see the package
// overview and WithBarging). An OS or OFD lock on a local filesystem of
// Linux is waited for in the kernel, which hands it over the moment it is
// released (unless WithPolling); other locks are watched and polled.
func (l *Lock) Lock() error { return l.LockContext(context.Background()) }

// LockContext acquires the lock, waiting until ctx is done (and no longer
// than WithTimeout allows). A wait that ends on a deadline returns an error
// matching ErrTimeout and context.DeadlineExceeded; one that ends on a
// cancellation matches context.Canceled. It returns as soon as ctx is done,
// leaving nothing behind but an OS or OFD lock's wait in the kernel, if
// one was made: the next acquisition of the lock in this process takes it
// over, and if it wins before that, it releases the lock at once. A
// context that is already done fails without trying, unless the handle
// already holds the lock.
func (l *Lock) LockContext(ctx context.Context) error {
	if l.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.cfg.timeout)
		defer cancel()
	}
	return l.acquire(ctx, "lock", true)
}

// TryLock makes one attempt to acquire the lock and never waits. If another
// owner holds it — another process, another handle, or another goroutine
// that is acquiring this handle right now — or a waiter's turn has come
// (see WithBarging and WithFair), it returns an error matching
// ErrWouldBlock. A handle that holds the lock counts one more acquisition,
// as Lock does, or fails as Lock does once its holding was found lost.
func (l *Lock) TryLock() error { return l.acquire(context.Background(), "trylock", false) }

// Lost returns a channel that is closed if the lock this handle holds is
// found to have been taken away while held: the heartbeat of a Soft or Link
// lock (or Unlock) found its lock file removed or replaced, not merely
// moved aside by a break under way, which puts back a file refreshed since
// it was judged. That happens only when the lock was broken as stale (its
// holder was stopped, or its heartbeat could not run, for longer than the
// stale-after age less one heartbeat interval: two thirds of the age by
// default, half of it at the longest interval WithHeartbeat allows, since
// the stop may begin just before a refresh; less if the filesystem's clock
// steps forward meanwhile). Work protected by the lock should stop when it
// fires; Unlock then returns an error matching ErrLockLost. The channel
// belongs to the current holding: it is nil when the handle does not hold
// the lock, and for the kernel strategies, whose locks are never taken
// away.
func (l *Lock) Lost() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		return nil
	}
	return l.held.lost()
}

// Unlock releases one acquisition. The lock itself is released when the
// count reaches zero. Unlock of a handle that does not hold the lock
// returns an error matching ErrNotLocked. If the lock was taken away while
// held, the handle is released all the same and the error matches
// ErrLockLost (that of each Unlock once Lost has fired, the count's too);
// nothing that belongs to another owner is removed. If a Soft or Link lock
// file that is still the handle's could not be removed (an I/O error), the
// handle keeps holding the lock and Unlock may be retried.
func (l *Lock) Unlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.depth == 0 {
		return &fs.PathError{Op: "unlock", Path: l.given, Err: ErrNotLocked}
	}
	l.depth--
	if l.depth > 0 {
		if isClosed(l.held.lost()) {
			return &fs.PathError{Op: "unlock", Path: l.given, Err: ErrLockLost}
		}
		return nil
	}
	h := l.held
	err := h.release()
	if kept := (*holdKept)(nil); errors.As(err, &kept) {
		l.depth = 1
		return pathError("unlock", l.given, err)
	}
	l.held = nil
	processLocks.release(l.slot, l.cfg.shared)
	if err != nil {
		return pathError("unlock", l.given, err)
	}
	return nil
}
