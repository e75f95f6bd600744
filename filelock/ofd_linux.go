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

func init() { osLockers[OFD] = ofdLocker{} }

func (ofdLocker) lock(f *os.File, shared bool) error {
	typ := int16(unix.F_WRLCK)
	if shared {
		typ = unix.F_RDLCK
	}
	return ofd(f, unix.F_OFD_SETLK, typ, nil)
}

func (ofdLocker) unlock(f *os.File) error { return ofd(f, unix.F_OFD_SETLK, unix.F_UNLCK, nil) }

func (ofdLocker) probe(f *os.File) (bool, error) {
	var got unix.Flock_t
	if err := ofd(f, unix.F_OFD_GETLK, unix.F_WRLCK, &got); err != nil {
		return false, err
	}
	return got.Type != unix.F_UNLCK, nil
}

func ofd(f *os.File, cmd int, typ int16, out *unix.Flock_t) error {
	lk := unix.Flock_t{Type: typ, Whence: io.SeekStart, Start: 0, Len: 0} // Len 0: to the end, however long
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := conn.Control(func(fd uintptr) {
		for {
			ferr = unix.FcntlFlock(fd, cmd, &lk)
			if ferr != unix.EINTR {
				break
			}
		}
	}); err != nil {
		return err
	}
	if ferr == unix.EAGAIN || ferr == unix.EACCES {
		return errBusy
	}
	if ferr != nil {
		return os.NewSyscallError("fcntl", ferr)
	}
	if out != nil {
		*out = lk
	}
	return nil
}
