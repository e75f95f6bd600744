package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lockstress/lockstress/internal/fsys"
)

// euid is this process's effective user ID; -1 where there is none
// (Windows).
var euid = os.Geteuid()

// trustedOwner reports whether uid may own a directory the lock uses: this
// process's user, root, or owner, the owner of the lock's directory (who
// could replace anything in it anyway).
func trustedOwner(uid uint32, owner uint32) bool {
	return euid < 0 || uid == uint32(euid) || uid == 0 || uid == owner
}

// checkQueueDir checks, without following a symbolic link, that the fair
// queue at dir is a real directory that only the users who share the lock
// may change: owned by a trusted owner (trustedOwner) or, for a lock
// shared with its group (a permission with group write), by a member, and
// writable by no one else. A queue that does not exist is fine; it returns
// its info otherwise.
func (q *queue) checkQueueDir() (fsys.Info, error) {
	info, err := q.fs.Lstat(q.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fsys.Info{}, nil
	}
	if err != nil {
		return fsys.Info{}, fmt.Errorf("fair queue: %w", err)
	}
	if !info.Mode.IsDir() {
		return fsys.Info{}, unsafeDir(q.dir, "the fair queue is not a directory (%v)", info.Mode.Type())
	}
	if euid < 0 {
		return info, nil
	}
	group := q.l.cfg.perm&0o020 != 0
	if info.Mode.Perm()&0o002 != 0 {
		return fsys.Info{}, unsafeDir(q.dir, "the fair queue is writable by all users (mode %v)", info.Mode.Perm())
	}
	if info.Mode.Perm()&0o020 != 0 && !group {
		return fsys.Info{}, unsafeDir(q.dir, "the fair queue is writable by its group (mode %v), and the lock is not shared with a group (permission %v)", info.Mode.Perm(), q.l.cfg.perm)
	}
	if !group {
		parent, err := q.fs.Lstat(filepath.Dir(q.dir))
		if err != nil {
			return fsys.Info{}, fmt.Errorf("fair queue: %w", err)
		}
		if !trustedOwner(info.Uid, parent.Uid) {
			return fsys.Info{}, unsafeDir(q.dir, "the fair queue is owned by user %d, neither this user, root, nor the owner of the lock's directory", info.Uid)
		}
	}
	return info, nil
}

// unsafeDir is ErrUnsafeDirectory naming dir, with why.
func unsafeDir(dir, format string, args ...any) error {
	return &fs.PathError{Op: "check", Path: dir, Err: fmt.Errorf("%w: "+format, append([]any{ErrUnsafeDirectory}, args...)...)}
}
