package main

import (
	"strings"
	"testing"
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
