//go:build linux

package filelock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/notify"
)

// openFDs counts this process's open descriptors, once closed watchers
// have let go of theirs.
func openFDs(t *testing.T) int {
	t.Helper()
	notify.Settle()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}

// threads counts this process's threads.
func threads(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	return len(ents)
}

// onKernelWait makes every acquisition that starts waiting for a kernel
// wait call f, until the test ends.
func onKernelWait(t *testing.T, f func(adopted bool)) {
	kernelWaitHook = f
	t.Cleanup(func() { kernelWaitHook = nil })
}

// waitNoKernelWait waits until no kernel wait of this process is pending:
// an abandoned wait has won its lock and released it.
func waitNoKernelWait(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool { return kernelWaits.pending() == 0 }, 10*time.Second, time.Millisecond)
}

// TestCancelledKernelWaitsLeaveNothing: 10,000 acquisitions of a lock
// that another process holds, each cancelled once it waits in the kernel,
// make one kernel wait, which the others adopt in turn: one descriptor and
// at most a few threads and goroutines more while it is pending, nothing
// once the holder releases, which the abandoned wait wins and releases at
// once, so that another process takes the lock. goleak checks the
// goroutines at the end of the package.
func TestCancelledKernelWaitsLeaveNothing(t *testing.T) {
	const waits = 10000
	for _, s := range []Strategy{OS, OFD} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			fds, tasks, goroutines := openFDs(t), threads(t), runtime.NumGoroutine()
			release := startReleasingHolder(t, s, path)
			withHolder := openFDs(t)

			var cancel context.CancelFunc
			started, adopted := 0, 0
			onKernelWait(t, func(a bool) {
				if a {
					adopted++
				} else {
					started++
				}
				cancel()
			})
			l := newLock(t, path, WithStrategy(s))
			for i := range waits {
				ctx, stop := context.WithCancel(context.Background())
				cancel = stop
				err := l.LockContext(ctx)
				stop()
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("acquisition %d: %v, want context.Canceled", i, err)
				}
			}
			require.Equal(t, 1, started, "kernel waits started")
			require.Equal(t, waits-1, adopted, "kernel waits adopted")
			require.Equal(t, 1, kernelWaits.pending())
			require.Equal(t, withHolder+1, openFDs(t), "the pending wait's descriptor alone")
			require.LessOrEqual(t, threads(t), tasks+4)
			require.LessOrEqual(t, runtime.NumGoroutine(), goroutines+4)

			release()
			waitNoKernelWait(t)
			require.Equal(t, fds, openFDs(t), "no descriptor left")
			startReleasingHolder(t, s, path)() // another process takes the lock
		})
	}
}

// TestAbandonedKernelWaitReleases: a kernel wait whose acquisition left
// before the lock was released wins it at the release and lets it go at
// once: another process, and another handle of this one, take it.
func TestAbandonedKernelWaitReleases(t *testing.T) {
	for _, s := range []Strategy{OS, OFD} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			release := startReleasingHolder(t, s, path)
			l := newLock(t, path, WithStrategy(s))
			ctx, cancel := context.WithCancel(context.Background())
			done := lockAsync(ctx, l)
			waitForLockSyscall(t, s)
			cancel()
			require.ErrorIs(t, recv(t, done), context.Canceled)
			require.Equal(t, 1, kernelWaits.pending())

			release() // the only waiter left is the abandoned one
			waitNoKernelWait(t)
			startReleasingHolder(t, s, path)()
			require.NoError(t, l.TryLock())
			require.NoError(t, l.Unlock())
		})
	}
}

// TestKernelWaitNotAdoptedAcrossModes: a shared acquisition does not adopt
// an abandoned exclusive wait (which would hold the lock exclusively for
// it), nor starts a second one: it watches and polls, and takes the lock
// when the holder releases it, before or after the abandoned wait won and
// let go of it.
func TestKernelWaitNotAdoptedAcrossModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	release := startReleasingHolder(t, OS, path)
	var calls atomic.Int32
	onKernelWait(t, func(bool) { calls.Add(1) })
	// Its bound an hour, so that it waits in the kernel until cancelled.
	excl := newLock(t, path, WithStrategy(OS), WithBackoff(time.Millisecond, time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := lockAsync(ctx, excl)
	waitForLockSyscall(t, OS)
	cancel()
	require.ErrorIs(t, recv(t, done), context.Canceled)

	fake := clock.NewFake(time.Now())
	shared := newLock(t, path, WithStrategy(OS), WithShared(), withClock(fake))
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done = lockAsync(ctx, shared)
	waitForTimer(t, fake, done, "watched and polled")
	require.Equal(t, int32(1), calls.Load(), "only the exclusive acquisition waited in the kernel")
	require.Equal(t, 1, kernelWaits.pending(), "one wait, the abandoned one")
	release()
	for {
		select {
		case err := <-done:
			require.NoError(t, err)
			// The abandoned exclusive wait, if it has not won yet, waits
			// for the shared holder, and then wins and lets go.
			require.NoError(t, shared.Unlock())
			waitNoKernelWait(t)
			return
		case <-time.After(time.Millisecond):
			fake.Advance(time.Hour)
		}
	}
}

// TestKernelWaitBounded: a default os or ofd acquisition waits in the
// kernel for its bound there (kernelBoundFactor times a watching wait's)
// and no longer, then takes a ticket, and gets the lock at the release.
// One that cannot wait in the kernel, because a wait of another mode is
// pending there, watches for the usual bound, and does not take that
// failure for the end of it. Its clock is fake: only the test moves it.
func TestKernelWaitBounded(t *testing.T) {
	for _, tc := range []struct {
		s           Strategy
		sharedFirst bool // a shared wait of this process is pending first
	}{{OS, false}, {OFD, false}, {OS, true}} {
		t.Run(fmt.Sprintf("%v/shared-first=%v", tc.s, tc.sharedFirst), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			release := startReleasingHolder(t, tc.s, path)
			if tc.sharedFirst {
				shared := newLock(t, path, WithStrategy(tc.s), WithShared())
				ctx, cancel := context.WithCancel(context.Background())
				done := lockAsync(ctx, shared)
				waitForLockSyscall(t, tc.s)
				cancel()
				require.ErrorIs(t, recv(t, done), context.Canceled)
			}
			fake := clock.NewFake(time.Now())
			l := newLock(t, path, WithStrategy(tc.s), withClock(fake))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := lockAsync(ctx, l)
			if tc.sharedFirst {
				require.Eventually(t, func() bool { return fake.Pending() > 0 }, time.Minute, time.Millisecond)
				time.Sleep(100 * time.Millisecond) // time to queue, were it to
			} else {
				waitForLockSyscall(t, tc.s)
			}
			require.Zero(t, queueLen(t, path), "queued before its bound")
			if !tc.sharedFirst {
				// A wait in the kernel: its bound is longer.
				fake.Advance(kernelBoundFactor*l.bargeBound() - time.Millisecond)
				time.Sleep(100 * time.Millisecond) // time to queue, were it to
				require.Zero(t, queueLen(t, path), "queued before its bound in the kernel")
				fake.Advance(time.Millisecond)
			} else {
				fake.Advance(l.bargeBound())
			}
			require.Eventually(t, func() bool { return queueLen(t, path) == 1 }, time.Minute, time.Millisecond, "not queued past its bound")
			release()
			for {
				select {
				case err := <-done:
					require.NoError(t, err)
					require.NoError(t, l.Unlock())
					require.NoDirExists(t, path+queueSuffix)
					return
				case <-time.After(time.Millisecond):
					fake.Advance(l.turnLength())
				}
			}
		})
	}
}

// TestNoKernelWaitOnAnotherUsersFile: a Lock waiting in the kernel on a
// lock file that is then replaced, in a sticky directory all users may
// write, by another user's file that that user holds (the first removed by
// a cleaner of the directory, the second made by a user who never takes
// the lock), refuses the new file with ErrUnsafeDirectory at once, rather
// than wait in the kernel on a file whose owner may hold it for ever. (A
// barging waiter: its next attempt after the removed file is another wait
// in the kernel, where a default waiter may join the queue and try first.)
func TestNoKernelWaitOnAnotherUsersFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving the lock file to another user (nobody) needs root")
	}
	for _, s := range []Strategy{OS, OFD} {
		t.Run(s.String(), func(t *testing.T) {
			dir := tempDirMode(t, 0o777|fs.ModeSticky)
			path := filepath.Join(dir, "x.lock")
			first := lockedFile(t, s, path, -1)
			l := newLock(t, path, WithStrategy(s), WithBarging())
			done := make(chan error, 1)
			go func() { done <- l.Lock() }()
			waitForLockSyscall(t, s)
			require.NoError(t, os.Remove(path))
			lockedFile(t, s, path, 65534)
			require.NoError(t, first.Close()) // the waiter wins the removed file
			require.ErrorIs(t, recv(t, done), ErrUnsafeDirectory)
		})
	}
}

// lockedFile makes the file path, of user uid (-1: this user's), and
// locks it exclusively with strategy s's mechanism through a descriptor of
// its own, which the test closes when it ends, if it has not.
func lockedFile(t *testing.T, s Strategy, path string, uid int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	if uid >= 0 {
		require.NoError(t, f.Chown(uid, uid))
	}
	locker, ok := lockerFor(s)
	require.True(t, ok)
	require.NoError(t, locker.lock(f.Fd(), false))
	return f
}
