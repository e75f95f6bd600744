//go:build unix

package detect

import (
	"errors"
	"path/filepath"
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
