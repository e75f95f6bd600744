package filelock

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
)

func TestReentrancyCountsAcquisitions(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		a := newLock(t, path, WithStrategy(s))
		b := newLock(t, path, WithStrategy(s))

		require.NoError(t, lockWithin(a))
		require.NoError(t, a.TryLock())
		require.NoError(t, a.LockContext(context.Background()))
		require.Equal(t, 3, a.Depth())
		for want := 2; want >= 0; want-- {
			require.ErrorIs(t, b.TryLock(), ErrWouldBlock, "held at depth %d", want+1)
			require.NoError(t, a.Unlock())
			require.Equal(t, want, a.Depth())
		}
		err := a.Unlock()
		require.ErrorIs(t, err, ErrNotLocked)
		var pe *fs.PathError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, path, pe.Path)

		require.NoError(t, b.TryLock(), "released at depth 0")
		require.NoError(t, b.Unlock())
		require.Zero(t, processLocks.size())
	})
}

func TestHandlesOfOneProcessExclude(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.lock")
		// Another spelling of the same path is the same lock.
		alias := filepath.Join(dir, ".", "x.lock")
		a := newLock(t, path, WithStrategy(s))
		b := newLock(t, alias, WithStrategy(s))

		require.NoError(t, lockWithin(a))
		require.ErrorIs(t, b.TryLock(), ErrWouldBlock)
		// In the background, so that a wait that ignores its deadline
		// fails the test instead of hanging it.
		timedOut := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			timedOut <- b.LockContext(ctx)
		}()
		err := recv(t, timedOut)
		require.ErrorIs(t, err, ErrTimeout)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		done := make(chan error, 1)
		go func() { done <- lockWithin(b) }()
		require.NoError(t, a.Unlock())
		require.NoError(t, recv(t, done))
		require.ErrorIs(t, a.TryLock(), ErrWouldBlock)
		require.NoError(t, b.Unlock())
	})
}

// TestCounterTwoHandles: goroutines, each with its own handle on one path,
// increment a counter file under the lock; no increment may be lost.
func TestCounterTwoHandles(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		lockPath, counter := filepath.Join(dir, "x.lock"), filepath.Join(dir, "counter")
		const handles, rounds = 4, 200
		var wg sync.WaitGroup
		errs := make(chan error, handles)
		for range handles {
			wg.Go(func() {
				l, err := New(lockPath, WithStrategy(s), WithBackoff(50*time.Microsecond, time.Millisecond))
				if err == nil {
					err = incrementLoop(l, counter, rounds)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, handles*rounds, readCounter(t, counter))
	})
}

func TestSharedLocks(t *testing.T) {
	for _, s := range Strategies() {
		if s.fileBased() {
			_, err := New(filepath.Join(t.TempDir(), "x"), WithStrategy(s), WithShared())
			require.ErrorIs(t, err, ErrInvalidOption)
			continue
		}
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			r1 := newLock(t, path, WithStrategy(s), WithShared())
			r2 := newLock(t, path, WithStrategy(s), WithShared())
			w := newLock(t, path, WithStrategy(s))
			require.NoError(t, lockWithin(r1))
			require.NoError(t, r2.TryLock(), "shared holders coexist")
			require.ErrorIs(t, w.TryLock(), ErrWouldBlock)
			st, err := Inspect(path, WithStrategy(s))
			require.NoError(t, err)
			require.True(t, st.Held)
			require.Nil(t, st.Holder, "shared holders write no record")
			require.NoError(t, r1.Unlock())
			require.ErrorIs(t, w.TryLock(), ErrWouldBlock)
			require.NoError(t, r2.Unlock())
			require.NoError(t, w.TryLock())
			require.ErrorIs(t, r1.TryLock(), ErrWouldBlock, "an exclusive holder excludes readers")
			require.NoError(t, w.Unlock())
		})
	}
}

func TestCancelReturnsWithoutWaitingForPoll(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		// The fake clock never advances, so a waiter that only wakes on its
		// backoff timer would never return: cancellation must wake it.
		fake := clock.NewFake(time.Unix(1e9, 0))
		dir := t.TempDir()
		path := filepath.Join(dir, "x.lock")
		holder := newLock(t, path, WithStrategy(s))
		require.NoError(t, lockWithin(holder))
		before := dirEntries(t, dir)

		// First the waiter waits in the process-wide table...
		waiter := newLock(t, path, WithStrategy(s), withClock(fake))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- waiter.LockContext(ctx) }()
		cancel()
		err := recv(t, done)
		require.ErrorIs(t, err, context.Canceled)
		require.NotErrorIs(t, err, ErrTimeout)

		// ...then in the file's backoff loop: giving up the holder's table
		// slot (but not its file lock) makes it look like another process.
		processLocks.release(holder.slot, false)
		ctx, cancel = context.WithCancel(context.Background())
		go func() { done <- waiter.LockContext(ctx) }()
		if s.fileBased() || runtime.GOOS != "linux" {
			waitForTimer(t, fake, done, "slept in its backoff")
		} else {
			waitForLockSyscall(t, s) // the waiter waits in the kernel
		}
		cancel()
		require.ErrorIs(t, recv(t, done), context.Canceled)
		require.Equal(t, 0, fake.Pending(), "the backoff timer was stopped")
		require.Equal(t, before, dirEntries(t, dir), "nothing left behind")
		require.NoError(t, processLocks.acquire(context.Background(), holder.slot, false, false))
		require.NoError(t, holder.Unlock())
		require.Zero(t, processLocks.size())
		// The abandoned kernel wait wins the released lock and lets it go.
		require.Eventually(t, func() bool { return kernelWaits.pending() == 0 }, 10*time.Second, time.Millisecond)
		require.NoError(t, holder.TryLock(), "the abandoned wait released the lock")
		require.NoError(t, holder.Unlock())
	})
}

func TestExpiredContextFailsWithoutTrying(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	l := newLock(t, path)
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel()
	err := l.LockContext(ctx)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoFileExists(t, path)

	// A holder re-entering needs no wait, so a done context does not matter.
	require.NoError(t, lockWithin(l))
	require.NoError(t, l.LockContext(ctx))
	require.NoError(t, l.Unlock())
	require.NoError(t, l.Unlock())
}

func TestWithTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	a := newLock(t, path)
	b := newLock(t, path, WithTimeout(10*time.Millisecond))
	require.NoError(t, lockWithin(a))
	err := b.Lock()
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, a.Unlock())
	// The handle whose wait ran out is usable. (A TryLock: a Lock's 10 ms
	// can run out on a loaded machine before its first attempt.)
	require.NoError(t, b.TryLock())
	require.NoError(t, b.Unlock())
}

func TestConcurrentAcquireOfOneHandleSharesOwnership(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	l := newLock(t, path)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { require.NoError(t, lockWithin(l)) })
	}
	wg.Wait()
	require.Equal(t, 8, l.Depth())
	for range 8 {
		require.NoError(t, l.Unlock())
	}
	require.NoFileExists(t, path)
}

func TestBackoffStaysWithinBounds(t *testing.T) {
	const min, max = time.Millisecond, 50 * time.Millisecond
	var b backoff
	var last time.Duration
	grew := false
	for i := range 1000 {
		d := b.next(min, max)
		require.GreaterOrEqual(t, d, min, "wait %d", i)
		require.LessOrEqual(t, d, max, "wait %d", i)
		if d > 10*min {
			grew = true
		}
		last = d
	}
	require.True(t, grew, "waits grow towards max")
	require.Greater(t, last, max/2-1, "the step stays at max")
}

func TestOptionsRejected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	for _, tc := range []struct {
		name string
		opt  Option
	}{
		{"zero min", WithBackoff(0, time.Second)},
		{"negative max", WithBackoff(time.Millisecond, -1)},
		{"min over max", WithBackoff(time.Second, time.Millisecond)},
		{"zero timeout", WithTimeout(0)},
		{"negative timeout", WithTimeout(-time.Second)},
		{"perm with type bits", WithPerm(fs.ModeDir | 0o644)},
		{"perm the owner may not read", WithPerm(0o200)},
		{"perm nobody may read", WithPerm(0o000)},
		{"dir perm without owner rwx", WithCreateDirs(0o600)},
		{"unknown strategy", WithStrategy(Strategy(99))},
		{"the number after the last strategy", WithStrategy(Strategy(len(strategyNames)))},
		{"negative strategy", WithStrategy(Strategy(-1))},
		{"heartbeat under the least", WithHeartbeat(MinHeartbeat - 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := New(path, tc.opt)
			require.Nil(t, l)
			require.ErrorIs(t, err, ErrInvalidOption)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, path, pe.Path)
		})
	}
	require.NoFileExists(t, path)
}

// TestOptionsAtTheirBounds: each option's documented bound is itself
// accepted.
func TestOptionsAtTheirBounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	for name, opts := range map[string][]Option{
		"least heartbeat":              {WithStaleAfter(time.Hour), WithHeartbeat(MinHeartbeat)},
		"longest heartbeat":            {WithStaleAfter(time.Hour), WithHeartbeat(30 * time.Minute)},
		"backoff min equal max":        {WithBackoff(time.Millisecond, time.Millisecond)},
		"perm the owner may only read": {WithPerm(0o400)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(path, opts...)
			require.NoError(t, err)
		})
	}
}

func TestParseStrategy(t *testing.T) {
	for _, s := range Strategies() {
		got, err := ParseStrategy(s.String())
		require.NoError(t, err)
		require.Equal(t, s, got)
	}
	_, err := ParseStrategy("nope")
	require.ErrorIs(t, err, ErrInvalidOption)
	// A number that names no strategy says so, on either side.
	require.Equal(t, "link", Strategy(len(strategyNames)-1).String())
	require.Equal(t, fmt.Sprintf("Strategy(%d)", len(strategyNames)), Strategy(len(strategyNames)).String())
	require.Equal(t, "Strategy(-1)", Strategy(-1).String())
}

func TestErrorsCarryThePath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	a := newLock(t, path)
	b := newLock(t, path)
	require.NoError(t, lockWithin(a))
	defer a.Unlock()
	for _, err := range []error{b.TryLock(), b.Unlock()} {
		var pe *fs.PathError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, path, pe.Path)
		require.Contains(t, err.Error(), path)
	}
}
