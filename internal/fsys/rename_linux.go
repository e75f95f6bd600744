package fsys

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// RenameNoReplace renames oldname to newname with renameat2 and
// RENAME_NOREPLACE, which fails if anything exists at newname. A kernel
// or filesystem without the flag (NFS, most FUSE filesystems) answers
// EINVAL, and a seccomp filter that forbids the call ENOSYS or EPERM; those
// are reported as errors.ErrUnsupported, so that the caller falls back to
// a plain exclusive create, which reports a real permission error itself.
func (OS) RenameNoReplace(oldname, newname string) error {
	err := ignoringEINTR(func() error {
		return unix.Renameat2(unix.AT_FDCWD, oldname, unix.AT_FDCWD, newname, unix.RENAME_NOREPLACE)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EPERM):
		err = errors.ErrUnsupported
	}
	return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
}
