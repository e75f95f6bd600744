//go:build unix

package detect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A log or observation file that is a FIFO (planted in a run directory
// that others may write) is refused at once: its open would wait for a
// writer for ever.
func TestFIFOAtALogsName(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "w0000.0.log")
	if err := syscall.Mkfifo(log, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := OpenLog(log)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrBadLog) {
			t.Errorf("OpenLog of a FIFO: %v, want ErrBadLog", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OpenLog of a FIFO still waits after 10s")
	}
}

// A log that is a symbolic link (to a real log elsewhere, or to any file
// the reader may read) is refused, naming what it is, not followed.
func TestLinkAtALogsName(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "elsewhere.log")
	if err := os.WriteFile(real, AppendLogHeader(nil, LogHeader{Run: "r", Owner: "w0"}), 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "w0000.0.log")
	if err := os.Symlink(real, log); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLog(log); !errors.Is(err, ErrBadLog) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("OpenLog of a link: %v, want ErrBadLog saying it is no regular file", err)
	}
}
