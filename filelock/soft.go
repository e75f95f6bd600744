package filelock

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"

	"github.com/lockstress/lockstress/internal/fsys"
)

// softMechanism is the Soft strategy: the lock is the existence of the lock
// file, created with O_CREAT|O_EXCL and holding the holder record.
type softMechanism struct{}

type softHeld struct {
	fs   fsys.FS
	path string
	f    fsys.File
	id   fsys.FileID
	data []byte // the record as written
}

func (softMechanism) try(l *Lock) (held, error) {
	fsy := l.cfg.fs
	f, err := fsy.CreateExcl(l.path, l.cfg.perm)
	if err != nil {
		return nil, createError(fsy, l.path, err)
	}
	data, err := newRecord(l.cfg.clock.Now()).MarshalText()
	var info fsys.Info
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		info, err = f.Stat()
	}
	if err != nil {
		// Undo the half-made lock: nothing may be left behind.
		return nil, errors.Join(err, f.Close(), fsy.Remove(l.path))
	}
	return &softHeld{fs: fsy, path: l.path, f: f, id: info.ID, data: data}, nil
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

func (h *softHeld) release() error {
	owned, err := h.owned()
	errs := []error{err, h.f.Close()}
	if owned {
		errs = append(errs, h.fs.Remove(h.path))
	} else if err == nil {
		errs = append(errs, ErrLockLost)
	}
	return errors.Join(errs...)
}

// owned reports whether the path still names the file this holder created,
// with this holder's record in it.
func (h *softHeld) owned() (bool, error) {
	data, info, err := readRecordFile(h.fs, h.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	sameFile := info.ID == h.id || info.ID.IsZero() || h.id.IsZero()
	return sameFile && bytes.Equal(data, h.data), nil
}

func (softMechanism) inspect(l *Lock) (Status, error) {
	data, _, err := readRecordFile(l.cfg.fs, l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, pathError("inspect", l.path, err)
	}
	return heldStatus(data), nil
}
