package filelock

// The Link strategy's creation of its lock file, safe on NFS: the record
// written into a claim that is hard-linked to the lock path.

import (
	"bytes"
	"errors"
	"io"
	"io/fs"

	"github.com/lockstress/lockstress/internal/fsys"
)

// linkedHook, for tests, runs between a successful link and the look at
// the lock path that follows it.
var linkedHook func(path string)

// createLink makes the lock file at path by the Link strategy: it writes
// data into a claim file with a name no other process uses, links the claim
// to path, and removes the claim's name. The lock is taken when link
// succeeds, or when it reports an error but the lock path names the claim's
// file with its record (linkedAnyway): on NFS the reply to a link that
// happened can be lost and the retried request fail with EEXIST. It
// returns the lock file's identity, or errBusy if something holds the
// path.
//
// With keep, the lock file is also opened for writing by path (the claim's
// name is gone: an event of a removed name is not raised) and returned,
// if it is the file linked.
func createLink(l *Lock, path string, data []byte, keep bool) (fsys.FileID, io.Closer, error) {
	fsy := l.cfg.fs
	claim := claimName(l, path)
	// With keep, the claim stays open until the lock path has been opened,
	// so that its inode cannot be freed and its number given to another
	// file in between: that number is what tells the file linked from one
	// that replaced it at the path.
	claimID, claimFile, err := createExcl(l, claim, data, keep)
	id := claimID
	if claimFile != nil {
		defer claimFile.Close() // after the removal of its name: no event
	}
	if err != nil {
		// A claim that cannot be made beside the path (a directory this
		// user may not write, as /dev) may hide that the path is no lock
		// file at all: say that first.
		if info, serr := fsy.Lstat(path); serr == nil && !info.Mode.IsRegular() {
			return fsys.FileID{}, nil, notRegular(info.Mode)
		}
		return fsys.FileID{}, nil, claimError(claim, err)
	}
	lerr := fsy.Link(claim, path)
	linked := lerr == nil
	if !linked {
		linked = linkedAnyway(fsy, claim, path, claimID, data)
	}
	// If the claim name cannot be removed it stays behind as debris, to
	// be swept later; a lock that was linked is held all the same.
	rerr := fsy.Remove(claim)
	if linked && linkedHook != nil {
		linkedHook(path)
	}
	if linked {
		// The holder's identity is that of the lock path, not of the
		// claim: on FUSE filesystems such as sshfs each path has an inode
		// number of its own, even for two links of one file.
		if info, err := fsy.Lstat(path); err == nil {
			id = info.ID
		}
		var kept io.Closer
		if claimFile != nil {
			kept = keepLinked(path, id, claimID)
		}
		return id, kept, nil
	}
	switch {
	case errors.Is(lerr, fs.ErrNotExist):
		// The claim was swept as debris while this process was stopped:
		// try again.
		return fsys.FileID{}, nil, errBusy
	case errors.Is(lerr, fs.ErrExist) || errors.Is(lerr, fs.ErrPermission):
		return fsys.FileID{}, nil, createError(fsy, path, lerr)
	}
	return fsys.FileID{}, nil, errors.Join(lerr, rerr)
}

// keepLinked returns the lock file at path opened for writing, to be kept
// open while the lock is held, or nil. It is kept only if it is exactly
// the file linked: id, the lock path's identity, and the file opened are
// the claim's own inode (as every link of a file is, where files are kept
// open), held open since its creation. A holder that keeps its file
// checks ownership by identity alone (fileHeld.owned), so a file that
// replaced its own at the path in between must not become its own.
// Without it, only the event of a death is lost. A path that names
// another file is never opened: its close would wake the waiters watching
// it, and what it is, nothing of ours has checked.
func keepLinked(path string, id, claimID fsys.FileID) io.Closer {
	if id != claimID {
		return nil
	}
	f, err := fsys.OpenWriteOnly(path)
	if errors.Is(err, fs.ErrPermission) {
		// A lock file this user may not write (WithPerm without write):
		// kept read-only, its death raises no event, but another copy of
		// this package in this process still sees it open (openHere).
		f, err = fsys.OpenReadOnly(path)
	}
	if err != nil {
		return nil
	}
	if info, err := f.Stat(); err == nil && info.ID == claimID {
		return f
	}
	f.Close()
	return nil
}

// linkedAnyway reports whether a link of claim to path that reported an
// error happened all the same: the claim's link count is 2, and the lock
// path names the claim's own file holding data. The count alone proves
// nothing: anyone who can see a claim may give it another name.
func linkedAnyway(fsy fsys.FS, claim, path string, claimID fsys.FileID, data []byte) bool {
	if info, err := fsy.Lstat(claim); err != nil || info.ID != claimID || info.Nlink != 2 {
		return false
	}
	got, info, err := readRecordFile(fsy, path)
	return err == nil && info.ID == claimID && bytes.Equal(got, data)
}
