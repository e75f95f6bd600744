//go:build unix

package fuzz

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/lockstress/lockstress/filelock"
)

// holdFile takes the lock at path with strategy s the way another process
// would, below any handle of this process: the soft or link lock file made by hand,
// or the kernel lock on a descriptor of its own. The function it returns
// releases it.
func holdFile(s filelock.Strategy, path string, record []byte) (release func() error, err error) {
	switch s {
	case filelock.Soft, filelock.Link:
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, err
		}
		_, werr := f.Write(record)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, werr
		}
		return func() error { return os.Remove(path) }, nil
	case filelock.OS, filelock.OFD:
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		if err := kernelLock(s, f); err != nil {
			f.Close()
			return nil, err
		}
		if _, err := f.WriteAt(record, 0); err != nil {
			f.Close()
			return nil, err
		}
		// Closing the only descriptor drops either kind of lock.
		return func() error {
			if err := f.Truncate(0); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}, nil
	}
	return nil, fmt.Errorf("no way to hold a %v lock by hand", s)
}

func kernelLock(s filelock.Strategy, f *os.File) error {
	if s == filelock.OS {
		return flockLock(f)
	}
	return ofdLock(f)
}

// mkfifo makes a named pipe at path.
func mkfifo(path string) error { return unix.Mkfifo(path, 0o644) }
