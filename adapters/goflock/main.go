// Command goflock is a lockstress adapter for the locks a Go program takes
// without this module: a bare flock(2) that waits in the kernel, and
// github.com/gofrs/flock, which tries again every 10 ms until its context
// ends.
//
//	go build -o goflock ./adapters/goflock
//	lockstress -strategy 'exec:./goflock kernel'
//	lockstress -strategy 'exec:./goflock gofrs'
//
// It speaks the adapter protocol of docs/lockstress.md on standard input
// and output; the lock file is the last argument.
package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// peerLock is one of the peer locks, held by this process or not.
type peerLock interface {
	// lock takes the lock, waiting at most wait (0: tries once), and
	// reports whether it took it.
	lock(wait time.Duration) (bool, error)
	// unlock releases the lock taken.
	unlock() error
	// close releases the lock if it is held.
	close()
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goflock kernel|gofrs LOCKFILE")
		os.Exit(2)
	}
	l, desc, err := newPeer(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "goflock:", err)
		os.Exit(2)
	}
	if err := serve(l, desc, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "goflock:", err)
		os.Exit(1)
	}
}

// newPeer returns the lock of the given kind on path, and a description of
// it for the ready line.
func newPeer(kind, path string) (peerLock, string, error) {
	switch kind {
	case "kernel":
		l, err := newKernelFlock(path)
		if err != nil {
			return nil, "", err
		}
		return l, "bare flock(2), waiting in the kernel", nil
	case "gofrs":
		return newGofrsFlock(path), "github.com/gofrs/flock " + moduleVersion(gofrsModule) +
			" TryLockContext, every " + gofrsRetry.String(), nil
	}
	return nil, "", fmt.Errorf("unknown lock %q: want kernel or gofrs", kind)
}

// serve says ready, answers the requests read from in until its end, and
// then releases the lock.
func serve(l peerLock, desc string, in io.Reader, out io.Writer) error {
	defer l.close()
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(in)
	line := "ready " + desc
	for {
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if !sc.Scan() {
			return sc.Err()
		}
		line = answer(l, sc.Text())
	}
}

// answer carries out one request and returns the answer to it.
func answer(l peerLock, request string) string {
	cmd, arg, _ := strings.Cut(strings.TrimSpace(request), " ")
	switch cmd {
	case "lock":
		ms, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
		if err != nil || ms < 0 {
			return fmt.Sprintf("error bad wait %q: want milliseconds, 0 or more", arg)
		}
		ok, err := l.lock(time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond)
		switch {
		case err != nil:
			return "error " + oneLine(err)
		case !ok:
			return "timeout"
		}
		return "ok"
	case "unlock":
		if err := l.unlock(); err != nil {
			return "error " + oneLine(err)
		}
		return "ok"
	}
	return fmt.Sprintf("error unknown request %q", request)
}

// oneLine is err's text on one line, as the protocol needs it.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// moduleVersion returns the version of module path built into this
// program, or "(unknown version)".
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == path {
				return m.Version
			}
		}
	}
	return "(unknown version)"
}
