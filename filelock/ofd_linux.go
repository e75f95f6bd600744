//go:build linux

package filelock

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// ofdLocker is a Linux open-file-description lock (F_OFD_SETLK) on the
// whole file. Unlike classic fcntl locks it belongs to the open file, not
// to the process, so closing another descriptor of the same file does not
// drop it.
type ofdLocker struct{}

func (ofdLocker) lock(fd uintptr, shared bool) error {
	typ := int16(unix.F_WRLCK)
	if shared {
		typ = unix.F_RDLCK
	}
	return ofd(fd, unix.F_OFD_SETLK, typ, nil)
}

// lockWait takes the lock, waiting in the kernel for as long as it takes.
func (ofdLocker) lockWait(fd uintptr, shared bool) error {
	typ := int16(unix.F_WRLCK)
	if shared {
		typ = unix.F_RDLCK
	}
	return ofd(fd, unix.F_OFD_SETLKW, typ, nil)
}

func (ofdLocker) unlock(fd uintptr) error { return ofd(fd, unix.F_OFD_SETLK, unix.F_UNLCK, nil) }

// readOnlyLocks is true for shared locks only: a write lock (F_WRLCK)
// needs a descriptor open for writing.
func (ofdLocker) readOnlyLocks(shared bool) bool { return shared }

func (ofdLocker) probe(fd uintptr) (bool, error) {
	var got unix.Flock_t
	if err := ofd(fd, unix.F_OFD_GETLK, unix.F_WRLCK, &got); err != nil {
		return false, err
	}
	return got.Type != unix.F_UNLCK, nil
}

func ofd(fd uintptr, cmd int, typ int16, out *unix.Flock_t) error {
	lk := unix.Flock_t{Type: typ, Whence: io.SeekStart, Start: 0, Len: 0} // Len 0: to the end, however long
	for {
		err := unix.FcntlFlock(fd, cmd, &lk)
		switch err {
		case nil:
			if out != nil {
				*out = lk
			}
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN, unix.EACCES:
			return errBusy
		}
		return os.NewSyscallError("fcntl", err)
	}
}
