package filelock

import (
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys/memfs"
)

// TestTicketExpiryBoundary: a fair waiter keeps the ticket ahead, another
// host's and so judged by its age alone, while it is exactly the
// stale-after age older than the waiter's own ticket, and removes it once
// it is older. On an in-memory filesystem whose times are a fake clock's,
// the ages are exact.
func TestTicketExpiryBoundary(t *testing.T) {
	const limit, step = time.Minute, 10 * time.Millisecond
	fake := clock.NewFake(time.Unix(1e9, 0))
	m := memfs.New(fake)
	path := "/locks/x.lock"
	require.NoError(t, m.MkdirAll(path+queueSuffix, 0o755))
	ahead := filepath.Join(path+queueSuffix, ticketName(1))
	memWrite(t, m, ahead, forgedRecord(t, otherHost()))
	fake.Advance(limit)

	l := newLock(t, path, WithFair(), WithStaleAfter(limit), withFS(m), withClock(fake), WithBackoff(step, step))
	got := lockInBackground(t, l)
	waitForTimerOf(t, fake, got, step) // the next look at the ticket ahead
	_, err := m.Lstat(ahead)
	require.NoError(t, err, "a ticket exactly the stale-after age old was removed")

	// A step later the ticket is removed and the lock taken; a waiter
	// that kept the ticket waits a step again, which fails at once.
	fake.Advance(step)
	for deadline := time.Now().Add(testLockWait); ; {
		select {
		case err := <-got:
			require.NoError(t, err)
			_, err = m.Lstat(ahead)
			require.ErrorIs(t, err, fs.ErrNotExist, "the lock was taken with the ticket ahead still there")
			require.NoError(t, l.Unlock())
			return
		case <-time.After(time.Millisecond):
		}
		if _, err := m.Lstat(ahead); err == nil && slices.Contains(fake.Deadlines(), step) {
			t.Fatalf("a ticket %v older than the stale-after age was kept: the waiter waits behind it again", step)
		}
		require.False(t, time.Now().After(deadline), "no result within %v", testLockWait)
	}
}

// TestPollingWaiterRechecksATicketWhenItExpires: a fair waiter that polls
// (its filesystem raises no events: here an in-memory one whose times come
// from the waiter's fake clock, so that the ticket's age is exact) looks at
// a ticket that only its age can judge when it expires, however long its
// backoff steps, and then takes its turn.
func TestPollingWaiterRechecksATicketWhenItExpires(t *testing.T) {
	const staleAfter, made = 10 * time.Second, 2 * time.Second
	fake, m, path, ahead := remoteTicketInMemory(t)
	fake.Advance(made)

	l := newLock(t, path, withFS(m), withClock(fake), WithFair(), WithStaleAfter(staleAfter), WithBackoff(time.Hour, time.Hour))
	got := lockInBackground(t, l)
	// Its ticket's refresh, and its wait: to the first moment the ticket
	// ahead is older than the stale-after age.
	expiry := staleAfter - made + time.Nanosecond
	pending := waitForTimers(t, fake, got, "the waiter's wait", func(p []time.Duration) bool { return len(p) == 2 })
	require.Equal(t, []time.Duration{staleAfter / 3, expiry}, pending, "the wait ends when the ticket expires")
	require.Zero(t, l.Depth())
	fake.Advance(expiry)
	require.NoError(t, recv(t, got), "the turn once the ticket ahead expired")
	_, err := m.Lstat(ahead)
	require.ErrorIs(t, err, fs.ErrNotExist, "the expired ticket removed")
	require.NoError(t, l.Unlock())
}

// A fair TryLock, which makes no ticket of its own, judges the tickets
// ahead by the filesystem's clock as a probe reads it: the ticket of a
// waiter it cannot judge alive or dead (another host's) holds it up until
// it is older than the stale-after age, and no longer.
func TestTryLockExpiresATicketByAge(t *testing.T) {
	const staleAfter = 10 * time.Second
	fake, m, path, ahead := remoteTicketInMemory(t)
	l := newLock(t, path, withFS(m), withClock(fake), WithFair(), WithStaleAfter(staleAfter))
	fake.Advance(staleAfter)
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "a ticket of the stale-after age is still a waiter's")
	fake.Advance(time.Second + futureSlack)
	require.NoError(t, l.TryLock(), "the ticket older than the stale-after age expired")
	_, err := m.Lstat(ahead)
	require.ErrorIs(t, err, fs.ErrNotExist, "the expired ticket removed")
	require.NoError(t, l.Unlock())
}

// remoteTicketInMemory returns an in-memory filesystem whose times come
// from a fake clock, the path of a lock in it, and the path of a ticket
// in that lock's queue of a waiter that only its age can judge (another
// host's), made now.
func remoteTicketInMemory(t *testing.T) (fake *clock.Fake, m *memfs.FS, path, ahead string) {
	t.Helper()
	fake = clock.NewFake(time.Unix(1_000_000, 0))
	m = memfs.New(fake)
	path = "/locks/x.lock"
	ahead = filepath.Join(path+queueSuffix, ticketName(1))
	require.NoError(t, m.MkdirAll(filepath.Dir(ahead), 0o755))
	memWrite(t, m, ahead, forgedRecord(t, otherHost()))
	return fake, m, path, ahead
}
