//go:build !plan9

package memfs

import "syscall"

// The operating system's error numbers, so that errors match the same
// sentinels (fs.ErrExist, …) as the real filesystem's.
const (
	errExist    = syscall.EEXIST
	errNotExist = syscall.ENOENT
	errNotDir   = syscall.ENOTDIR
	errIsDir    = syscall.EISDIR
	errNotEmpty = syscall.ENOTEMPTY
	errBadFD    = syscall.EBADF
	errPerm     = syscall.EPERM
	errInvalid  = syscall.EINVAL
)
