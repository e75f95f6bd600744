//go:build unix

package main

import "golang.org/x/sys/unix"

// writable returns the reason this process may not write path (a file,
// or a directory to make one in), as its effective user and groups are
// judged, or nil: a read-only filesystem, or permissions that refuse it.
func writable(path string) error {
	for {
		err := unix.Faccessat(unix.AT_FDCWD, path, unix.W_OK, unix.AT_EACCESS)
		if err != unix.EINTR {
			return err
		}
	}
}
