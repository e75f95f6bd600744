package filelock

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
)

// TestWaiterJudgesAgainWhenStale: a waiter that watches a lock file whose
// holder no event will report (one of another host) judges it again when
// its last judgement said it would turn stale, not later. The slow poll is
// made hours long and the clock is fake: the waiter first sees the lock
// file aged 4 s of its 6, and must break it once the clock has moved 2 s
// on. The waiter barges, so that the lock file's own judgement is the only
// one it makes.
func TestWaiterJudgesAgainWhenStale(t *testing.T) {
	defer func(f time.Duration) { trustedPollFactor = f }(trustedPollFactor)
	trustedPollFactor = 1 << 20
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) { testJudgedAgainWhenStale(t, s) })
	}
}

func testJudgedAgainWhenStale(t *testing.T, s Strategy) {
	const stale, seenAt = 6 * time.Second, 4 * time.Second
	path := filepath.Join(t.TempDir(), "x.lock")
	require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, WithStrategy(s), WithBarging(), WithStaleAfter(stale), withClock(fake))
	if !l.keepsOpen() {
		t.Skip("no events here: the waiter polls, and judges at every poll")
	}
	// The first judgement reads the filesystem's clock, which the fake
	// clock then carries forward.
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock)
	require.Zero(t, fake.Pending(), "a TryLock sets no timer")
	select {
	case <-fake.TimerAdded():
	default:
	}
	fake.Advance(seenAt)

	ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
	done := make(chan error, 1)
	go func() { done <- l.LockContext(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-fake.TimerAdded(): // the waiter sleeps until its next judgement
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("the lock file, aged %v of %v, was taken: %v", seenAt, stale, err)
	case <-time.After(testLockWait):
		t.Fatal("the waiter set no timer")
	}
	fake.Advance(stale - seenAt + time.Nanosecond)
	select {
	case err := <-done:
		done <- err // for the cleanup
		require.NoError(t, err, "the lock file turned stale and was broken")
	case <-time.After(10 * time.Second):
		t.Fatalf("not judged again when stale: %d timers pending", fake.Pending())
	}
	require.NoError(t, l.Unlock())
}
