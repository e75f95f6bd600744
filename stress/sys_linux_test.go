//go:build linux

package stress

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// monotime is CLOCK_MONOTONIC, whichever way it reads it.
func TestMonotimeIsClockMonotonic(t *testing.T) {
	for range 100 {
		a := clockGettime()
		m := monotime()
		b := clockGettime()
		if m < a || m > b {
			t.Fatalf("monotime %d is not between clock_gettime readings %d and %d", m, a, b)
		}
	}
	if !vdsoClock {
		t.Log("the runtime's clock is not CLOCK_MONOTONIC here: monotime uses the system call")
	}
}

func TestProcessGone(t *testing.T) {
	if processGone(1) {
		t.Error("pid 1 is gone")
	}
	if !processGone(1 << 30) {
		t.Error("a pid that cannot exist is not gone")
	}
}

func TestLostLink(t *testing.T) {
	dir := t.TempDir()
	there := filepath.Join(dir, "there")
	if err := os.WriteFile(there, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		err  error
		path string
		want bool
	}{
		{&os.LinkError{Op: "link", Err: syscall.EEXIST}, there, true},
		{&os.LinkError{Op: "link", Err: syscall.EPERM}, there, true},    // sshfs's loser
		{&os.LinkError{Op: "link", Err: syscall.EPERM}, missing, false}, // a real permission error
		{&os.LinkError{Op: "link", Err: syscall.ENOENT}, there, false},
		{nil, there, false},
	} {
		if got := lostLink(tc.err, tc.path); got != tc.want {
			t.Errorf("lostLink(%v, %s) = %v, want %v", tc.err, filepath.Base(tc.path), got, tc.want)
		}
	}
}
