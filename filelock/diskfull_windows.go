package filelock

import (
	"errors"

	"golang.org/x/sys/windows"
)

// diskFull reports whether err is Windows' own word for a full disk,
// which matches no errno.
func diskFull(err error) bool {
	return errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL)
}
