package fsys

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// RenameNoReplace renames oldname to newname with renamex_np and
// RENAME_EXCL, which fails if anything exists at newname. A filesystem
// without the flag answers ENOTSUP or EINVAL; that is reported as
// errors.ErrUnsupported.
func (OS) RenameNoReplace(oldname, newname string) error {
	err := ignoringEINTR(func() error { return unix.RenamexNp(oldname, newname, unix.RENAME_EXCL) })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOTSUP):
		err = errors.ErrUnsupported
	}
	return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
}
