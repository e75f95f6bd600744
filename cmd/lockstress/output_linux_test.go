package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lockstress/lockstress/stress/proctest"
)

// TestReportWriteFailureKeepsTheVerdict: a report that cannot be written
// at the end (/dev/full: no space) makes a run that passed exit as a
// usage error, having said why, and leaves any other verdict's status as
// it is: a violation still exits 1.
func TestReportWriteFailureKeepsTheVerdict(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"passed", []string{"-strategy", "os", "-procs", "2", "-dur", "200ms", "-min-checked", "0"}, exitUsage},
		{"violations", []string{"-strategy", "none", "-procs", "3", "-dur", "300ms", "-hold", "1ms"}, exitViolation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // processes of their own, each in its directory
			cmd, _, stderr := lockstressProcess(t, append(tc.args, "-json", "/dev/full", "-dir", t.TempDir())...)
			if code := processExit(t, cmd); code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if want := "lockstress: -json: write /dev/full: no space left on device"; !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		})
	}
}

// A report file lockstress made and could not write whole (a full disk)
// is removed: an empty or cut report is no report.
func TestReportNotWrittenWholeIsRemoved(t *testing.T) {
	path := filepath.Join(proctest.SmallTmpfs(t, 64<<10), "report.json")
	r, err := openReport(context.Background(), path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.write(make([]byte, 1<<20)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writing a report larger than the filesystem: %v, want ENOSPC", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the report not written whole is still there (%v)", err)
	}
}
