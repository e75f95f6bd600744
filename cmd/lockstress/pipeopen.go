package main

import (
	"errors"
	"fmt"
	"io"
)

// A report file that is a named pipe: its open for writing would wait in
// the kernel until a reader opens it, as a shell's > waits, and the
// signals that ask lockstress to stop, caught from the start, would go
// unheeded meanwhile. So the open is made without waiting (O_NONBLOCK): a
// pipe without a reader refuses it (ENXIO), and it is tried again every
// pipeRetry until a reader comes or lockstress is asked to stop. Nothing
// of the pipe is opened meanwhile, so no writer or reader of another
// program is disturbed; anything but a named pipe is then written as a
// file that blocks, as before (pipeopen_unix.go).

// errNoReader is the cause of an open of a named pipe given up when
// lockstress was asked to stop before a reader came.
var errNoReader = errors.New("interrupted while waiting for a reader")

// reportOpenFailed says why the report file of flag name could not be
// opened, and returns the exit status: interrupted, or a usage error.
func reportOpenFailed(stderr io.Writer, sub, name string, err error) int {
	if !errors.Is(err, errNoReader) {
		return usageError(stderr, sub, "%s: %v", name, err)
	}
	fmt.Fprintf(stderr, "%s: %s: %v\n", invocation(sub), name, err)
	return exitInterrupted
}
