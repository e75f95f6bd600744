//go:build linux

// Package proctest helps tests that use package stress: it finds and
// signals the child processes of a process, to make a worker crash or hang,
// and mounts small filesystems to fill (Linux only).
package proctest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// SmallTmpfs mounts a tmpfs of size bytes on a new temporary directory for
// the test, unmounted when it ends, and returns the directory. It skips the
// test where mounting is not allowed (not root, or refused).
func SmallTmpfs(t testing.TB, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root (CI runs the suite as root)")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		t.Skipf("mounting a tmpfs is refused here: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	return dir
}

// Children returns the PIDs of the processes whose parent is ppid.
func Children(ppid int) []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue // gone meanwhile
		}
		// The fields after the command (which may hold anything) start
		// after the last ')': state, ppid, ...
		f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
		if len(f) < 2 || string(f[1]) != strconv.Itoa(ppid) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(s)))
		if err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// SignalChild waits up to timeout for a child of ppid to appear, lets it run
// for settle, and sends sig to a child of ppid then alive: one that is gone
// by then (a short-lived helper, say) is passed over for another. It
// reports whether it did; otherwise the test has failed.
func SignalChild(t testing.TB, ppid int, sig syscall.Signal, settle, timeout time.Duration) bool {
	t.Helper()
	settled := false
	for give := time.Now().Add(timeout); time.Now().Before(give); time.Sleep(20 * time.Millisecond) {
		if len(Children(ppid)) == 0 {
			continue
		}
		if !settled {
			time.Sleep(settle)
			settled = true
		}
		for _, pid := range Children(ppid) {
			err := syscall.Kill(pid, sig)
			if err == nil {
				return true
			}
			if err != syscall.ESRCH {
				t.Errorf("kill %d: %v", pid, err)
				return false
			}
		}
	}
	t.Errorf("no child of process %d appeared within %v", ppid, timeout)
	return false
}
