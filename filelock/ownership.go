package filelock

// Whether a held Soft or Link lock file is still its holder's, for the
// heartbeat and the release: at its path (still held), moved aside by a
// break under way (not known until the break ends: a break puts back a
// file refreshed since it was judged), or gone (lost).

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/lockstress/lockstress/internal/fsys"
)

// errMovedAside reports a holder's lock file found moved aside by a break
// under way: whether the lock is lost is not known until the break ends.
var errMovedAside = errors.New("the lock file is moved aside by a break under way")

// markLost closes the holding's Lost channel, once.
func (h *fileHeld) markLost() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.isLost {
		h.isLost = true
		close(h.lostCh)
	}
}

// owned reports whether the lock path still names the file this holder
// made, with this holder's record in it. A file not at its path but moved
// aside by a break under way is errMovedAside. A break that ends between
// the first look and the look for it aside has put the file back, or
// removed it, by the second look at the path.
func (h *fileHeld) owned() (bool, error) {
	owned, err := h.atPath()
	if err != nil || owned {
		return owned, err
	}
	if h.movedAside() {
		return false, errMovedAside
	}
	return h.atPath()
}

// atPath reports whether the lock path names the file this holder made,
// with this holder's record in it. A holder that keeps its lock file open
// needs only the file's identity: no other file can have that inode while
// it is open, and nothing but this holder writes into it (a breaker that
// puts a moved file back puts back the same file), so the record is not
// read back. That spares four system calls on the way to every release,
// which is the way to the next waiter's acquisition. Anything but a
// regular file at the path is not the holder's file.
func (h *fileHeld) atPath() (bool, error) {
	if h.kept != nil && !h.id.IsZero() {
		info, err := h.l.cfg.fs.Lstat(h.l.path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return info.ID == h.id, nil
	}
	data, info, err := readRecordFile(h.l.cfg.fs, h.l.path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNotRegular) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return h.isMine(info, data), nil
}

// isMine reports whether a file so described, holding data, is the one
// this holder made: its identity and its record.
func (h *fileHeld) isMine(info fsys.Info, data []byte) bool {
	return sameFile(info.ID, h.id) && string(data) == string(h.data)
}

// movedAside reports whether this holder's file, with its record, stands
// under one of the names a break moves a lock file aside to. A directory
// that cannot be listed shows nothing.
func (h *fileHeld) movedAside() bool {
	dir, base := dirOf(h.l.path), filepath.Base(h.l.path)
	names, err := h.l.cfg.fs.ReadDirNames(dir)
	if err != nil {
		return false
	}
	for _, name := range names {
		if kind, _, ok := debrisKind(base, name); !ok || kind != kindAside {
			continue
		}
		if data, info, err := readRecordFile(h.l.cfg.fs, besideDir(dir, name)); err == nil && h.isMine(info, data) {
			return true
		}
	}
	return false
}
