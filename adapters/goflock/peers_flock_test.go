//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testWait bounds every wait of these tests that should end at once.
const testWait = 10 * time.Second

// Each peer excludes another handle of its own kind, tells a wait that runs
// out from an error, and lets the other in once released. (flock(2) locks
// belong to open file descriptions, so two handles in one process exclude
// each other as two processes do.)
func TestPeersExclude(t *testing.T) {
	for _, kind := range []string{"kernel", "gofrs"} {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			a, b := newPeerLock(t, kind, path), newPeerLock(t, kind, path)
			mustLock(t, a, 0, true)
			mustLock(t, b, 0, false)
			mustLock(t, b, 30*time.Millisecond, false)
			mustUnlock(t, a)
			mustLock(t, b, testWait, true)
			mustUnlock(t, b)
		})
	}
}

// A pending call that the kernel grants while no request waits releases the
// lock at once, and cannot release a lock taken after it.
func TestKernelLateGrantReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	holder := lockedDescriptor(t, path)
	k := newPeerLock(t, "kernel", path).(*kernelFlock)
	ended := make(chan struct{})
	k.hooks.lateGrantDone = func() { close(ended) }
	mustLock(t, k, 50*time.Millisecond, false) // the call stays in the kernel
	closeDescriptor(t, holder)                 // and is granted
	select {
	case <-ended:
	case <-time.After(testWait):
		t.Fatalf("the pending call was not granted within %v of the release", testWait)
	}
	requireFree(t, path)
	mustLock(t, k, 0, true)
	requireHeld(t, path) // by k: the late grant's close did not release it
	mustUnlock(t, k)
}

// Requests whose waits run out one after another leave one call waiting in
// the kernel, not one each; the next request takes it up and gets the lock
// when it is released.
func TestKernelPendingTakenUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	holder := lockedDescriptor(t, path)
	k := newPeerLock(t, "kernel", path)
	mustLock(t, k, time.Millisecond, false)
	before := openDescriptors(t)
	for range 20 {
		mustLock(t, k, time.Millisecond, false)
		mustLock(t, k, 0, false)
	}
	if after := openDescriptors(t); after != before {
		t.Errorf("%d descriptors open after 40 more requests ran out, %d before", after, before)
	}
	closeDescriptor(t, holder)
	mustLock(t, k, testWait, true)
	requireHeld(t, path)
	mustUnlock(t, k)
	requireFree(t, path)
}

// A call granted just as its wait runs out is taken, not abandoned with
// the lock it holds.
func TestKernelGrantedAsWaitRunsOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	holder := lockedDescriptor(t, path)
	k := newPeerLock(t, "kernel", path).(*kernelFlock)
	k.hooks.waitRanOut = func(granted chan error) {
		closeDescriptor(t, holder)
		for deadline := time.Now().Add(testWait); len(granted) == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("the call was not granted within %v of the release", testWait)
				return
			}
		}
	}
	mustLock(t, k, 20*time.Millisecond, true)
	requireHeld(t, path)
	mustUnlock(t, k)
}

func newPeerLock(t *testing.T, kind, path string) peerLock {
	t.Helper()
	l, _, err := newPeer(kind, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	return l
}

func mustLock(t *testing.T, l peerLock, wait time.Duration, want bool) {
	t.Helper()
	if got, err := l.lock(wait); err != nil || got != want {
		t.Fatalf("lock(%v) = %v, %v; want %v, nil", wait, got, err, want)
	}
}

func mustUnlock(t *testing.T, l peerLock) {
	t.Helper()
	if err := l.unlock(); err != nil {
		t.Fatal(err)
	}
}

// lockedDescriptor opens path and locks it, as another program would.
func lockedDescriptor(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	return fd
}

func closeDescriptor(t *testing.T, fd int) {
	t.Helper()
	if err := unix.Close(fd); err != nil {
		t.Error(err)
	}
}

// requireFree fails unless another descriptor can lock path at once.
func requireFree(t *testing.T, path string) {
	t.Helper()
	closeDescriptor(t, lockedDescriptor(t, path))
}

// requireHeld fails unless another descriptor finds path locked.
func requireHeld(t *testing.T, path string) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDescriptor(t, fd)
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Fatalf("another descriptor's try: %v, want EWOULDBLOCK (the lock held)", err)
	}
}

// openDescriptors counts this process's open descriptors.
func openDescriptors(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/dev/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}
