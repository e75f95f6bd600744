package fsys

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// RenameNoReplace renames oldname to newname with renameat2 and
// RENAME_NOREPLACE, which fails if anything exists at newname. A kernel
// or filesystem without the flag (NFS, most FUSE filesystems) answers
// EINVAL; that is reported as errors.ErrUnsupported.
func (OS) RenameNoReplace(oldname, newname string) error {
	err := ignoringEINTR(func() error {
		return unix.Renameat2(unix.AT_FDCWD, oldname, unix.AT_FDCWD, newname, unix.RENAME_NOREPLACE)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		err = errors.ErrUnsupported
	}
	return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
}
