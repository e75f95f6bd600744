package fuzz

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstress/lockstress/filelock"
)

const (
	// budget bounds every wait in FuzzTiming, whatever the fuzzed timeout.
	budget = 20 * time.Millisecond
	// lateness is how far past its deadline a wait may return before the
	// input counts as one that overran its bound. It only catches waits
	// that ignore the deadline (a backoff of an hour, say), so it is far
	// above any scheduling delay.
	lateness = 2 * time.Second
)

// Bits of FuzzTiming's flags argument.
const (
	timingWithTimeout   = 1 << iota // apply WithTimeout(timeout)
	timingWithBackoff               // apply WithBackoff(minWait, maxWait)
	timingHandle                    // another handle of this process holds the lock
	timingFile                      // the lock file is held as another process would (wins over timingHandle)
	timingRelease                   // the holder releases after releaseAfter, clamped to the budget
	timingTry                       // acquire with TryLock instead of LockContext
	timingWithStale                 // apply WithStaleAfter(staleAfter) to both handles
	timingWithHeartbeat             // apply WithHeartbeat(heartbeat) to both handles
)

func FuzzTiming(f *testing.F) {
	f.Fuzz(func(t *testing.T, timeout, minWait, maxWait int64, flags, strategy uint8, releaseAfter, staleAfter, heartbeat int64) {
		strategies := filelock.Strategies()
		s := strategies[int(strategy)%len(strategies)]
		path := filepath.Join(t.TempDir(), "lock")

		var opts []filelock.Option
		valid := true
		if flags&timingWithTimeout != 0 {
			opts = append(opts, filelock.WithTimeout(time.Duration(timeout)))
			valid = valid && timeout > 0
		}
		if flags&timingWithBackoff != 0 {
			opts = append(opts, filelock.WithBackoff(time.Duration(minWait), time.Duration(maxWait)))
			valid = valid && minWait > 0 && maxWait > 0 && minWait <= maxWait
		}
		// Stale breaking: a stale-after age is at least a second, longer
		// than any wait here, so no lock held in this test may be broken
		// by age; the hand-made holder names a process of another host, so
		// it is never dead either.
		var staleOpts []filelock.Option
		effStale := filelock.DefaultStaleAfter
		if flags&timingWithStale != 0 {
			staleOpts = append(staleOpts, filelock.WithStaleAfter(time.Duration(staleAfter)))
			valid = valid && (staleAfter == 0 || time.Duration(staleAfter) >= filelock.MinStaleAfter)
			effStale = time.Duration(staleAfter)
		}
		if flags&timingWithHeartbeat != 0 {
			staleOpts = append(staleOpts, filelock.WithHeartbeat(time.Duration(heartbeat)))
			valid = valid && time.Duration(heartbeat) >= filelock.MinHeartbeat &&
				(effStale == 0 || time.Duration(heartbeat) <= effStale/2)
		}
		opts = append(opts, staleOpts...)
		l, err := filelock.New(path, append([]filelock.Option{filelock.WithStrategy(s)}, opts...)...)
		if !valid {
			requireClear(t, "New", err, path, filelock.ErrInvalidOption)
			if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("New that failed touched the lock file: %v", err)
			}
			return
		}
		requireNoError(t, "New", err)

		release := holdForTiming(t, s, path, flags, staleOpts)
		var releasing atomic.Bool // set just before the holder releases
		holderDone := make(chan struct{})
		switch {
		case release == nil:
			close(holderDone)
		case flags&timingRelease != 0:
			after := time.Duration(uint64(releaseAfter) % uint64(budget+1))
			go func() {
				defer close(holderDone)
				time.Sleep(after)
				releasing.Store(true)
				if err := release(); err != nil {
					t.Errorf("holder release: %v", err)
				}
			}()
		default:
			defer func() {
				releasing.Store(true)
				requireNoError(t, "holder release", release())
			}()
			close(holderDone)
		}
		held := release != nil && flags&timingRelease == 0

		// The deadline that ends a wait: the fuzzed timeout or the budget,
		// whichever comes first.
		bound := budget
		if flags&timingWithTimeout != 0 && time.Duration(timeout) < bound {
			bound = time.Duration(timeout)
		}
		ctxTimeout := budget
		if release == nil {
			// Nothing holds the lock: only the fuzzed timeout may end the
			// wait, which must not have to wait at all.
			ctxTimeout = hangAfter / 2
		}

		var op string
		start := time.Now()
		if flags&timingTry != 0 {
			op = "TryLock"
			within(t, op, func() { err = l.TryLock() })
		} else {
			op = "LockContext"
			ctx, cancel := context.WithTimeout(context.Background(), ctxTimeout)
			defer cancel()
			within(t, op, func() { err = l.LockContext(ctx) })
		}
		elapsed := time.Since(start)
		<-holderDone

		if elapsed > budget+lateness {
			t.Fatalf("%s %v took %v, bound %v", s, op, elapsed, bound)
		}
		switch {
		case err == nil:
			if held || (release != nil && !releasing.Load()) {
				t.Fatalf("%v %s acquired a lock that another owner held", s, op)
			}
			requireNoError(t, "Unlock", l.Unlock())
		case flags&timingTry != 0:
			requireClear(t, op, err, path, filelock.ErrWouldBlock)
			if release == nil {
				t.Fatalf("%v TryLock of a free lock: %v", s, err)
			}
		default:
			requireClear(t, op, err, path, filelock.ErrTimeout, context.DeadlineExceeded)
			if release == nil && flags&timingWithTimeout == 0 {
				t.Fatalf("%v %s of a free lock without a timeout: %v", s, op, err)
			}
			if elapsed < bound {
				t.Fatalf("%v %s timed out after %v, before its bound %v", s, op, elapsed, bound)
			}
		}
		if d := l.Depth(); d != 0 {
			t.Fatalf("Depth %d after release or failure", d)
		}
	})
}

// holdForTiming makes the lock at path held by another owner as flags say,
// and returns the function that releases it, or nil if it is left free.
func holdForTiming(t *testing.T, s filelock.Strategy, path string, flags uint8, opts []filelock.Option) func() error {
	t.Helper()
	if flags&(timingHandle|timingFile) == 0 {
		return nil
	}
	if flags&timingFile != 0 {
		rec := filelock.Record{PID: os.Getpid(), Host: "fuzz", Acquired: time.Now(), Token: "0123456789abcdef0123456789abcdef"}
		release, err := holdFile(s, path, marshal(t, rec))
		if err == nil {
			return release
		}
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("holding %v lock by hand: %v", s, err)
		}
	}
	h, err := filelock.New(path, append([]filelock.Option{filelock.WithStrategy(s)}, opts...)...)
	requireNoError(t, "New (holder)", err)
	requireNoError(t, "TryLock (holder)", h.TryLock())
	return h.Unlock
}
