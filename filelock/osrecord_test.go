package filelock

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
)

// inspectRecorded returns l's Inspect once a held lock's record is there,
// or after ten seconds without it: an OS or OFD holder writes its record
// once it has held the lock for recordDelay.
func inspectRecorded(l interface{ Inspect() (Status, error) }) (Status, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := l.Inspect()
		if err != nil || !st.Held || st.Holder != nil || st.RecordErr != nil || time.Now().After(deadline) {
			return st, err
		}
		time.Sleep(time.Millisecond)
	}
}

// awaitRecord waits until the lock at path, held with strategy s, shows its
// holder's record, and returns the file's content.
func awaitRecord(t testing.TB, s Strategy, path string) []byte {
	t.Helper()
	st, err := inspectRecorded(inspector{path, s})
	require.NoError(t, err)
	require.NotNil(t, st.Holder, "the holder's record, %v after the lock was taken", 10*time.Second)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// inspector inspects the lock at a path.
type inspector struct {
	path string
	s    Strategy
}

func (i inspector) Inspect() (Status, error) { return Inspect(i.path, WithStrategy(i.s)) }

// An OS or OFD holder writes its record once it has held the lock for
// recordDelay, with the time it took the lock; a hold released before
// writes none, and leaves the file empty.
func TestKernelLockRecordWrittenOnceHeldLong(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		for _, long := range []bool{false, true} {
			t.Run(map[bool]string{false: "short", true: "long"}[long], func(t *testing.T) {
				fake := clock.NewFake(time.Now())
				path := filepath.Join(t.TempDir(), "x.lock")
				l := newLock(t, path, WithStrategy(s), withClock(fake))
				require.NoError(t, l.TryLock())
				acquired := fake.Now()
				fake.Advance(recordDelay - time.Nanosecond)
				fake.Settle()
				requireContent(t, path, "", "before recordDelay")
				if long {
					fake.Advance(time.Nanosecond)
					fake.Settle()
					st, err := l.Inspect()
					require.NoError(t, err)
					require.NotNil(t, st.Holder, "the record after recordDelay")
					require.Equal(t, os.Getpid(), st.Holder.PID)
					require.True(t, st.Holder.Acquired.Equal(acquired.UTC()), "acquired %v, want the time the lock was taken, %v", st.Holder.Acquired, acquired)
				}
				require.NoError(t, l.Unlock())
				require.Zero(t, fake.Pending(), "delayed writes left after the release")
				fake.Advance(time.Hour)
				fake.Settle()
				requireContent(t, path, "", "after the release")
			})
		}
	})
}

// A kernel lock taken on a file that holds the record of a holder that died
// holding it gets this holder's record at once: the dead process is never
// reported as the holder.
func TestKernelLockReplacesADeadRecordAtOnce(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		_, path := deadHoldersLock(t)
		l := newLock(t, path, WithStrategy(s), withClock(clock.NewFake(time.Now())))
		require.NoError(t, l.TryLock())
		st, err := l.Inspect()
		require.NoError(t, err)
		require.NotNil(t, st.Holder)
		require.Equal(t, os.Getpid(), st.Holder.PID, "the holder, before recordDelay")
		require.NoError(t, l.Unlock())
		requireContent(t, path, "", "after the release")
	})
}

// The record's delayed write and the release may come at once: whichever
// comes first, the file is empty after the release (run with -race).
func TestKernelLockRecordRacesTheRelease(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		fake := clock.NewFake(time.Now())
		l := newLock(t, path, WithStrategy(s), withClock(fake))
		for range 2000 {
			require.NoError(t, l.TryLock())
			done := make(chan struct{})
			go func() {
				defer close(done)
				fake.Advance(recordDelay)
			}()
			require.NoError(t, l.Unlock())
			<-done
			fake.Settle()
			requireContent(t, path, "", "after the release")
		}
	})
}

// requireContent fails unless the file at path holds want.
func requireContent(t testing.TB, path, want, when string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, string(data), "the lock file's content %s", when)
}

// A delayed write that fired as the release began writes nothing, even if
// it goes on while the release has yet to unlock: no record is left in
// the file of a lock released (a forced interleaving).
func TestKernelLockRecordFiredAsTheReleaseBegan(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		fake := clock.NewFake(time.Now())
		path := filepath.Join(t.TempDir(), "x.lock")
		l := newLock(t, path, WithStrategy(s), withClock(fake))
		require.NoError(t, l.TryLock())
		fired, proceed := make(chan struct{}), make(chan struct{})
		setHook(t, &delayedRecordHook, func() {
			close(fired)
			<-proceed
		})
		fake.Advance(recordDelay)
		<-fired
		setHook(t, &releaseUnlockHook, func() {
			close(proceed)
			fake.Settle() // the delayed write, done before the unlock
		})
		require.NoError(t, l.Unlock())
		requireContent(t, path, "", "after the release")
	})
}

// setHook sets *hook to f for the test.
func setHook(t *testing.T, hook *func(), f func()) {
	*hook = f
	t.Cleanup(func() { *hook = nil })
}

// What is written into a held OS or OFD lock file before its record's
// delayed write (by the holder itself, which may lock its own data file,
// or by another program, as flock(1) scripts write a PID) is never
// written over, during the hold or after it.
func TestKernelLockRecordLeavesWhatWasWrittenMeanwhile(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		fake := clock.NewFake(time.Now())
		path := filepath.Join(t.TempDir(), "x.lock")
		l := newLock(t, path, WithStrategy(s), withClock(fake))
		require.NoError(t, l.TryLock())
		const data = "4242\n"
		require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
		fake.Advance(recordDelay)
		fake.Settle()
		requireContent(t, path, data, "during the hold")
		require.NoError(t, l.Unlock())
		requireContent(t, path, data, "after the release")
	})
}

// A handle that holds an OS or OFD lock sees itself as the holder in its
// own Inspect at once: the record still to come is written then.
func TestKernelLockHolderInspectsItselfAtOnce(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		fake := clock.NewFake(time.Now())
		path := filepath.Join(t.TempDir(), "x.lock")
		l := newLock(t, path, WithStrategy(s), withClock(fake))
		require.NoError(t, l.TryLock())
		st, err := l.Inspect()
		require.NoError(t, err)
		require.NotNil(t, st.Holder, "the holder's own Inspect, before recordDelay")
		require.Equal(t, os.Getpid(), st.Holder.PID)
		require.Zero(t, fake.Pending(), "the delayed write, stopped")
		require.NoError(t, l.Unlock())
		requireContent(t, path, "", "after the release")
	})
}
