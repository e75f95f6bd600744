package fsys

import (
	"errors"
	"io/fs"
)

// LostRace reports whether err, the error of an exclusive create or link
// of name, means that something else took name first: an error matching
// fs.ErrExist, or one matching fs.ErrPermission (EPERM, EACCES) while name
// exists afterwards, which is how some network filesystems (sshfs) answer
// the loser of a race to create a name; a permission error with nothing at
// name is a real one. info and lerr are what Lstat found at name, looked at
// only when err is one of those two (zero otherwise).
func LostRace(fsys FS, name string, err error) (lost bool, info Info, lerr error) {
	exist := errors.Is(err, fs.ErrExist)
	if !exist && !errors.Is(err, fs.ErrPermission) {
		return false, Info{}, nil
	}
	info, lerr = fsys.Lstat(name)
	return exist || lerr == nil, info, lerr
}
