package filelock

// Breaking: a file judged stale is removed only if it is, once moved
// aside atomically, the very file judged, unchanged; anything else is put
// back (docs/design.md, "Why breaking never removes a live lock").

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/lockstress/lockstress/internal/fsys"
)

// removeAside removes the file at path if it is the one the verdict was
// about, unchanged. It never removes by path after a check: it renames
// whatever is at path to a private name, atomically, and then looks at what
// it moved. If that is not the judged file as judged (another file, other
// contents, or refreshed since), it is put back with link, which never
// replaces anything, or where link fails, a rename that never replaces.
// It reports whether the judged file was removed.
func (m fileMechanism) removeAside(l *Lock, path string, v verdict) (bool, error) {
	return m.removeIf(l, path, v.sameAs)
}

// removeIf removes the file at path if it is, when moved aside, the file
// that is recognises; otherwise it puts it back. It reports whether it
// removed it; a file that could not be read (but for one that is gone,
// here or, on NFS, by another host: vanished) is an error, not a file that
// is not recognised.
func (fileMechanism) removeIf(l *Lock, path string, is func(fsys.Info, []byte) bool) (bool, error) {
	fsy := l.cfg.fs
	// Look once more first, so that the window in which a live file may
	// be moved (and must be put back) is as short as it can be.
	data, info, err := readRecordFile(fsy, path)
	if err != nil && !vanished(err) {
		return false, err
	}
	if err != nil || !is(info, data) {
		return false, nil
	}
	// The name carries the time of the move (a moved file keeps its old
	// mtime), so that the sweep never takes a file that is being looked at.
	aside := tempName(path, kindAside, strconv.FormatInt(l.cfg.clock.Now().Unix(), 10))
	if err := fsy.Rename(path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if errors.Is(err, fs.ErrPermission) && !trustedUser(info.Uid) {
			// A sticky directory lets only a file's owner move it.
			return false, fmt.Errorf("stale, but user %d's, which this user may not move: %w", info.Uid, err)
		}
		return false, err
	}
	data, info, err = readRecordFile(fsy, aside)
	if err == nil && is(info, data) {
		if err := fsy.Remove(aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true, err
		}
		return true, nil
	}
	// Not what was judged: its owner is alive; or it could not be read,
	// and may have been. Put it back. If another
	// file was made at path meanwhile, link fails and the moved file is
	// lost to its owner, who learns it from its heartbeat or Unlock
	// (ErrLockLost); this takes a process stopped inside the guard for
	// longer than the stale-after age (docs/design.md).
	if lerr := fsy.Link(aside, path); lerr != nil && !errors.Is(lerr, fs.ErrExist) && !errors.Is(lerr, fs.ErrNotExist) {
		// No hard links here (FAT, SMB), or not this user's file to link
		// (protected_hardlinks, another member's file in a team's
		// directory): a rename that never replaces puts it back, where
		// the system has one; else it stays aside, and its owner learns
		// of the loss as above.
		if rerr := fsys.RenameNoReplace(fsy, aside, path); rerr != nil && !errors.Is(rerr, fs.ErrExist) {
			return false, lerr
		}
	}
	readErr := err
	if err := fsy.Remove(aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if readErr != nil && !vanished(readErr) {
		return false, readErr
	}
	return false, nil
}
