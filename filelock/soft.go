package filelock

// The Soft strategy's creation of its lock file: the record written into a
// claim and renamed to the lock path without replacing, or the lock path
// made with O_CREAT|O_EXCL where that rename is refused.

import (
	"errors"
	"io"
	"io/fs"

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
