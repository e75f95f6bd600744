package filelock

// Exclusive creation of a file holding a record, shared by the Soft and
// Link strategies and their guard, and the sorting of its errors: which
// mean a busy lock, which something that is not a lock file, and which
// the real error.

import (
	"errors"
	"io"
	"io/fs"

	"github.com/lockstress/lockstress/internal/fsys"
)

// createdHook, for tests, runs when createExcl has made and written a file.
var createdHook func(path string)

// createExcl makes the file at path with O_CREAT|O_EXCL and writes data
// into it. It returns the new file's identity, and with keep the file
// itself, still open; or errBusy if something holds the path.
func createExcl(l *Lock, path string, data []byte, keep bool) (fsys.FileID, io.Closer, error) {
	fsy := l.cfg.fs
	f, err := fsy.CreateExcl(path, l.cfg.perm)
	if err != nil {
		return fsys.FileID{}, nil, createError(fsy, path, err)
	}
	// The mode is set before the record is written: a file others could
	// write never holds one.
	info, err := fsys.SetPerm(f, l.cfg.perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil && createdHook != nil {
		createdHook(path)
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

// claimError is the error of making a claim: a claim name is never reused,
// so finding one there means something odd, not a busy lock.
func claimError(claim string, err error) error {
	if errors.Is(err, errBusy) {
		return &fs.PathError{Op: "create", Path: claim, Err: fs.ErrExist}
	}
	return err
}

// createError sorts the error of an exclusive create: "something is there"
// (fsys.LostRace, which also counts sshfs's EPERM or EACCES when a file
// exists afterwards) means busy if it is a regular file, and a clear
// error if it is not; anything else is the real error.
func createError(fsy fsys.FS, path string, err error) error {
	lost, info, lerr := fsys.LostRace(fsy, path, err)
	switch {
	case !lost:
		return err
	case lerr == nil && !info.Mode.IsRegular():
		return notRegular(info.Mode)
	case lerr == nil || errors.Is(lerr, fs.ErrNotExist):
		return errBusy // taken, or released in between: try again
	}
	return err
}
