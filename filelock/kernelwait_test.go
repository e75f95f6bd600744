package filelock

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/fsys"
)

// gateLocker is a kernelWaiter whose wait returns what the test sends on
// gate, so that a test orders the end of a kernel wait against its
// waiter's moves.
type gateLocker struct {
	gate     chan error
	unlocked atomic.Int32
}

func newGateLocker() *gateLocker { return &gateLocker{gate: make(chan error)} }

func (g *gateLocker) lock(uintptr, bool) error     { return errBusy }
func (g *gateLocker) lockWait(uintptr, bool) error { return <-g.gate }
func (g *gateLocker) unlock(uintptr) error         { g.unlocked.Add(1); return nil }
func (g *gateLocker) probe(uintptr) (bool, error)  { return false, nil }
func (g *gateLocker) readOnlyLocks(bool) bool      { return true }

// win ends the pending lockWait with success.
func (g *gateLocker) win() { g.gate <- nil }

// gateKey is the table key of the test's lock.
func gateKey(t *testing.T) slotKey { return slotKey{fs: fsys.OS{}, name: t.Name()} }

// ended reports whether kw's call returned.
func ended(kw *kernelWait) bool {
	kernelWaits.mu.Lock()
	defer kernelWaits.mu.Unlock()
	return kw.ended
}

// startGateWait starts a kernel wait of g on a new file.
func startGateWait(t *testing.T, g *gateLocker, shared bool) *kernelWait {
	t.Helper()
	f, err := fsys.OpenLockFile(filepath.Join(t.TempDir(), "x.lock"), 0o644)
	require.NoError(t, err)
	info, err := f.Stat()
	require.NoError(t, err)
	kw, ok := kernelWaits.start(gateKey(t), g, shared, f, info.ID)
	require.True(t, ok)
	return kw
}

// cancelled returns a context that is done.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestKernelWaitCancelThenWin: a wait whose waiter left, and that nobody
// adopted, releases the lock it wins and closes its file.
func TestKernelWaitCancelThenWin(t *testing.T) {
	g := newGateLocker()
	kw := startGateWait(t, g, false)
	_, err := kernelWaits.wait(cancelled(), kw)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 1, kernelWaits.pending())
	g.win()
	require.Eventually(t, func() bool { return kernelWaits.pending() == 0 }, 10*time.Second, time.Millisecond)
	require.Equal(t, int32(1), g.unlocked.Load(), "the won lock was released")
	require.Error(t, kw.f.Close(), "the file was closed")
}

// TestKernelWaitWinThenCancel: a wait that won before its waiter looked
// is the waiter's, even if its context is done by then.
func TestKernelWaitWinThenCancel(t *testing.T) {
	g := newGateLocker()
	kw := startGateWait(t, g, false)
	g.win()
	require.Eventually(t, func() bool { return ended(kw) }, 10*time.Second, time.Millisecond)
	f, err := kernelWaits.wait(cancelled(), kw)
	require.NoError(t, err)
	require.Same(t, kw.f, f)
	require.Zero(t, kernelWaits.pending())
	require.Zero(t, g.unlocked.Load())
	require.NoError(t, f.Close())
}

// TestKernelWaitAdoption: an abandoned wait is adopted only with the same
// mechanism, mode and file, by one acquisition at a time, and passes what
// it wins to its adopter.
func TestKernelWaitAdoption(t *testing.T) {
	g := newGateLocker()
	kw := startGateWait(t, g, false)
	key := gateKey(t)
	_, ok := kernelWaits.adopt(key, g, false, kw.id)
	require.False(t, ok, "waited for by its starter")
	_, err := kernelWaits.wait(cancelled(), kw)
	require.ErrorIs(t, err, context.Canceled)

	_, ok = kernelWaits.adopt(key, g, true, kw.id)
	require.False(t, ok, "another mode")
	_, ok = kernelWaits.adopt(key, newGateLocker(), false, kw.id)
	require.False(t, ok, "another mechanism")
	_, ok = kernelWaits.adopt(key, g, false, fsys.FileID{})
	require.False(t, ok, "no file at the path")
	other := kw.id
	other.Ino++
	_, ok = kernelWaits.adopt(key, g, false, other)
	require.False(t, ok, "another file")
	_, ok = kernelWaits.start(key, g, false, kw.f, kw.id)
	require.False(t, ok, "a second wait for the lock")

	adopted, ok := kernelWaits.adopt(key, g, false, kw.id)
	require.True(t, ok)
	require.Same(t, kw, adopted)
	_, ok = kernelWaits.adopt(key, g, false, kw.id)
	require.False(t, ok, "adopted twice")
	g.win()
	f, err := kernelWaits.wait(context.Background(), adopted)
	require.NoError(t, err)
	require.Zero(t, g.unlocked.Load())
	require.Zero(t, kernelWaits.pending())
	require.NoError(t, f.Close())
}
