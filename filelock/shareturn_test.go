package filelock

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
)

func init() {
	// reader: once released from the barrier, take the lock shared, hold
	// it FILELOCK_TEST_HOLD, release it and take it again at once, until
	// the file FILELOCK_TEST_STOP is there; after the first acquisition,
	// make a file named after this process in FILELOCK_TEST_HELD.
	childRoles["reader"] = func() error {
		l, err := New(envOf("FILELOCK_TEST_LOCK"), WithStrategy(childStrategy()), WithShared())
		if err != nil {
			return err
		}
		hold, err := time.ParseDuration(envOf("FILELOCK_TEST_HOLD"))
		if err != nil {
			return err
		}
		if err := awaitBarrier(); err != nil {
			return err
		}
		stop, held := envOf("FILELOCK_TEST_STOP"), filepath.Join(envOf("FILELOCK_TEST_HELD"), strconv.Itoa(os.Getpid()))
		for n := 0; !fileThere(stop); n++ {
			if err := lockWithin(l); err != nil {
				return err
			}
			if n == 0 {
				if err := os.WriteFile(held, nil, 0o644); err != nil {
					return err
				}
			}
			time.Sleep(hold)
			if err := l.Unlock(); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestSharedGivesWayToATurn: while a live waiter has asked for its turn,
// a default shared handle's TryLock fails, though the lock is free, also
// while another handle of this process holds it shared; a barging one
// takes the lock. A blocking acquisition looks again at each backoff step
// without taking the lock, and takes it once the turn is over.
func TestSharedGivesWayToATurn(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		ticket, marker := plantTurn(t, path, turnAlivePID)
		fake := clock.NewFake(time.Now())
		reader := newLock(t, path, turnOptions(s, WithShared(), withClock(fake), withFS(noCtimeFS{}))...)
		require.ErrorIs(t, reader.TryLock(), ErrWouldBlock, "a reader took the lock in a writer's turn")

		barging := newLock(t, path, turnOptions(s, WithShared(), WithBarging(), withFS(noCtimeFS{}))...) // the same key of the process-wide table
		require.NoError(t, barging.TryLock(), "a barging reader gave way")
		require.ErrorIs(t, reader.TryLock(), ErrWouldBlock, "a reader beside another of its process took the lock in a writer's turn")
		require.NoError(t, barging.Unlock())

		got := lockInBackground(t, reader)
		moved, err, returned := stepWaits(t, fake, got, marker, 3)
		require.False(t, returned, "a reader took the lock in a writer's turn (%v)", err)
		require.Less(t, moved, giveWayLimit)
		require.NoError(t, os.Remove(marker))
		_, err, returned = stepWaits(t, fake, got, "", -1)
		require.True(t, returned)
		require.NoError(t, err, "the turn is over")
		require.NoError(t, reader.Unlock())
		require.FileExists(t, ticket, "a reader removed a live waiter's ticket")
	})
}

// TestSharedGivesWayForALimitedTime: a reader gives way to a turn for
// giveWayLimit at most, and then takes the lock though the turn is still
// kept. A program that holds the lock shared and waits for another
// shared acquisition of it, which the writer's turn would keep out for as
// long as the writer waits for the first, thus waits that long, never for
// ever.
func TestSharedGivesWayForALimitedTime(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		_, marker := plantTurn(t, path, turnAlivePID)
		first := newLock(t, path, turnOptions(s, WithShared(), WithBarging(), withFS(noCtimeFS{}))...)
		require.NoError(t, first.TryLock()) // the reader the writer waits for
		fake := clock.NewFake(time.Now())
		second := newLock(t, path, turnOptions(s, WithShared(), withClock(fake), withFS(noCtimeFS{}))...)
		got := lockInBackground(t, second)
		moved, err, returned := stepWaits(t, fake, got, marker, 200)
		require.True(t, returned, "still giving way after %v", moved)
		require.NoError(t, err)
		require.Equal(t, giveWayLimit, moved, "gave way for other than its limit")
		require.NoError(t, second.Unlock())
		require.NoError(t, first.Unlock())
	})
}

// stepWaits moves the fake clock to the end of each wait of an
// acquisition running in the background on it, whose result comes on got,
// for at most steps waits (-1: no limit), keeping the turn marker (if not
// "") as its waiter would. It returns how far it moved the clock, and the
// acquisition's result if it returned.
func stepWaits(t *testing.T, fake *clock.Fake, got <-chan error, marker string, steps int) (moved time.Duration, err error, returned bool) {
	t.Helper()
	for n := 0; steps < 0 || n < steps; n++ {
		select {
		case err := <-got:
			return moved, err, true
		case <-fake.TimerAdded():
		case <-time.After(testLockWait):
			t.Fatalf("the acquisition neither waits nor returns after %v", moved)
		}
		d := fake.Deadlines()[0]
		if marker != "" {
			keepMarker(t, marker, moved+d)
		}
		fake.Advance(d)
		moved += d
	}
	return moved, nil, false
}

// keepMarker changes the turn marker's modification time (by which
// noCtimeFS dates it) to now on a fake clock that has moved ahead by
// ahead, as its waiter keeps it by touching it.
func keepMarker(t *testing.T, marker string, ahead time.Duration) {
	t.Helper()
	at := time.Now().Add(ahead)
	require.NoError(t, os.Chtimes(marker, at, at))
}

// TestSharedDoesNotGiveWayToAnAbandonedTurn: a turn marker its waiter no
// longer keeps (the waiter was stopped or died) holds up no reader.
func TestSharedDoesNotGiveWayToAnAbandonedTurn(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		_, marker := plantTurn(t, path, turnAlivePID)
		old := time.Now().Add(-turnMarkerLife - time.Second)
		require.NoError(t, os.Chtimes(marker, old, old))
		reader := newLock(t, path, turnOptions(s, WithShared(), withFS(noCtimeFS{}))...)
		require.NoError(t, reader.TryLock())
		require.NoError(t, reader.Unlock())
	})
}

// TestReadersGiveWayToAWriter: processes that hold the lock shared in
// turns that overlap, so that one of them nearly always holds it, do not
// keep a default exclusive waiter out: it asks for its turn, and the
// readers give way. (Six readers holding it 50 ms each, barging as they
// did before, kept the writer out for the whole 20 s, on a busy machine
// too.)
func TestReadersGiveWayToAWriter(t *testing.T) {
	const readers, hold = 6, 50 * time.Millisecond
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		path, stop, held := filepath.Join(dir, "x.lock"), filepath.Join(dir, "stop"), t.TempDir()
		cmds, _, stderrs := startRole(t, "reader", readers,
			"FILELOCK_TEST_LOCK="+path, "FILELOCK_TEST_STRATEGY="+s.String(), "FILELOCK_TEST_HOLD="+hold.String(),
			"FILELOCK_TEST_STOP="+stop, "FILELOCK_TEST_HELD="+held)
		awaitEntries(t, held, readers, "readers holding the lock")

		w := newLock(t, path, WithStrategy(s))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		began := time.Now()
		err := w.LockContext(ctx)
		require.NoError(t, os.WriteFile(stop, nil, 0o644))
		require.NoError(t, err, "the writer was kept out by readers")
		t.Logf("the writer waited %v", time.Since(began))
		require.NoError(t, w.Unlock())
		for i, cmd := range cmds {
			require.NoError(t, cmd.Wait(), "reader %d: %s", i, stderrs[i])
		}
		require.NoDirExists(t, path+queueSuffix)
	})
}
