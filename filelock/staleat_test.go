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

// TestWatchingWaiterPollsSeldom: a waiter that watches a soft or link lock
// file, whose every release raises an event, polls only every
// trustedPollFactor × the longest backoff wait: each timer it sets while
// it waits is that long. The holder is of another host and the lock never
// stale, so that nothing else sets the waiter's timers.
func TestWatchingWaiterPollsSeldom(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
			fake := clock.NewFake(time.Now())
			l := newLock(t, path, WithStrategy(s), WithBarging(), WithStaleAfter(0), withClock(fake))
			if !l.keepsOpen() {
				t.Skip("no events here: the waiter polls at its backoff's steps")
			}
			ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
			done := lockAsync(ctx, l)
			t.Cleanup(func() { cancel(); <-done })
			slow := trustedPollFactor * DefaultMaxWait
			for poll := 1; poll <= 4; poll++ {
				pending := waitForTimers(t, fake, done, "a poll", func(p []time.Duration) bool { return len(p) > 0 })
				require.Equal(t, []time.Duration{slow}, pending, "poll %d", poll)
				fake.Advance(slow)
			}
		})
	}
}

// TestWatchLeft: a file stale by age is broken only once it has been seen
// unchanged for watchNeed, never a nanosecond sooner; a wait of watchLeft
// takes the watch past it.
func TestWatchLeft(t *testing.T) {
	const staleAfter = 10 * time.Second
	need := watchNeed(staleAfter)
	require.Equal(t, 6*time.Second, need, "three fifths of the stale-after age")
	for _, tc := range []struct {
		seen, left time.Duration
	}{
		{0, need + 1},
		{time.Second, need - time.Second + 1},
		{need - 1, 2},
		{need, 0},
		{need + time.Hour, 0},
	} {
		left := watchLeft(tc.seen, staleAfter)
		require.Equal(t, tc.left, left, "seen for %v", tc.seen)
		if left > 0 {
			require.Zero(t, watchLeft(tc.seen+left, staleAfter), "seen for %v, then waited %v", tc.seen, left)
		}
	}
}
