package filelock

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
)

// How a holder finds its Soft or Link lock lost, and what it may do then:
// a beat of a stopped heartbeat run, a beat in a break's move-aside window,
// a path replaced by what is not a file, a reentrant acquisition.

// gatedClock is a fake clock whose first AfterFunc callback, once its
// timer fires, waits at gate before it runs.
type gatedClock struct {
	*clock.Fake
	first       atomic.Bool
	fired, gate chan struct{}
}

func (g *gatedClock) AfterFunc(d time.Duration, fn func()) clock.Timer {
	if g.first.CompareAndSwap(false, true) {
		return g.Fake.AfterFunc(d, func() {
			close(g.fired)
			<-g.gate
			fn()
		})
	}
	return g.Fake.AfterFunc(d, fn)
}

// A heartbeat timer that fired while a release stopped the heartbeat, and
// ran only after the release failed and started the heartbeat again, does
// nothing: two runs of the heartbeat at once each closed Lost when the
// lock was then lost, and the second close panicked, ending the process.
func TestHeartbeatTimerOfAnEarlierRunDoesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	gc := &gatedClock{Fake: clock.NewFake(time.Now()), fired: make(chan struct{}), gate: make(chan struct{})}
	var failRemove atomic.Bool
	var touches atomic.Int32
	ffs := &faultFS{
		remove: func(name string) error {
			if name == path && failRemove.Load() {
				return &os.PathError{Op: "remove", Path: name, Err: syscall.EIO}
			}
			return nil
		},
		touch: func(name string) error {
			if name == path {
				touches.Add(1)
			}
			return nil
		},
	}
	l := newLock(t, path, WithStaleAfter(3*time.Second), WithHeartbeat(time.Second), withFS(ffs), withClock(gc))
	require.NoError(t, lockWithin(l))
	gc.Advance(time.Second)
	<-gc.fired // the first beat's timer fired; its callback waits
	failRemove.Store(true)
	require.Error(t, l.Unlock(), "the lock file could not be removed")
	require.Equal(t, 1, l.Depth(), "the handle keeps the lock")
	failRemove.Store(false)
	beats, pending := touches.Load(), gc.Pending()
	close(gc.gate)
	gc.Settle()
	require.Equal(t, beats, touches.Load(), "the earlier run's timer refreshed the lock file")
	require.Equal(t, pending, gc.Pending(), "the earlier run's timer scheduled a beat of its own")
	require.NoError(t, l.Unlock())
	require.NoFileExists(t, path)
}

// stepClock is the real clock but for its AfterFunc timers, which fire
// only when the test calls fire (the latest one).
type stepClock struct {
	clock.Real
	mu  sync.Mutex
	fns []func()
}

type stepTimer struct{}

func (stepTimer) C() <-chan time.Time { return nil }
func (stepTimer) Stop() bool          { return true }

func (s *stepClock) AfterFunc(_ time.Duration, fn func()) clock.Timer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fns = append(s.fns, fn)
	return stepTimer{}
}

func (s *stepClock) fire() {
	s.mu.Lock()
	fn := s.fns[len(s.fns)-1]
	s.mu.Unlock()
	fn()
}

// A beat that falls while a break has the holder's lock file moved aside
// (a break that judged it before the holder's last refresh, and puts it
// back on seeing the refresh) does not take the lock for lost: Lost stays
// open, and Unlock removes the file. Before, Lost fired, and Unlock, taking
// the lock for lost, left the file put back, with its live holder's
// record, to hold the lock for nobody until it grew stale.
func TestBeatDuringABreaksMoveAsideKeepsTheLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	sc := &stepClock{}
	h := newLock(t, path, WithStaleAfter(time.Second), WithHeartbeat(100*time.Millisecond), withClock(sc))
	require.NoError(t, lockWithin(h))
	lost := h.Lost()
	var step atomic.Int32
	inWindow := make(chan struct{})
	ffs := &faultFS{
		rename: func(oldname, _ string) error {
			if oldname == path && step.CompareAndSwap(0, 1) {
				sc.fire() // the holder refreshes its file just after it was judged
			}
			return nil
		},
		read: func(name string) error {
			if name != path && strings.Contains(name, ".aside.") && step.CompareAndSwap(1, 2) {
				sc.fire() // and beats again while the file is aside
				close(inWindow)
			}
			return nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := newLock(t, path, WithStaleAfter(time.Second), withFS(ffs))
	broke := make(chan error, 1)
	go func() { broke <- b.LockContext(ctx) }()
	select {
	case <-inWindow:
	case <-time.After(testLockWait):
		t.Fatal("no break of the unrefreshed lock was tried")
	}
	cancel()
	require.ErrorIs(t, <-broke, context.Canceled, "the lock was put back, refreshed")
	select {
	case <-lost:
		t.Fatal("Lost fired for a lock its holder kept")
	default:
	}
	require.NoError(t, h.Unlock())
	require.NoFileExists(t, path)
	other := newLock(t, path, withFS(otherFS{}))
	require.NoError(t, other.TryLock())
	require.NoError(t, other.Unlock())
}

// A holding found lost whose lock file is its holder's all the same (put
// back by a break) is released by Unlock, which says it was lost, and does
// not leave the file to hold the lock for nobody.
func TestUnlockOfALostHoldingRemovesItsFileIfPutBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	l := newLock(t, path, WithHeartbeat(time.Hour), WithStaleAfter(3*time.Hour))
	require.NoError(t, lockWithin(l))
	l.held.(*fileHeld).markLost()
	require.ErrorIs(t, l.Unlock(), ErrLockLost)
	require.Zero(t, l.Depth())
	require.NoFileExists(t, path)
}

// A handle whose holding was found lost counts no more acquisitions: Lock
// and TryLock fail with ErrLockLost (they counted one more while another
// owner held the lock), and every Unlock says the holding was lost.
func TestReentrantAcquisitionOfALostLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	fk := clock.NewFake(time.Now())
	h := newLock(t, path, WithStaleAfter(3*time.Second), WithHeartbeat(time.Second), withClock(fk))
	require.NoError(t, lockWithin(h))
	require.NoError(t, lockWithin(h))
	require.NoError(t, os.Remove(path)) // broken, as stale
	other := newLock(t, path, withFS(otherFS{}))
	require.NoError(t, other.TryLock())
	defer other.Unlock()
	fk.Advance(time.Second)
	fk.Settle()
	select {
	case <-h.Lost():
	default:
		t.Fatal("Lost still open after a beat found another's lock file")
	}
	require.ErrorIs(t, h.TryLock(), ErrLockLost)
	require.ErrorIs(t, lockWithin(h), ErrLockLost)
	require.Equal(t, 2, h.Depth())
	require.ErrorIs(t, h.Unlock(), ErrLockLost, "an inner Unlock of a lost holding")
	require.ErrorIs(t, h.Unlock(), ErrLockLost)
	require.Zero(t, h.Depth())
	require.FileExists(t, path, "the other owner's lock file stays")
}

// moveAside moves the lock file at path aside under the name a break
// gives it, as a break stopped in the middle leaves it, and returns that
// name.
func moveAside(t *testing.T, path string) string {
	t.Helper()
	aside := tempName(path, kindAside, strconv.FormatInt(time.Now().Unix(), 10))
	require.NoError(t, os.Rename(path, aside))
	return aside
}

// A holder's file found moved aside at two beats running is lost: no
// break takes a heartbeat's interval unless stopped in the middle, and
// another user's link under such a name (where hard links to others'
// files are allowed) must not keep a lost lock from being found lost.
func TestFileAsideAtTwoBeatsIsLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	fk := clock.NewFake(time.Now())
	l := newLock(t, path, WithStaleAfter(3*time.Second), WithHeartbeat(time.Second), withClock(fk))
	require.NoError(t, lockWithin(l))
	lost := l.Lost()
	moveAside(t, path)
	fk.Advance(time.Second)
	fk.Settle()
	require.False(t, isClosed(lost), "lost at the first beat that found the file aside: a break may put it back")
	fk.Advance(time.Second)
	fk.Settle()
	require.True(t, isClosed(lost), "not lost at the second beat that found the file aside")
	require.ErrorIs(t, l.Unlock(), ErrLockLost)
	require.Zero(t, l.Depth())
}

// Unlock of a holder whose file stays aside once it has the guard (no
// break is under way) releases the handle as lost, rather than failing
// for ever with a hold it cannot give up.
func TestUnlockWithTheFileStillAsideIsLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	l := newLock(t, path, WithStaleAfter(3*time.Hour), WithHeartbeat(time.Hour))
	require.NoError(t, lockWithin(l))
	aside := moveAside(t, path)
	require.ErrorIs(t, l.Unlock(), ErrLockLost)
	require.Zero(t, l.Depth())
	require.FileExists(t, aside, "the file aside is left to the sweep")
}

// Unlock of a young holder whose file a break has aside, the guard held by
// a breaker of another host that does not end within the release's wait,
// and the file then lost (another file made at the path) reports the loss:
// ErrLockLost and Lost closed, not the undecided state it met on the way.
func TestUnlockWhileABreakHoldsTheGuardReportsTheLoss(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	aside := path + ".aside." + strconv.FormatInt(time.Now().Unix(), 10) + ".0123456789abcdef"
	var reads atomic.Int32
	ffs := &faultFS{read: func(name string) error {
		if name == aside && reads.Add(1) == 2 { // the break ends: another file took the path
			if err := os.WriteFile(path, forgedRecord(t, otherHost()), 0o644); err != nil {
				return err
			}
			return os.Remove(aside)
		}
		return nil
	}}
	h := newLock(t, path, WithStaleAfter(10*time.Second), withFS(ffs))
	require.NoError(t, lockWithin(h))
	lost := h.Lost()
	require.NoError(t, os.WriteFile(path+guardSuffix, forgedRecord(t, otherHost()), 0o644))
	require.NoError(t, os.Rename(path, aside)) // a break under way
	require.ErrorIs(t, h.Unlock(), ErrLockLost)
	require.Zero(t, h.Depth())
	require.True(t, isClosed(lost), "Lost still open after Unlock reported the loss")
}
