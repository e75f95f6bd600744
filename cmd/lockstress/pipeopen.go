package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// The open of a report file can wait: a named pipe's open for writing
// returns only once a reader has opened it, as a shell's > waits. Until
// then the signal that asks lockstress to stop is caught and nobody looks
// at it, so the open is made in a goroutine and abandoned when ctx is
// done. Abandoning it needs the blocked open to return, or the goroutine
// and its descriptor would outlive the command: lockstress opens the pipe
// for reading itself, without waiting (O_NONBLOCK), which lets the writer's
// open return, and closes both. A reader of the user's that comes at the
// same moment sees the pipe opened and closed, an empty report, which is
// what an interrupted command gives. An open that waits on anything else
// (a device, a hung network filesystem) is waited for; the second signal
// ends lockstress (main).

// errInterrupted is the cause of a report file's open given up when
// lockstress was asked to stop.
var errInterrupted = errors.New("interrupted")

// openInterruptible opens path with flag as os.OpenFile does, giving up
// with errInterrupted when ctx is done before the open returns.
func openInterruptible(ctx context.Context, path string, flag int) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, flag, 0)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
	}
	select {
	case o := <-done: // it returned meanwhile: the run sees ctx done
		return o.f, o.err
	default:
	}
	err := errInterrupted
	reader := openPipeReader(path)
	if reader != nil {
		err = fmt.Errorf("%w while waiting for a reader", errInterrupted)
	}
	o := <-done
	if reader != nil {
		reader.Close()
	}
	if o.err == nil {
		o.f.Close()
	}
	return nil, &fs.PathError{Op: "open", Path: path, Err: err}
}

// openPipeReader opens path for reading without waiting if it is a named
// pipe, so that an open for writing that waits for a reader returns; it
// returns nil for anything else, which it leaves unopened.
func openPipeReader(path string) *os.File {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	return f
}

// reportOpenFailed says why the report file of flag name could not be
// opened, and returns the exit status: interrupted, or a usage error.
func reportOpenFailed(stderr io.Writer, sub, name string, err error) int {
	if !errors.Is(err, errInterrupted) {
		return usageError(stderr, sub, "%s: %v", name, err)
	}
	cmd := "lockstress"
	if sub != "" {
		cmd += " " + sub
	}
	fmt.Fprintf(stderr, "%s: %s: %v\n", cmd, name, err)
	return exitInterrupted
}
