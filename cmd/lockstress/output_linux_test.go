package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// TestReportOpenGivesUpWhenInterrupted: the open of a named pipe that no
// reader has opened waits, and is given up when the context is done, with
// an error that says so; the goroutine that waited in it ends (goleak, in
// TestMain), no descriptor is left open, and the pipe is left in place.
func TestReportOpenGivesUpWhenInterrupted(t *testing.T) {
	for _, waiting := range []bool{false, true} {
		t.Run(fmt.Sprintf("waiting=%v", waiting), func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "report")
			must(t, syscall.Mkfifo(fifo, 0o600))
			before := openDescriptors(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if !waiting {
				cancel()
			}
			opened := make(chan error, 1)
			go func() {
				r, err := openReport(ctx, fifo, nil)
				if err == nil {
					r.discard()
				}
				opened <- err
			}()
			if waiting {
				waitForPipeOpen(t, os.Getpid())
				cancel()
			}
			select {
			case err := <-opened:
				var pe *fs.PathError
				if !errors.Is(err, errInterrupted) || !errors.As(err, &pe) || pe.Path != fifo {
					t.Errorf("openReport: %v, want a *fs.PathError for %s matching errInterrupted", err, fifo)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("openReport had not returned 30s after its context was cancelled")
			}
			if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
				t.Errorf("the named pipe is not left in place: %v, %v", fi, err)
			}
			if after := openDescriptors(t); !slices.Equal(before, after) {
				t.Errorf("descriptors open before %v, after %v", before, after)
			}
		})
	}
}

// TestInterruptedWhileAReportWaitsForAReader: lockstress whose -json (or
// html's -o) names a named pipe that nobody reads waits for a reader before
// it runs, and a SIGINT then ends it at once, as interrupted, saying why;
// nothing was run and the pipe is left.
func TestInterruptedWhileAReportWaitsForAReader(t *testing.T) {
	report := filepath.Join(t.TempDir(), "saved.json")
	must(t, os.WriteFile(report, []byte(`{"runs": []}`), 0o600))
	for _, tc := range []struct {
		name string
		args func(dir, fifo string) []string
		flag string
	}{
		{"run -json", func(dir, fifo string) []string { return []string{"-strategy", "os", "-dir", dir, "-json", fifo} }, "lockstress: -json"},
		{"run -html", func(dir, fifo string) []string { return []string{"-strategy", "os", "-dir", dir, "-html", fifo} }, "lockstress: -html"},
		{"html -o", func(_, fifo string) []string { return []string{"html", "-o", fifo, report} }, "lockstress html: -o"},
		{"verify -json", func(dir, fifo string) []string { return []string{"verify", "-json", fifo, dir} }, "lockstress verify: -json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // processes of their own, each in its directory
			dir := t.TempDir()
			fifo := filepath.Join(t.TempDir(), "report")
			must(t, syscall.Mkfifo(fifo, 0o600))
			cmd, _, stderr := lockstressProcess(t, tc.args(dir, fifo)...)
			waitForPipeOpen(t, cmd.Process.Pid)
			must(t, cmd.Process.Signal(syscall.SIGINT))
			if code := processExit(t, cmd); code != exitInterrupted {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
			}
			if want := tc.flag + ": open " + fifo + ": interrupted while waiting for a reader"; !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("something ran: %s holds %v", dir, left)
			}
			if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
				t.Errorf("the named pipe is not left in place: %v, %v", fi, err)
			}
		})
	}
}

// TestSecondSignalEndsLockstress: after the first SIGINT, which ends the
// run and has its report written, a second one ends lockstress at once,
// here while the report waits for a reader that reads nothing.
func TestSecondSignalEndsLockstress(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "report")
	must(t, syscall.Mkfifo(fifo, 0o600))
	reader, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	must(t, err)
	defer reader.Close()
	size, err := unix.FcntlInt(reader.Fd(), unix.F_SETPIPE_SZ, 4096)
	must(t, err)
	dir := t.TempDir()
	cmd, _, stderr := lockstressProcess(t, "-strategy", "os", "-procs", "2", "-dur", "60s", "-dir", dir, "-json", fifo)
	waitForAcquisitions(t, dir, 20)
	must(t, cmd.Process.Signal(syscall.SIGINT))
	for give := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n, err := unix.IoctlGetInt(int(reader.Fd()), unix.TIOCINQ); err == nil && n >= size { // TIOCINQ: FIONREAD
			break // the pipe is full: lockstress waits to write the rest
		}
		if time.Now().After(give) {
			t.Fatalf("the report had not filled the pipe's %d bytes 30s after SIGINT; stderr:\n%s", size, stderr)
		}
	}
	must(t, cmd.Process.Signal(syscall.SIGINT))
	if code := processExit(t, cmd); code != -1 || cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Errorf("lockstress ended with %v, want killed by the second SIGINT; stderr:\n%s", cmd.ProcessState, stderr)
	}
}

// waitForPipeOpen waits until a thread of process pid waits in the open of
// a named pipe for the other end.
func waitForPipeOpen(t *testing.T, pid int) {
	t.Helper()
	for give := time.Now().Add(30 * time.Second); time.Now().Before(give); time.Sleep(5 * time.Millisecond) {
		chans, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
		for _, c := range chans {
			if b, err := os.ReadFile(c); err == nil && string(b) == "wait_for_partner" {
				return
			}
		}
	}
	t.Fatalf("no thread of process %d waited in a named pipe's open within 30s", pid)
}

// openDescriptors lists the descriptors this process has open.
func openDescriptors(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	must(t, err)
	var fds []string
	for _, e := range entries {
		fds = append(fds, e.Name())
	}
	return fds
}
