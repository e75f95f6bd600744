//go:build linux

package fuzz

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// ofdLock takes an exclusive open-file-description lock on all of f.
func ofdLock(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	return unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
}
