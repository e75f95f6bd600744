package filelock

import (
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/lockstress/lockstress/internal/fsys"
)

// A directory made before the lock's users in a sticky directory that all
// users may write (/tmp) may be anyone's: whoever made it first owns it,
// and may rename or remove anything in it, the lock file and the
// directories below included, while the lock is held. So the directories
// from the nearest such one down to the lock's must be this user's or
// root's (docs/design.md, Acquisition, step 3). A directory another user
// owns elsewhere, where only trusted users could have made it, is trusted
// as far as its owner is, as a team's is.
//
// The look goes up the real path, so it is made once per directory and
// process: a directory found safe is remembered by its path, identity and
// owner. Another directory at that path (one made again after the first
// was removed) has another identity, or another owner if another user
// made it and got the same inode number back.

// unsquatted are the lock directories found safe; forgotten all at once
// when maxUnsquatted are known, so that a process that locks in ever new
// directories does not grow it without bound.
var (
	unsquatted      sync.Map // squatKey → struct{}
	unsquattedCount atomic.Int64
)

const maxUnsquatted = 1024

// squatWalkedHook, for tests, runs when squatRule has walked up the
// resolved path real, before it looks at it again.
var squatWalkedHook func(real string)

// squatKey is a directory as squatRule found it safe.
type squatKey struct {
	path string
	id   fsys.FileID
	uid  uint32
}

// squatRule refuses dir, a lock's directory or the deepest existing one
// WithCreateDirs makes the missing ones in, which info describes (links
// followed), if a directory or symbolic link another user than this one
// or root owns stands on its way below the nearest directory that all
// users may write with the sticky bit, unless a directory of this user or
// root that others may not write stands between the two (unless
// WithDirectoryWritableByAll). The way is looked at twice: as written,
// each step as lstat sees it, so that a link another user put in /tmp is
// judged where it stands; and as the kernel resolves it.
func (l *Lock) squatRule(dir string, info fsys.Info) error {
	if euid < 0 || l.cfg.openDir || l.cfg.fs != (fsys.OS{}) {
		return nil
	}
	key := squatKey{dir, info.ID, info.Uid}
	if _, ok := unsquatted.Load(key); ok {
		return nil
	}
	written, err := l.cfg.fs.Lstat(dir)
	if err != nil {
		return err
	}
	if err := l.squatWalk(dir, dir, written, l.cfg.fs.Lstat); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if err := l.squatWalk(dir, real, info, l.cfg.fs.Stat); err != nil {
		return err
	}
	if squatWalkedHook != nil {
		squatWalkedHook(real)
	}
	if now, err := l.cfg.fs.Stat(real); err != nil || now.ID != info.ID {
		// Moved or replaced while it was judged: what was judged may not
		// be what the lock uses.
		return unsafeDir(dir, "the lock's directory changed while it was judged")
	}
	if unsquattedCount.Add(1) > maxUnsquatted {
		unsquatted.Clear()
		unsquattedCount.Store(1)
	}
	unsquatted.Store(key, struct{}{})
	return nil
}

// squatWalk applies squatRule's test to the way up from p, which info
// describes, looking at each directory above with stat; dir is the lock's
// directory, which an error names.
func (l *Lock) squatWalk(dir, p string, info fsys.Info, stat func(string) (fsys.Info, error)) error {
	squatter := -1 // the owner of the highest step of another user yet
	if !trustedUser(info.Uid) {
		squatter = int(info.Uid)
	}
	for ; dirOf(p) != p; p = dirOf(p) {
		up, err := stat(dirOf(p))
		if err != nil {
			return err
		}
		openToAll := up.Mode.Perm()&0o002 != 0
		sticky := openToAll && up.Mode&fs.ModeSticky != 0
		if sticky && squatter >= 0 {
			return unsafeDir(dir, "user %d owns a directory or link on the way to the lock in %s, which all users may write: anyone could have made it, and its owner may move the lock file away while it is held (WithDirectoryWritableByAll trusts every user who may write %s)", squatter, dirOf(p), dirOf(p))
		}
		if sticky || trustedUser(up.Uid) && !openToAll {
			return nil // only trusted users could have made what is below
		}
		if !trustedUser(up.Uid) {
			squatter = int(up.Uid)
		}
	}
	return nil
}
