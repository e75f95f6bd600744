//go:build linux

package proc

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func pidNamespace() string {
	s, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return s
}

// stat returns a process's state letter and start time (field 22 of
// /proc/PID/stat, clock ticks since boot).
func stat(pid int) (byte, uint64, error) {
	b, err := readProcFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields after it start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); field 22 is f[19].
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, errors.New("malformed stat")
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, err
	}
	return f[0][0], start, nil
}

func startTime(pid int) (uint64, error) {
	_, start, err := stat(pid)
	return start, err
}

func check(id Identity) State {
	state, start, err := stat(id.PID)
	switch {
	case err == nil:
		if state == 'Z' || state == 'X' {
			return Dead
		}
		if id.Start != 0 && start != id.Start {
			return Dead
		}
		return Alive
	case errors.Is(err, fs.ErrNotExist):
		// /proc may hide other users' processes (hidepid): ask the kernel.
		if errors.Is(unix.Kill(id.PID, 0), unix.ESRCH) {
			return Dead
		}
		return Unknown
	case errors.Is(err, fs.ErrPermission):
		return Alive
	}
	return Unknown
}

// readProcFile reads a small file of /proc with plain system calls: the
// waiters of a fair queue check a process on every turn, and os.ReadFile
// would also register the descriptor with the runtime's poller and set its
// flags, four system calls more each time.
func readProcFile(name string) ([]byte, error) {
	var fd int
	var err error
	for {
		if fd, err = unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	b := make([]byte, 0, 1024)
	for {
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}
