//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

// The flock(2) mechanism of the OS strategy. Not on AIX, which has no
// flock, nor on Solaris, whose flock is emulated with fcntl record locks,
// which belong to the process rather than to the open file (the same
// choice as the Go command's own file locks).

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// flockLocker is flock(2) on the whole file.
type flockLocker struct{}

func (flockLocker) lock(fd uintptr, shared bool) error {
	how := unix.LOCK_EX
	if shared {
		how = unix.LOCK_SH
	}
	return flock(fd, how|unix.LOCK_NB)
}

// lockWait takes the lock, waiting in the kernel for as long as it takes.
func (flockLocker) lockWait(fd uintptr, shared bool) error {
	how := unix.LOCK_EX
	if shared {
		how = unix.LOCK_SH
	}
	return flock(fd, how)
}

func (flockLocker) unlock(fd uintptr) error { return flock(fd, unix.LOCK_UN) }

// readOnlyLocks is true: flock needs no access mode for either kind.
func (flockLocker) readOnlyLocks(bool) bool { return true }

func (flockLocker) probe(fd uintptr) (bool, error) {
	err := flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, errBusy) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, flock(fd, unix.LOCK_UN)
}

func flock(fd uintptr, how int) error {
	for {
		err := unix.Flock(int(fd), how)
		switch err {
		case nil:
			return nil
		case unix.EINTR:
			continue
		case unix.EWOULDBLOCK:
			return errBusy
		}
		return os.NewSyscallError("flock", err)
	}
}
