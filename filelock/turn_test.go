package filelock

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/proc"
)

// Processes that the tests of turns pretend are alive and dead.
const (
	turnAlivePID = 1 << 30
	turnDeadPID  = 1<<30 + 1
)

// turnOptions are a handle's options in which turnAlivePID is alive and
// every other process but this one dead.
func turnOptions(s Strategy, extra ...Option) []Option {
	self := defaultConfig().self
	liveness := func(id proc.Identity) proc.State {
		if id.PID == turnAlivePID || id.PID == self.PID {
			return proc.Alive
		}
		return proc.Dead
	}
	return append([]Option{WithStrategy(s), withProcess(self, liveness)}, extra...)
}

// plantTurn makes the queue of the lock at path as a waiter first in it,
// of process pid, leaves it when it has asked for its turn (or has died
// having asked): its ticket and the turn marker. It returns the paths of
// both.
func plantTurn(t *testing.T, path string, pid int) (ticketPath, marker string) {
	t.Helper()
	q := path + queueSuffix
	require.NoError(t, os.Mkdir(q, 0o755))
	r := newRecord(proc.Identity{PID: pid, Host: defaultConfig().self.Host}, time.Now())
	data, err := r.MarshalText()
	require.NoError(t, err)
	ticketPath = filepath.Join(q, string(appendTicketName(nil, 1, r.Token)))
	require.NoError(t, os.WriteFile(ticketPath, data, 0o644))
	marker = filepath.Join(q, turnName)
	require.NoError(t, os.WriteFile(marker, nil, 0o644))
	return ticketPath, marker
}

// TestTurnMarkerStopsBargers: while a live waiter has asked for its turn, a
// default handle's TryLock fails, though the lock is free; a barging
// handle takes it. Once that waiter has gone, a default Lock queues, takes
// the lock in turn and removes the marker, and its release the queue.
func TestTurnMarkerStopsBargers(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		ticketPath, marker := plantTurn(t, path, turnAlivePID)

		l := newLock(t, path, turnOptions(s)...)
		require.ErrorIs(t, l.TryLock(), ErrWouldBlock)

		barging := newLock(t, path, turnOptions(s, WithBarging())...)
		require.NoError(t, barging.TryLock())
		require.NoError(t, barging.Unlock())
		require.FileExists(t, marker)

		require.NoError(t, os.Remove(ticketPath))
		require.NoError(t, lockWithin(l))
		require.NoFileExists(t, marker, "the acquisition in turn left the marker")
		require.NoError(t, l.Unlock())
		require.NoDirExists(t, path+queueSuffix)
	})
}

// TestTurnDebrisTidied: the ticket and turn marker of a waiter that died
// first in the queue, with nobody behind it, stop nobody: the next
// acquisition removes them, and the queue.
func TestTurnDebrisTidied(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		plantTurn(t, path, turnDeadPID)
		l := newLock(t, path, turnOptions(s)...)
		require.NoError(t, l.TryLock())
		require.NoDirExists(t, path+queueSuffix)
		require.NoError(t, l.Unlock())
	})
}

// TestTurnMarkerInUnsafeQueueIgnored: a marker in a queue directory that
// all users may write may be anyone's, so it stops nobody.
func TestTurnMarkerInUnsafeQueueIgnored(t *testing.T) {
	if euid < 0 {
		t.Skip("no owners or modes to judge a directory by on this platform")
	}
	path := filepath.Join(t.TempDir(), "x.lock")
	plantTurn(t, path, turnAlivePID)
	require.NoError(t, os.Chmod(path+queueSuffix, 0o777))
	l := newLock(t, path, turnOptions(Soft)...)
	l.lastTidy = time.Now() // the marker alone is looked at, not a tidy
	require.NoError(t, l.TryLock())
	require.NoError(t, l.Unlock())
}

// TestStaleTurnMarkerIgnored: a marker that its live waiter has stopped
// keeping (a waiter stopped with SIGSTOP) stops nobody once it is older
// than its life.
func TestStaleTurnMarkerIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	plantTurn(t, path, turnAlivePID)
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, turnOptions(Soft, withClock(fake))...)
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "a fresh marker")
	fake.Advance(turnMarkerLife + time.Second)
	require.NoError(t, l.TryLock(), "a marker not kept for its life")
	require.NoError(t, l.Unlock())
}

// TestDefaultHandleThatCannotQueueBarges: a default handle that may not
// write in the queue (another user's, a read-only filesystem) waits for
// the lock without it, where a fair one fails.
func TestDefaultHandleThatCannotQueueBarges(t *testing.T) {
	for _, fair := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "fair"}[fair], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			_, marker := plantTurn(t, path, turnAlivePID)
			denied := &faultFS{create: func(name string) error {
				if filepath.Dir(name) == path+queueSuffix && name != marker {
					return &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
				}
				return nil
			}}
			opts := turnOptions(Soft, withFS(denied))
			if fair {
				opts = append(opts, WithFair())
			}
			l := newLock(t, path, opts...)
			err := lockWithin(l)
			if fair {
				require.ErrorIs(t, err, fs.ErrPermission)
				return
			}
			require.NoError(t, err)
			require.NoError(t, l.Unlock())
		})
	}
}

// turnWaiter is a default waiter on a lock that another process holds,
// whose clock moves only when the test moves it, and which polls (no
// event, no wait in the kernel).
type turnWaiter struct {
	l       *Lock
	fake    *clock.Fake
	done    <-chan error // the result of its acquisition
	release func()       // the holder's release
	marker  string       // the path of the turn marker
}

// startTurnWaiter starts a turnWaiter of strategy s on path.
func startTurnWaiter(t *testing.T, s Strategy, path string) turnWaiter {
	t.Helper()
	_, release := startHolder(t, s, path)
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, WithStrategy(s), WithPolling(), withClock(fake), WithBackoff(time.Millisecond, 8*time.Millisecond))
	return turnWaiter{l: l, fake: fake, done: lockInBackground(t, l), release: release, marker: filepath.Join(path+queueSuffix, turnName)}
}

// acquire has the holder release the lock and waits for the waiter to
// take it.
func (w turnWaiter) acquire(t *testing.T) {
	t.Helper()
	w.release()
	advanceUntil(t, w.fake, "acquired", func() bool { return w.l.Depth() == 1 })
	require.NoError(t, recv(t, w.done))
}

// TestBargerQueuesPastItsBound: a default waiter that has tried the lock
// for its bound joins the queue; first in it, it asks for its turn once it
// has waited a turn's length there, and takes the lock at the release,
// removing its ticket, the marker and the queue. Its clock moves only when
// the test moves it, and it polls (no event, no wait in the kernel).
func TestBargerQueuesPastItsBound(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		w := startTurnWaiter(t, s, path)
		waited := advanceUntil(t, w.fake, "queued", func() bool { return queueLen(t, path) == 1 })
		require.GreaterOrEqual(t, waited, w.l.bargeBound(), "queued before its bound")
		advanceUntil(t, w.fake, "asked for its turn", func() bool { return fileThere(w.marker) })

		w.acquire(t)
		require.NoFileExists(t, w.marker)
		require.NoError(t, w.l.Unlock())
		require.NoDirExists(t, path+queueSuffix)
	})
}

// TestTurnMarkerMadeAgain: a waiter that has asked for its turn touches
// its marker, and makes it again soon when something else removed it: a
// tidy that found no live waiter, or another waiter that also took itself
// for first and took the lock before it. (It used to wait a second, in
// which a holder that takes the lock again at once kept it: one process
// took 263 of 327 acquisitions in TestNoStarvationProcesses.)
func TestTurnMarkerMadeAgain(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		w := startTurnWaiter(t, s, filepath.Join(t.TempDir(), "x.lock"))
		advanceUntil(t, w.fake, "asked for its turn", func() bool { return fileThere(w.marker) })
		for range 3 {
			settle(t, w.fake) // the waiter has made its marker and set its next look
			require.NoError(t, os.Remove(w.marker))
			waited := advanceUntil(t, w.fake, "made the marker again", func() bool { return fileThere(w.marker) })
			// A turn's length after it was made, and at doubling steps
			// since: the test sees the marker within a step of the clock
			// of its making, at most after the first look.
			require.LessOrEqual(t, waited, 2*w.l.turnLength(), "the marker was missing for longer than two turns")
		}
		// And it keeps it fresh, so that it counts for its life.
		old := time.Now().Add(-time.Hour)
		require.NoError(t, os.Chtimes(w.marker, old, old))
		advanceUntil(t, w.fake, "touched the marker", func() bool {
			info, err := os.Lstat(w.marker)
			require.NoError(t, err)
			return info.ModTime().After(old.Add(time.Minute))
		})
		w.acquire(t)
		require.NoFileExists(t, w.marker)
		require.NoError(t, w.l.Unlock())
	})
}

// TestMarkerLooksDouble: a waiter that has asked for its turn looks for
// its marker a turn's length after making it (half a second at most,
// whatever the backoff: the marker must outlive the looks), and then at
// doubling steps, so that a waiter that waits out a long hold looks
// seldom, up to half a second apart.
func TestMarkerLooksDouble(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxWait time.Duration
		first   time.Duration // the first look, after the making
	}{
		{"short turns", 8 * time.Millisecond, time.Millisecond},
		{"default", DefaultMaxWait, DefaultMaxWait / 8},
		{"long backoff", 30 * time.Second, tidyEvery / 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			fake := clock.NewFake(time.Now())
			l := newLock(t, path, withClock(fake), WithBackoff(time.Millisecond, tc.maxWait))
			q := newQueue(l)
			require.NoError(t, q.enqueue())
			done := q.askTurn(0)
			t.Cleanup(func() {
				done()
				require.NoError(t, q.leave())
			})
			marker := filepath.Join(path+queueSuffix, turnName)
			settle(t, fake)
			require.FileExists(t, marker)

			require.NoError(t, os.Remove(marker))
			waited := advanceUntil(t, fake, "made again", func() bool { return fileThere(marker) })
			require.GreaterOrEqual(t, waited, tc.first, "looked before the first step")
			require.LessOrEqual(t, waited, tc.first+time.Millisecond, "not made again at the first look")
			if 40*tc.first <= tidyEvery/2 { // else the steps reach their cap at once
				// Twenty first steps after the making, the looks have spread.
				made := fake.Now()
				advanceUntil(t, fake, "twenty steps", func() bool { return fake.Now().Sub(made) >= 20*tc.first })
				require.NoError(t, os.Remove(marker))
				waited = advanceUntil(t, fake, "made again", func() bool { return fileThere(marker) })
				require.Greater(t, waited, tc.first+time.Millisecond, "the looks did not spread out")
				require.LessOrEqual(t, waited, 20*tc.first, "the looks spread too far")
			}
			// Long after, the steps are at their cap, half of tidyEvery:
			// a waiter that waits out a long hold still looks, and
			// touches, well within the marker's life.
			made := fake.Now()
			advanceUntil(t, fake, "ten seconds", func() bool { return fake.Now().Sub(made) >= 10*time.Second })
			require.NoError(t, os.Remove(marker))
			waited = advanceUntil(t, fake, "made again", func() bool { return fileThere(marker) })
			require.LessOrEqual(t, waited, tidyEvery/2+time.Millisecond, "the looks spread past their cap")
		})
	}
}

// TestTurnMarkerLeftForATie: a default waiter that takes its turn leaves
// the marker when another ticket of its number is queued, whose waiter may
// also take itself for first and have asked; with none it removes it
// (TestBargerQueuesPastItsBound). Whichever of the two leaves the queue
// last removes the marker and the queue, so that nothing is left behind
// once both have gone (TestNoStarvationProcesses found the queue left with
// the marker in it, where the tie's waiter had left first).
func TestTurnMarkerLeftForATie(t *testing.T) {
	for _, tieFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("tie leaves first=%v", tieFirst), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			w := startTurnWaiter(t, Soft, path)
			advanceUntil(t, w.fake, "asked for its turn", func() bool { return fileThere(w.marker) })
			tie := queuedTicket(t, path, 1)
			defer tie.closeDir()

			w.acquire(t)
			require.FileExists(t, w.marker, "the turn removed the marker of a waiter of the same number")
			if tieFirst {
				require.NoError(t, tie.leave())
			}
			require.NoError(t, w.l.Unlock())
			if !tieFirst {
				require.FileExists(t, w.marker, "the marker was removed while a waiter that may share it was queued")
				require.NoError(t, tie.leave())
			}
			if ents, err := os.ReadDir(path + queueSuffix); !os.IsNotExist(err) {
				t.Fatalf("the queue is left when both have gone, holding %v (%v)", ents, err)
			}
		})
	}
}

// queuedTicket returns the queue of another default handle of path
// holding a ticket numbered num, made in it as if that handle had queued.
func queuedTicket(t *testing.T, path string, num uint64) *queue {
	t.Helper()
	q := newQueue(newLock(t, path))
	name := filepath.Base(writeTicket(t, path, num, time.Now()))
	require.NoError(t, q.openDir(false, nil))
	mine := q.ticket(num, []byte(name))
	q.mine = &mine
	return q
}

// TestMarkerLeftByAFirstTry: a default waiter that, first in the queue,
// takes the lock at its first try, without asking for its turn, leaves a
// marker there while another waiter is queued, whatever its number: that
// waiter may take itself for first too (its ticket ahead left before this
// one's ticket was made, from a listing older than its own, with a lower
// number) and have asked. Alone, it removes it (TestBargerQueuesPastItsBound).
func TestMarkerLeftByAFirstTry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	w := startTurnWaiter(t, Soft, path)
	advanceUntil(t, w.fake, "asked for its turn", func() bool { return fileThere(w.marker) })
	settle(t, w.fake)

	x := queuedTicket(t, path, 0) // below the waiter's number
	defer x.closeDir()
	x.endTurn(x.d, false)
	require.FileExists(t, w.marker, "a first try removed the marker of a waiter that asked for its turn")

	require.NoError(t, x.leave())
	w.acquire(t)
	require.NoError(t, w.l.Unlock())
}

// lockInBackground starts l.LockContext, with a deadline of testLockWait,
// and returns the channel of its result. When the test ends, an
// acquisition still waiting is cancelled and waited for, so that it holds
// no slot of the process-wide table into the next test.
func lockInBackground(t *testing.T, l *Lock) <-chan error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
	done, returned := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(returned)
		done <- l.LockContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-returned:
		case <-time.After(testLockWait):
			t.Errorf("an acquisition did not return within %v of its cancel", testLockWait)
		}
	})
	return done
}

// waitForTimer returns once the code under test has set a timer of fake,
// as an acquisition does when it begins to wait (what); it fails the test
// if that acquisition, whose result done carries, returns first, and
// after testLockWait if neither happens.
func waitForTimer(t *testing.T, fake *clock.Fake, done <-chan error, what string) {
	t.Helper()
	select {
	case <-fake.TimerAdded():
	case err := <-done:
		t.Fatalf("the acquisition returned (%v) before %s", err, what)
	case <-time.After(testLockWait):
		t.Fatalf("no timer set within %v: the acquisition never %s", testLockWait, what)
	}
}

// waitForTimerOf returns the timers of fake pending once one of them has
// d left, as the code under test sets it when it begins such a wait; it
// fails the test if the acquisition whose result done carries (nil: none)
// returns first, and after testLockWait if neither happens.
func waitForTimerOf(t *testing.T, fake *clock.Fake, done <-chan error, d time.Duration) []time.Duration {
	t.Helper()
	return waitForTimers(t, fake, done, fmt.Sprintf("a wait of %v", d), func(pending []time.Duration) bool {
		return slices.Contains(pending, d)
	})
}

// waitForTimers returns the timers of fake pending once ready holds of
// them (what describes it), failing the test as waitForTimerOf does.
func waitForTimers(t *testing.T, fake *clock.Fake, done <-chan error, what string, ready func([]time.Duration) bool) []time.Duration {
	t.Helper()
	for deadline := time.Now().Add(testLockWait); ; {
		if pending := fake.Deadlines(); ready(pending) {
			return pending
		}
		select {
		case err := <-done:
			t.Fatalf("the acquisition returned (%v) before %s", err, what)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v (timers pending: %v)", what, testLockWait, fake.Deadlines())
		}
	}
}

// lockAsync starts l.LockContext in a goroutine and returns the channel of
// its result.
func lockAsync(ctx context.Context, l *Lock) <-chan error {
	done := make(chan error, 1)
	go func() { done <- l.LockContext(ctx) }()
	return done
}

// advanceUntil moves the fake clock a millisecond at a time, each time a
// timer is pending, until cond holds, and returns how far it moved it.
// After each step it waits for the functions of the timers that fired to
// return, so that cond sees what they did.
func advanceUntil(t *testing.T, fake *clock.Fake, what string, cond func() bool) time.Duration {
	t.Helper()
	start := fake.Now()
	for i := 0; !cond(); i++ {
		require.Less(t, i, 10000, "%s: not after %d steps of the clock", what, i)
		require.Eventually(t, func() bool { return fake.Pending() > 0 }, time.Minute, time.Millisecond)
		fake.Advance(time.Millisecond)
		settle(t, fake)
	}
	return fake.Now().Sub(start)
}

// settle waits for the functions of the fake's timers that have fired to
// return, for a minute at most.
func settle(t *testing.T, fake *clock.Fake) {
	t.Helper()
	settled := make(chan struct{})
	go func() { fake.Settle(); close(settled) }()
	select {
	case <-settled:
	case <-time.After(time.Minute):
		t.Fatal("a timer's function still running after a minute")
	}
}

// fileThere reports whether anything is at path.
func fileThere(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// TestDeadRemoteWaiterHoldsUpNoDefaultWaiter: the waiters first in the
// queue are another host's, which only the age of their tickets can show
// dead. If they died there, a default waiter queued behind them takes the
// lock as soon as it is free, not minutes later when their tickets expire;
// while one asks for its turn (its marker is kept), the default waiter
// waits; a fair waiter always keeps its place behind them.
func TestDeadRemoteWaiterHoldsUpNoDefaultWaiter(t *testing.T) {
	for _, s := range Strategies() {
		for _, tc := range []struct {
			remotes int
			asking  bool
		}{{1, false}, {1, true}, {2, false}, {2, true}} {
			asking := tc.asking
			t.Run(fmt.Sprintf("%v/remotes=%d/asking=%v", s, tc.remotes, asking), func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(t.TempDir(), "x.lock")
				h := newLock(t, path, WithStrategy(s), withFS(otherFS{}))
				require.NoError(t, lockWithin(h))
				var remote string
				for n := range tc.remotes {
					remote = writeTicket(t, path, uint64(n+1), time.Now())
				}
				if asking {
					// Made now: it counts for turnMarkerLife unless kept.
					require.NoError(t, os.WriteFile(filepath.Join(path+queueSuffix, turnName), nil, 0o644))
				}
				w := newLock(t, path, WithStrategy(s))
				got := lockInBackground(t, w)
				require.Eventually(t, func() bool { return queueLen(t, path) == tc.remotes+1 }, testLockWait, time.Millisecond, "the waiter queued behind the other host's")
				require.NoError(t, h.Unlock())
				if asking {
					select {
					case err := <-got:
						t.Fatalf("took the turn of a waiter that asks for it (%v)", err)
					case <-time.After(turnMarkerLife / 3):
					}
				}
				select {
				case err := <-got:
					require.NoError(t, err)
				case <-time.After(10 * time.Second):
					t.Fatal("the free lock waits for the other host's ticket to expire")
				}
				require.FileExists(t, remote, "another host's ticket stays until it expires")
				require.NoError(t, w.Unlock())

				fair := newLock(t, path, WithStrategy(s), WithFair())
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				require.ErrorIs(t, fair.LockContext(ctx), ErrTimeout, "a fair waiter is served in order")
			})
		}
	}
}

// TestQueueTidiedEveryTidyEvery: a default acquisition that finds a queue
// directory tidies it (lists it, to remove what dead waiters left) at its
// first look and then once every tidyEvery: not at a look within
// tidyEvery of the last tidy, and again at one tidyEvery after it.
func TestQueueTidiedEveryTidyEvery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	ticket, marker := plantTurn(t, path, turnAlivePID)
	require.NoError(t, os.Remove(marker)) // a waiter queued that has not asked for its turn
	t.Cleanup(func() { os.Remove(ticket) })
	ffs, listings := listingsOf(path + queueSuffix)
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, turnOptions(Soft, withClock(fake), withFS(ffs))...)
	take := func() int64 {
		t.Helper()
		before := listings.Load()
		require.NoError(t, l.TryLock())
		require.NoError(t, l.Unlock())
		return listings.Load() - before
	}
	first := take()
	require.Positive(t, first, "no tidy at the first look")
	fake.Advance(tidyEvery - time.Millisecond)
	require.Zero(t, take(), "tidied again within tidyEvery")
	fake.Advance(time.Millisecond)
	require.Equal(t, first, take(), "not tidied again after tidyEvery")
	require.FileExists(t, ticket, "a live waiter's ticket tidied away")
}

// TestFutureMarkerCountsForItsLife: a turn marker changed in the future of
// the filesystem's clock (the clock stepped back while its waiter was
// stopped) stops acquisitions of a free lock for the marker's life, as
// this handle sees it unchanged, not until that future comes.
func TestFutureMarkerCountsForItsLife(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	_, marker := plantTurn(t, path, turnAlivePID)
	future := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(marker, future, future))
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, turnOptions(Soft, withClock(fake), withFS(noCtimeFS{}))...)
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "a waiter asks for its turn")
	fake.Advance(turnMarkerLife)
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "seen unchanged for no longer than its life")
	fake.Advance(tidyEvery)
	require.NoError(t, l.TryLock(), "a marker unchanged for longer than its life is ignored")
	require.NoError(t, l.Unlock())
}

// TestMarkerAgedByTheFilesystemsClock: a turn marker's age is read by the
// clock of the filesystem that holds it, not this host's, which may be
// far off it (an NFS client's): a marker just made counts though this
// host's clock is an hour ahead, and one unchanged for an hour by the
// filesystem's clock is ignored though this host's clock is an hour
// behind, by which it was just made.
func TestMarkerAgedByTheFilesystemsClock(t *testing.T) {
	for _, tc := range []struct {
		name   string
		made   time.Duration // before now, by the filesystem's clock
		host   time.Duration // this host's clock, off the filesystem's
		counts bool
	}{
		{"fresh, host ahead", 0, time.Hour, true},
		{"an hour old, host behind", time.Hour, -time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			_, marker := plantTurn(t, path, turnAlivePID)
			made := time.Now().Add(-tc.made)
			require.NoError(t, os.Chtimes(marker, made, made))
			l := newLock(t, path, turnOptions(Soft, withClock(clock.NewFake(time.Now().Add(tc.host))), withFS(noCtimeFS{}))...)
			if tc.counts {
				require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "a fresh marker of a live waiter counts")
				return
			}
			require.NoError(t, l.TryLock(), "a marker unchanged for longer than its life is ignored")
			require.NoError(t, l.Unlock())
		})
	}
}

// TestUntouchableMarkerReplaced: a waiter whose turn marker cannot be
// touched (another user's, made in a tie, without write for this one)
// makes its own in its place, rather than let it age out while it waits.
func TestUntouchableMarkerReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	marker := filepath.Join(path+queueSuffix, turnName)
	_, release := startHolder(t, Soft, path)
	ffs := &faultFS{touch: func(name string) error {
		if name == marker {
			return &fs.PathError{Op: "utimensat", Path: name, Err: syscall.EPERM}
		}
		return nil
	}}
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, WithPolling(), withClock(fake), withFS(ffs), WithBackoff(time.Millisecond, 8*time.Millisecond))
	w := turnWaiter{l: l, fake: fake, done: lockInBackground(t, l), release: release, marker: marker}
	advanceUntil(t, fake, "asked for its turn", func() bool { return fileThere(marker) })
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(marker, old, old))
	advanceUntil(t, fake, "made its own marker", func() bool {
		info, err := os.Lstat(marker)
		return err == nil && info.ModTime().After(old.Add(time.Minute))
	})
	w.acquire(t)
	require.NoError(t, l.Unlock())
}

// TestLiveLocalWaiterAheadKeepsItsPlace: a default waiter behind another
// host's waiter (judged by age alone) does not take the turn as if it
// were first while a waiter of this host that is alive is ahead of both:
// that one asks for its turn when it is first.
func TestLiveLocalWaiterAheadKeepsItsPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	h := newLock(t, path, withFS(otherFS{}))
	require.NoError(t, lockWithin(h))
	require.NoError(t, os.MkdirAll(path+queueSuffix, 0o755))
	local := filepath.Join(path+queueSuffix, ticketName(1))
	require.NoError(t, os.WriteFile(local, forgedRecord(t, proc.Of(liveChild(t))), 0o644))
	writeTicket(t, path, 2, time.Now())
	w := newLock(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan error, 1)
	go func() { got <- w.LockContext(ctx) }()
	require.Eventually(t, func() bool { return queueLen(t, path) == 3 }, testLockWait, time.Millisecond, "the waiter queued behind both")
	require.NoError(t, h.Unlock())
	select {
	case err := <-got:
		t.Fatalf("took the turn of a live waiter of this host ahead (%v)", err)
	case <-time.After(time.Second):
	}
	cancel()
	require.ErrorIs(t, <-got, context.Canceled)
}
