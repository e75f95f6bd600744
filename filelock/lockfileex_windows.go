//go:build windows

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// winLocker is LockFileEx on one byte far beyond any data, so that the
// holder record in the file stays readable by others while it is locked
// (LockFileEx locks are mandatory for the bytes they cover).
type winLocker struct{}

const lockOffsetHigh = 1 << 30 // byte 2^62

func (winLocker) lock(fd uintptr, shared bool) error {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if !shared {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err := windows.LockFileEx(windows.Handle(fd), flags, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errBusy
	}
	if err != nil {
		return os.NewSyscallError("LockFileEx", err)
	}
	return nil
}

func (winLocker) unlock(fd uintptr) error {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	if err := windows.UnlockFileEx(windows.Handle(fd), 0, 1, 0, ol); err != nil {
		return os.NewSyscallError("UnlockFileEx", err)
	}
	return nil
}

// readOnlyLocks is true: LockFileEx needs only read or write access.
func (winLocker) readOnlyLocks(bool) bool { return true }

func (w winLocker) probe(fd uintptr) (bool, error) {
	err := w.lock(fd, false)
	if errors.Is(err, errBusy) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, w.unlock(fd)
}
