//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0)
	}
	if err == nil {
		slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	}
	if err != nil {
		master.Close()
		t.Skipf("no pseudo-terminal: %v", err)
	}
	return master, slave
}

// The progress line is written to standard error when it is a terminal,
// and never to a file or pipe.
func TestProgressOnlyToATerminal(t *testing.T) {
	for _, terminal := range []bool{true, false} {
		t.Run(fmt.Sprintf("terminal=%v", terminal), func(t *testing.T) {
			t.Parallel() // processes of their own, each in its directory
			cmd := exec.Command(os.Args[0], "-strategy", "os", "-procs", "2", "-dur", "2500ms", "-dir", t.TempDir())
			cmd.Env = append(os.Environ(), asMain+"=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			read := make(chan struct{})
			if terminal {
				master, slave := openPTY(t)
				defer master.Close()
				cmd.Stderr = slave
				go func() {
					defer close(read)
					_, _ = io.Copy(&stderr, master) // until EIO, once the terminal is closed
				}()
				defer slave.Close()
			} else {
				close(read)
			}
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v; stdout:\n%s", err, stdout.String())
			}
			if f, ok := cmd.Stderr.(*os.File); ok {
				f.Close()
			}
			<-read
			progress := strings.Contains(stderr.String(), "\r\033[K") && strings.Contains(stderr.String(), " elapsed, ")
			if progress != terminal {
				t.Errorf("progress line written: %v, want %v; standard error:\n%q", progress, terminal, stderr.String())
			}
			if !strings.Contains(stdout.String(), "verdict      PASS") {
				t.Errorf("stdout:\n%s", stdout.String())
			}
		})
	}
}
