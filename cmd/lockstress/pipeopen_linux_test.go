package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReportOpenGivesUpWhenInterrupted: the open of a named pipe that no
// reader has opened waits, says so, and is given up when the context is
// done, with an error that says so; no descriptor is left open, the pipe
// is left in place, and another program's writer waiting on the same pipe
// is left waiting: what it writes reaches the reader that comes later.
func TestReportOpenGivesUpWhenInterrupted(t *testing.T) {
	for _, waiting := range []bool{false, true} {
		t.Run(fmt.Sprintf("waiting=%v", waiting), func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "report")
			must(t, syscall.Mkfifo(fifo, 0o600))
			other := exec.Command("sh", "-c", `echo "another program's data" > "$0"`, fifo)
			must(t, other.Start())
			t.Cleanup(func() { other.Process.Kill(); other.Wait() })
			waitForPipeOpen(t, other.Process.Pid)
			startPoller(t)
			before := openDescriptors(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if !waiting {
				cancel()
			}
			note := new(syncBuffer)
			opened := make(chan error, 1)
			go func() {
				r, err := openReport(ctx, fifo, nil, note)
				if err == nil {
					r.discard()
				}
				opened <- err
			}()
			want := "lockstress: waiting for a reader of the named pipe " + fifo + " (^C stops)\n"
			if waiting {
				note.waitFor(t, want)
				cancel()
			}
			select {
			case err := <-opened:
				var pe *fs.PathError
				if !errors.Is(err, errNoReader) || !errors.As(err, &pe) || pe.Path != fifo {
					t.Errorf("openReport: %v, want a *fs.PathError for %s matching errNoReader", err, fifo)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("openReport had not returned 30s after its context was cancelled")
			}
			if waiting && note.String() != want {
				t.Errorf("said %q, want %q", note, want)
			}
			if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
				t.Errorf("the named pipe is not left in place: %v, %v", fi, err)
			}
			if after := openDescriptors(t); !slices.Equal(before, after) {
				t.Errorf("descriptors open before %v, after %v", before, after)
			}
			if !inPipeOpen(t, other.Process.Pid) {
				t.Fatal("the other program's writer no longer waits for a reader: it was released, its data lost")
			}
			if got := readPipe(t, fifo); got != "another program's data\n" {
				t.Errorf("the reader read %q from the other program's writer", got)
			}
		})
	}
}

// TestReportToASocketFailsAtOnce: a path that refuses an open as a pipe
// without a reader does (ENXIO), but is no pipe (a socket), fails at once.
func TestReportToASocketFailsAtOnce(t *testing.T) {
	// A relative name: a socket's path has room for 107 bytes, less than
	// a long TMPDIR leaves.
	t.Chdir(t.TempDir())
	path := "socket"
	l, err := net.Listen("unix", path)
	must(t, err)
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	note := new(syncBuffer)
	_, err = openReport(ctx, path, nil, note)
	if !errors.Is(err, syscall.ENXIO) || errors.Is(err, errNoReader) || note.String() != "" {
		t.Errorf("openReport of a socket: %v (said %q), want ENXIO at once", err, note)
	}
}

// TestInterruptedWhileAReportWaitsForAReader: lockstress whose -json (or
// -html, html's -o, verify's -json) names a named pipe that nobody reads
// says it waits for a reader before it runs, and a SIGINT then ends it at
// once, as interrupted, saying why; nothing was run and the pipe is left.
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
			stderr := new(syncBuffer)
			cmd := lockstressCommand(t, nil, tc.args(dir, fifo)...)
			cmd.Stderr = stderr
			must(t, cmd.Start())
			stderr.waitFor(t, "lockstress: waiting for a reader of the named pipe "+fifo)
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
// with status 130, here while the report waits for a reader that reads
// nothing; also when lockstress was started with SIGINT ignored, as a
// script's background job is.
func TestSecondSignalEndsLockstress(t *testing.T) {
	for _, ignored := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignored=%v", ignored), func(t *testing.T) {
			t.Parallel() // processes of their own, each in its directory
			fifo := filepath.Join(t.TempDir(), "report")
			must(t, syscall.Mkfifo(fifo, 0o600))
			reader, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			must(t, err)
			defer reader.Close()
			size, err := unix.FcntlInt(reader.Fd(), unix.F_SETPIPE_SZ, 4096)
			must(t, err)
			dir := t.TempDir()
			args := []string{"-strategy", "os", "-procs", "2", "-dur", "60s", "-dir", dir, "-json", fifo}
			cmd := lockstressCommand(t, nil, args...)
			if ignored {
				cmd.Args = append([]string{"sh", "-c", `trap "" INT; exec "$0" "$@"`, cmd.Path}, args...)
				cmd.Path, err = exec.LookPath("sh")
				must(t, err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			must(t, cmd.Start())
			waitForAcquisitions(t, dir, 20)
			must(t, cmd.Process.Signal(syscall.SIGINT))
			waitForFullPipe(t, reader, size)
			must(t, cmd.Process.Signal(syscall.SIGINT))
			if code := processExit(t, cmd); code != 128+int(syscall.SIGINT) {
				t.Errorf("lockstress ended with %v, want exit status %d; stderr:\n%s", cmd.ProcessState, 128+int(syscall.SIGINT), &stderr)
			}
		})
	}
}

// waitForFullPipe waits until the pipe that reader reads holds size bytes:
// its writer waits to write the rest.
func waitForFullPipe(t *testing.T, reader *os.File, size int) {
	t.Helper()
	for give := time.Now().Add(30 * time.Second); time.Now().Before(give); time.Sleep(10 * time.Millisecond) {
		if n, err := unix.IoctlGetInt(int(reader.Fd()), unix.TIOCINQ); err == nil && n >= size { // TIOCINQ: FIONREAD
			return
		}
	}
	t.Fatalf("the pipe did not fill up to its %d bytes within 30s", size)
}

// waitForPipeOpen waits until process pid waits in the open of a named
// pipe for the other end; it skips the test where the kernel never says
// where a process waits (/proc/PID/wchan reads 0).
func waitForPipeOpen(t *testing.T, pid int) {
	t.Helper()
	told := false // wchan said something other than 0
	for give := time.Now().Add(30 * time.Second); time.Now().Before(give); time.Sleep(5 * time.Millisecond) {
		if inPipeOpen(t, pid) {
			return
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid))
		told = told || string(b) != "0"
	}
	if !told {
		t.Skip("the kernel does not say where a process waits (/proc/PID/wchan)")
	}
	t.Fatalf("process %d did not wait in a named pipe's open within 30s", pid)
}

// inPipeOpen reports whether process pid waits in the open of a named pipe
// for the other end (a process woken from that wait runs: wchan 0).
func inPipeOpen(t *testing.T, pid int) bool {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid))
	if err != nil {
		t.Fatal(err)
	}
	return string(b) == "wait_for_partner" || string(b) == "fifo_open"
}

// startPoller has Go's poller make its descriptors (made once, at the
// first file it polls), so that they are not counted as left behind.
func startPoller(t *testing.T) {
	t.Helper()
	r, w, err := os.Pipe()
	must(t, err)
	r.Close()
	w.Close()
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

// readPipe reads the named pipe path until its writers have closed it.
func readPipe(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	must(t, err)
	return string(b)
}

// syncBuffer is a buffer that a process's output and a test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the buffer holds text.
func (s *syncBuffer) waitFor(t *testing.T, text string) {
	t.Helper()
	for give := time.Now().Add(30 * time.Second); time.Now().Before(give); time.Sleep(5 * time.Millisecond) {
		if strings.Contains(s.String(), text) {
			return
		}
	}
	t.Fatalf("%q not written within 30s; written:\n%s", text, s)
}
