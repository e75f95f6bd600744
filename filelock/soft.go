package filelock

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/lockstress/lockstress/internal/fsys"
)

// createSoft makes the lock file at path with O_CREAT|O_EXCL and writes
// data into it: the Soft strategy's exclusive creation. It returns the new
// file's identity, and with keep the file itself, still open; or errBusy
// if something holds the path.
func createSoft(l *Lock, path string, data []byte, keep bool) (fsys.FileID, io.Closer, error) {
	fsy := l.cfg.fs
	f, err := fsy.CreateExcl(path, l.cfg.perm)
	if err != nil {
		return fsys.FileID{}, nil, createError(fsy, path, err)
	}
	_, err = f.Write(data)
	var info fsys.Info
	if err == nil {
		info, err = f.Stat()
	}
	if err == nil && keep {
		return info.ID, f, nil
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Undo the half-made lock: nothing may be left behind.
		return fsys.FileID{}, nil, errors.Join(err, fsy.Remove(path))
	}
	return info.ID, nil, nil
}

// createError sorts the error of an exclusive create: "something is there"
// means busy if it is a regular file, and a clear error if it is not.
// Some network filesystems (sshfs) report a losing exclusive create as
// EPERM or EACCES instead of EEXIST, so those too mean busy when a lock file
// exists afterwards; otherwise they are the real error.
func createError(fsy fsys.FS, path string, err error) error {
	if !errors.Is(err, fs.ErrExist) && !errors.Is(err, fs.ErrPermission) {
		return err
	}
	info, lerr := fsy.Lstat(path)
	switch {
	case lerr == nil && !info.Mode.IsRegular():
		return notRegular(info.Mode)
	case lerr == nil:
		return errBusy
	case errors.Is(err, fs.ErrExist) && errors.Is(lerr, fs.ErrNotExist):
		return errBusy // released in between: try again
	}
	return err
}

// readRecordFile reads a lock file without following a symbolic link or
// blocking on a FIFO; anything but a regular file is ErrNotRegular.
func readRecordFile(fsy fsys.FS, path string) ([]byte, fsys.Info, error) {
	data, info, err := fsys.ReadAll(fsy, path, MaxRecordSize+1)
	if errors.Is(err, fsys.ErrNotRegular) {
		err = notRegular(info.Mode)
	} else if err != nil {
		// O_NOFOLLOW fails on a symbolic link (ELOOP); say what is there.
		if linfo, lerr := fsy.Lstat(path); lerr == nil && !linfo.Mode.IsRegular() {
			err = notRegular(linfo.Mode)
		}
	}
	return data, info, err
}

func notRegular(mode fs.FileMode) error {
	kind := "irregular file"
	switch {
	case mode.IsDir():
		kind = "directory"
	case mode&fs.ModeSymlink != 0:
		kind = "symbolic link"
	case mode&fs.ModeNamedPipe != 0:
		kind = "FIFO"
	case mode&fs.ModeSocket != 0:
		kind = "socket"
	case mode&fs.ModeDevice != 0:
		kind = "device"
	}
	return fmt.Errorf("%w: it is a %s", ErrNotRegular, kind)
}
