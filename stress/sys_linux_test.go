//go:build linux

package stress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lockstress/lockstress/stress/proctest"
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

// TestReapedBetweenOpenAndReadIsGone: a worker reaped between the open of
// its /proc/PID/stat and the read reads as ESRCH, which is gone, not alive
// (an occupancy violation was reported for a killed worker that way).
func TestReapedBetweenOpenAndReadIsGone(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // reaped
	b, err := io.ReadAll(f)
	if !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("read of a reaped process's stat: %q, %v; want ESRCH", b, err)
	}
	if !statGone(b, err) {
		t.Error("a process reaped between the open and the read is not gone")
	}
}

func TestStatCPU(t *testing.T) {
	for _, tc := range []struct {
		line string
		want time.Duration // -1: an error
	}{
		{"42 (sh) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 5 1 1", 130 * time.Millisecond},
		{"42 (a) b) (c) R 1 42 42 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 1 0 5 1 1", 2 * time.Second},
		{"42 (sh) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2", -1},
		{"42 (sh) S 1 42 42 0 -1 4194560 100 0 0 0 7 x 2 1 20", -1},
		{"42 (sh) S 1 42 42 0 -1 4194560 100 0 0 0 7 -3 2 1 20", -1},
		{"42 sh S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2 1 20", -1},
	} {
		got, err := statCPU([]byte(tc.line))
		if tc.want < 0 {
			if err == nil {
				t.Errorf("statCPU(%q) = %v; want an error", tc.line, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("statCPU(%q) = %v, %v; want %v", tc.line, got, err, tc.want)
		}
	}
}

// A run on a full filesystem fails at once, saying so, and leaves nothing
// in the directory: its scratch directory's owner file, which it could not
// write, is removed with it.
func TestFullFilesystemLeavesNothing(t *testing.T) {
	dir := proctest.SmallTmpfs(t, 64<<10)
	fill, err := os.Create(filepath.Join(dir, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = fill.Write(make([]byte, 4096))
	}
	fill.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the filesystem: %v", err)
	}
	_, err = Run(context.Background(), Config{Dir: dir, Strategy: mustStrategy(t, "os"), Procs: 2, Duration: time.Second})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("a run on a full filesystem: %v, want ENOSPC", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "fill" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
