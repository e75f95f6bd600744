package filelock

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
)

// TestDeadTicketsAfterAWaitGoAtOnce: a fair waiter that has waited for the
// live waiter just ahead, and finds the dead tickets of immediateRetries
// waiters ahead once that one has left, removes them one round after
// another and takes its turn with no backoff pause: the pause is for a
// queue that keeps finding dead tickets without ever waiting (a listing
// that lags behind), and a round that waited starts the count again. The
// clock is a fake that never moves, so a pause would never end; the
// waiter watches the ticket ahead (inotify), so its removal wakes it.
func TestDeadTicketsAfterAWaitGoAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	queue := path + queueSuffix
	require.NoError(t, os.Mkdir(queue, 0o755))
	var dead []string
	for n := range uint64(immediateRetries) {
		name := filepath.Join(queue, ticketName(n+1))
		require.NoError(t, os.WriteFile(name, forgedRecord(t, otherHost()), 0o644))
		dead = append(dead, name)
	}
	live := otherHost()
	live.PID++
	ahead := filepath.Join(queue, ticketName(immediateRetries+1))
	require.NoError(t, os.WriteFile(ahead, forgedRecord(t, live), 0o644))

	judgedAhead := make(chan struct{})
	judged := sync.OnceFunc(func() { close(judgedAhead) })
	liveness := func(id proc.Identity) proc.State {
		switch id {
		case otherHost():
			return proc.Dead
		case live:
			judged()
		}
		return proc.Alive
	}
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, WithFair(), withClock(fake), withProcess(proc.Self(), liveness))
	got := lockInBackground(t, l)
	select {
	case <-judgedAhead:
	case err := <-got:
		t.Fatalf("acquired (%v) before judging the live waiter ahead", err)
	case <-time.After(testLockWait):
		t.Fatal("the live waiter ahead was never judged")
	}
	// Left after its judgement: the watch set before it sees the removal.
	require.NoError(t, os.Remove(ahead))
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(testLockWait):
		t.Fatalf("the waiter paused (%d timers of the clock pending) before the dead tickets were all removed", fake.Pending())
	}
	for _, name := range dead {
		require.NoFileExists(t, name)
	}
	require.NoError(t, l.Unlock())
}

// behindALiveWaiter returns a fair handle, on a fake clock that never
// moves and with age-based breaking off, of a lock whose queue holds the
// ticket (ahead) of a waiter that is alive, always.
func behindALiveWaiter(t *testing.T) (l *Lock, fake *clock.Fake, ahead string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.lock")
	require.NoError(t, os.Mkdir(path+queueSuffix, 0o755))
	ahead = filepath.Join(path+queueSuffix, ticketName(1))
	require.NoError(t, os.WriteFile(ahead, forgedRecord(t, otherHost()), 0o644))
	alive := withProcess(proc.Self(), func(proc.Identity) proc.State { return proc.Alive })
	fake = clock.NewFake(time.Now())
	return newLock(t, path, WithFair(), WithStaleAfter(0), withClock(fake), alive), fake, ahead
}

// TestLiveWaiterAheadRecheckedSeldom: a fair waiter behind a live waiter of
// this host whose ticket never expires (age-based breaking off) learns of
// that waiter's leaving or death from an event, and rechecks it only every
// aliveRecheck, as a safety net: not every judgeEvery, which is for a
// ticket about to expire by age. Then the ticket ahead leaves, and the
// event alone, with a clock that never moves, lets the waiter in.
func TestLiveWaiterAheadRecheckedSeldom(t *testing.T) {
	l, fake, ahead := behindALiveWaiter(t)
	got := lockInBackground(t, l)
	pending := waitForTimerOf(t, fake, got, aliveRecheck)
	require.Less(t, judgeEvery, pending[0], "nothing is due sooner (timers pending: %v)", pending)
	for range 2 {
		// The recheck finds the waiter ahead alive, as it was: no event
		// came, so it is not dying, and the next recheck is as far off.
		fake.Advance(aliveRecheck)
		pending := waitForTimerUpTo(t, fake, got, aliveRecheck)
		require.Equal(t, aliveRecheck, pending[0], "after a recheck (timers pending: %v)", pending)
	}
	require.NoError(t, os.Remove(ahead))
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(testLockWait):
		t.Fatal("the removal of the ticket ahead did not let the waiter in")
	}
	require.NoError(t, l.Unlock())
}

// TestWaiterRechecksATicketWhenItExpires: a fair waiter behind a ticket
// that only its age can judge (another host's), close to expiring, looks
// at it again when it expires: its next wait ends then, not later. The
// waiter comes once the ticket is two seconds old by the filesystem's
// clock (older on a loaded machine), so with a 10 s stale-after age it has
// at most 8 s left; the waiter's clock never moves, so the wait shows in
// its timers.
//
// The ticket's age is the filesystem's, set by the kernel's wall clock,
// which the test cannot hold still: a step of it (a virtual machine
// resumed from a pause has its wall clock set forward), or a stall of the
// machine, past the stale-after age makes the ticket expired, and the
// waiter rightly removes it and takes the lock. A try in which the ticket
// was not of the age made when the waiter had judged it tells nothing and
// is made again, up to three times.
func TestWaiterRechecksATicketWhenItExpires(t *testing.T) {
	for try := 1; !waitsUntilTicketExpires(t); try++ {
		if try == 3 {
			t.Fatal("in three tries the wall clock stepped or the machine stalled under the ticket")
		}
	}
}

// waitsUntilTicketExpires is a try of TestWaiterRechecksATicketWhenItExpires:
// it reports false when the ticket's age was not what the try made.
func waitsUntilTicketExpires(t *testing.T) bool {
	t.Helper()
	const staleAfter, made = 10 * time.Second, 2 * time.Second
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	queue := path + queueSuffix
	require.NoError(t, os.Mkdir(queue, 0o755))
	ahead := filepath.Join(queue, ticketName(1))
	require.NoError(t, os.WriteFile(ahead, forgedRecord(t, otherHost()), 0o644))
	info, err := fsys.OS{}.Lstat(ahead)
	require.NoError(t, err)
	age := func() time.Duration { return fsNowIn(t, dir).Sub(info.Changed()) }
	require.Eventually(t, func() bool { return age() >= made }, testLockWait, 5*time.Millisecond, "the filesystem's clock did not move")

	fake := clock.NewFake(time.Now())
	l := newLock(t, path, WithFair(), WithStaleAfter(staleAfter), WithBackoff(time.Hour, time.Hour), withClock(fake))
	ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
	defer cancel()
	got := lockAsync(ctx, l)
	var pending []time.Duration
	require.Eventually(t, func() bool {
		pending = fake.Deadlines()
		return len(pending) == 2 // its ticket's refresh and its wait
	}, testLockWait, time.Millisecond, "the waiter never waited behind the ticket")
	// Measured after the waiter judged the ticket, so no younger than it
	// was then.
	if a := age(); a < made-timeGrain || a >= staleAfter {
		cancel()
		_ = recv(t, got) // it may have taken the lock, rightly: abandon releases it
		t.Logf("the ticket, %v old when the waiter came, was %v old by the filesystem's clock after: the wall clock stepped, or the machine stalled; again", made, a)
		return false
	}
	// Two timers are also those of a holder (its ticket's refresh and its
	// heartbeat, both a third of the stale-after age), which pass the
	// checks of the wait below.
	require.Zero(t, l.Depth(), "the waiter took the lock past a ticket younger than the stale-after age (timers pending: %v)", pending)
	require.FileExists(t, ahead, "the ticket ahead was removed before it expired")
	refresh := staleAfter / 3
	wait := pending[0]
	if wait == refresh {
		wait = pending[1]
	}
	require.Less(t, wait, staleAfter-made+time.Millisecond, "the wait ends after the ticket expires (timers pending: %v)", pending)
	require.GreaterOrEqual(t, wait, judgeEvery, "timers pending: %v", pending)
	cancel()
	require.ErrorIs(t, recv(t, got), context.Canceled, "the waiter stopped waiting before it was cancelled")
	return true
}

// fsNowIn returns the time by the clock of the filesystem that holds dir:
// the change time of a file made there now.
func fsNowIn(t *testing.T, dir string) time.Time {
	t.Helper()
	f, err := os.CreateTemp(dir, "probe")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	defer os.Remove(f.Name())
	info, err := fsys.OS{}.Lstat(f.Name())
	require.NoError(t, err)
	return info.Changed()
}

// TestDeadTicketsPauseTheWaiter: a fair waiter that finds dead tickets
// ahead, round after round, removes immediateRetries+1 of them at once and
// then pauses a backoff step before the next round, so that a listing
// that lags behind (NFS) cannot make it spin; its clock, which never moves
// unless the test moves it, shows the pause.
func TestDeadTicketsPauseTheWaiter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	queue := path + queueSuffix
	require.NoError(t, os.Mkdir(queue, 0o755))
	for n := range uint64(immediateRetries + 2) {
		require.NoError(t, os.WriteFile(filepath.Join(queue, ticketName(n+1)), forgedRecord(t, otherHost()), 0o644))
	}
	dead := withProcess(proc.Self(), func(id proc.Identity) proc.State {
		if id == otherHost() {
			return proc.Dead
		}
		return proc.Alive
	})
	const step = 10 * time.Millisecond
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, WithFair(), withClock(fake), dead, WithBackoff(step, step))
	got := lockInBackground(t, l)
	waitForTimerOf(t, fake, got, step) // the pause
	require.Len(t, listTickets(t, queue), 2, "one dead ticket left at the pause, and the waiter's own")
	fake.Advance(step)
	require.NoError(t, recv(t, got), "first once the last dead ticket is gone")
	require.Len(t, listTickets(t, queue), 1, "the turn taken with no ticket ahead: the waiter's own is all that is left")
	require.NoError(t, l.Unlock())
}

// TestDyingWaiterAheadRecheckedAtGrowingSteps: a fair waiter woken by an
// event of the live waiter ahead (the close of its ticket, as its death
// raises) that finds it still alive (dying: its files are closed before
// it is gone) looks again after 1, 2, 4 … up to 64 ms, and only then goes
// back to the safety net's recheck, every aliveRecheck. Its clock moves
// only to the end of each wait it sets.
func TestDyingWaiterAheadRecheckedAtGrowingSteps(t *testing.T) {
	l, fake, ahead := behindALiveWaiter(t)
	stop := waitInBackground(t, l)
	waitsFor := func(d time.Duration) {
		t.Helper()
		pending := waitForTimerOf(t, fake, nil, d)
		require.Equal(t, d, pending[0], "the waiter's shortest timer (timers pending: %v)", pending)
	}
	waitsFor(aliveRecheck)
	f, err := os.OpenFile(ahead, os.O_WRONLY, 0) // closed as its waiter's death closes it
	require.NoError(t, err)
	require.NoError(t, f.Close())
	for step := dyingRecheck; step <= maxDyingRecheck; step *= 2 {
		waitsFor(step)
		fake.Advance(step)
	}
	waitsFor(aliveRecheck)
	stop()
}

// waitForTimerUpTo returns the timers of fake pending once one of them
// has d or less left (the acquisition's own deadline is longer), failing
// the test as waitForTimerOf does.
func waitForTimerUpTo(t *testing.T, fake *clock.Fake, done <-chan error, d time.Duration) []time.Duration {
	t.Helper()
	return waitForTimers(t, fake, done, fmt.Sprintf("a wait of %v or less", d), func(pending []time.Duration) bool {
		return len(pending) > 0 && pending[0] <= d
	})
}

// waitInBackground starts l.LockContext, with a deadline of testLockWait,
// for a test that ends while it waits: stop cancels it and requires that
// it was still waiting, and has returned, so that it holds no slot of the
// process-wide table into the next test.
func waitInBackground(t *testing.T, l *Lock) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
	t.Cleanup(cancel)
	got := lockAsync(ctx, l)
	return func() {
		t.Helper()
		cancel()
		require.ErrorIs(t, recv(t, got), context.Canceled, "the waiter stopped waiting before it was cancelled")
	}
}
