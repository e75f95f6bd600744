package memfs

import (
	"errors"
	"io/fs"
	"syscall"
)

// Plan 9 has no error numbers; these match the same io/fs sentinels.
var (
	errExist    = syscall.EEXIST
	errNotExist = syscall.ENOENT
	errNotDir   = syscall.ENOTDIR
	errIsDir    = syscall.EISDIR
	errNotEmpty = errors.New("directory not empty")
	errBadFD    = errors.New("bad file descriptor")
	errPerm     = syscall.EPERM
	errInvalid  = fs.ErrInvalid
)
