//go:build linux

// Package proctest helps tests that use package stress: it finds and
// signals the child processes of a process, to make a worker crash or hang
// (Linux only).
package proctest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

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
// for settle, and sends it sig. It reports whether it did; otherwise the
// test has failed.
func SignalChild(t testing.TB, ppid int, sig syscall.Signal, settle, timeout time.Duration) bool {
	t.Helper()
	for give := time.Now().Add(timeout); time.Now().Before(give); time.Sleep(20 * time.Millisecond) {
		children := Children(ppid)
		if len(children) == 0 {
			continue
		}
		time.Sleep(settle)
		if err := syscall.Kill(children[0], sig); err != nil {
			t.Errorf("kill %d: %v", children[0], err)
			return false
		}
		return true
	}
	t.Errorf("no child of process %d appeared within %v", ppid, timeout)
	return false
}
