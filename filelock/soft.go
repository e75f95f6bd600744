package filelock

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"

	"github.com/lockstress/lockstress/internal/fsys"
)

// createSoft makes the lock file at path holding data, exclusively: the
// Soft strategy's creation. It returns the new file's identity, and with
// keep the file itself, still open; or errBusy if something holds the path.
//
// Where the filesystem can rename without replacing (Linux, macOS), the
// record is written into a claim of its own name first and the claim is
// renamed to path, so that the lock file never exists without its whole
// record: a file at path without one is never this package's own, half
// made. Elsewhere path itself is made with O_CREAT|O_EXCL and written.
func createSoft(l *Lock, path string, data []byte, keep bool) (fsys.FileID, io.Closer, error) {
	if !l.noRename.Load() && fsys.CanRenameNoReplace(l.cfg.fs) {
		id, kept, err := createRenamed(l, path, data, keep)
		if !errors.Is(err, errors.ErrUnsupported) {
			return id, kept, err
		}
		l.noRename.Store(true)
	}
	return createExcl(l, path, data, keep)
}

// createRenamed writes data into a claim beside path and renames it to
// path, which fails if anything is there. A path already taken is seen
// first, without making a claim: that is a busy lock's usual answer, and
// the cheapest.
func createRenamed(l *Lock, path string, data []byte, keep bool) (fsys.FileID, io.Closer, error) {
	fsy := l.cfg.fs
	if info, err := fsy.Lstat(path); err == nil {
		if !info.Mode.IsRegular() {
			return fsys.FileID{}, nil, notRegular(info.Mode)
		}
		return fsys.FileID{}, nil, errBusy
	}
	claim := claimName(l, path)
	id, kept, err := createExcl(l, claim, data, keep)
	if err != nil {
		return fsys.FileID{}, nil, claimError(claim, err)
	}
	err = fsys.RenameNoReplace(fsy, claim, path)
	if err != nil && renamedAfterAll(fsy, path, id) {
		// The rename happened and its answer was lost (a network
		// filesystem that retried it): trust the path, not the answer.
		err = nil
	}
	if err == nil {
		if kept == nil {
			// Where files are not kept open (not a local filesystem of
			// Linux) the holder's identity is that of the lock path: on
			// FUSE filesystems each path has an inode number of its own.
			if info, err := fsy.Lstat(path); err == nil {
				id = info.ID
			}
		}
		return id, kept, nil
	}
	if kept != nil {
		kept.Close()
	}
	if rerr := fsy.Remove(claim); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		return fsys.FileID{}, nil, errors.ErrUnsupported
	case errors.Is(err, fs.ErrNotExist):
		// The claim was swept as debris while this process was stopped:
		// try again.
		return fsys.FileID{}, nil, errBusy
	}
	return fsys.FileID{}, nil, createError(fsy, path, err)
}

// renamedAfterAll reports whether path names the claim id although the
// rename reported an error.
func renamedAfterAll(fsy fsys.FS, path string, id fsys.FileID) bool {
	info, err := fsy.Lstat(path)
	return err == nil && !id.IsZero() && info.ID == id
}

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
	err = fsys.SetPerm(f, l.cfg.perm)
	if err == nil {
		_, err = f.Write(data)
	}
	var info fsys.Info
	if err == nil {
		info, err = f.Stat()
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

// claimName returns a fresh claim name beside path that says which process
// made it.
func claimName(l *Lock, path string) string {
	host := l.cfg.self.Host
	if len(host) > 32 {
		host = host[:32]
	}
	return tempName(path, kindClaim, host, strconv.Itoa(l.cfg.self.PID))
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
