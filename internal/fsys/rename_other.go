//go:build !linux && !darwin

package fsys

import (
	"errors"
	"os"
)

// RenameNoReplace reports errors.ErrUnsupported: this system has no rename
// that refuses to replace its target.
func (OS) RenameNoReplace(oldname, newname string) error {
	return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errors.ErrUnsupported}
}
