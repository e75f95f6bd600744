//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// pipeRetry is how often the open of a named pipe without a reader is
// tried again.
const pipeRetry = 50 * time.Millisecond

// openWriting opens path for writing, without emptying it, with O_CREAT
// as a shell's > opens it; a named pipe without a reader is waited for
// until ctx is done (errNoReader), and stderr, if not nil, is told once
// that it waits.
func openWriting(ctx context.Context, path string, stderr io.Writer) (*os.File, error) {
	for told := false; ; {
		fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o666)
		switch {
		case err == nil:
			return writingFile(fd, path)
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.ENXIO) || !isNamedPipe(path):
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		if !told && stderr != nil {
			fmt.Fprintf(stderr, "lockstress: waiting for a reader of the named pipe %s (^C stops)\n", path)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, &fs.PathError{Op: "open", Path: path, Err: errNoReader}
		case <-time.After(pipeRetry):
		}
	}
}

// writingFile returns the file of descriptor fd, opened without waiting:
// a named pipe stays so, as Go's poller wants it, and anything else
// blocks again, as a file opened as usual does.
func writingFile(fd int, path string) (*os.File, error) {
	var st syscall.Stat_t
	err := syscall.Fstat(fd, &st)
	if err == nil && st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		err = syscall.SetNonblock(fd, false)
	}
	if err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// isNamedPipe reports whether path leads to a named pipe.
func isNamedPipe(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&fs.ModeNamedPipe != 0
}
