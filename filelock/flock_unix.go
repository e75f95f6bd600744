//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// flockLocker is flock(2) on the whole file.
type flockLocker struct{}

func init() { osLockers[OS] = flockLocker{} }

func (flockLocker) lock(f *os.File, shared bool) error {
	how := unix.LOCK_EX
	if shared {
		how = unix.LOCK_SH
	}
	return flock(f, how|unix.LOCK_NB)
}

func (flockLocker) unlock(f *os.File) error { return flock(f, unix.LOCK_UN) }

func (flockLocker) probe(f *os.File) (bool, error) {
	err := flock(f, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, errBusy) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, flock(f, unix.LOCK_UN)
}

func flock(f *os.File, how int) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := conn.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), how)
			if ferr != unix.EINTR {
				break
			}
		}
	}); err != nil {
		return err
	}
	if ferr == unix.EWOULDBLOCK {
		return errBusy
	}
	if ferr != nil {
		return os.NewSyscallError("flock", ferr)
	}
	return nil
}
