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

// trustedUser reports whether uid is this process's user or root.
func trustedUser(uid uint32) bool {
	return euid < 0 || uid == uint32(euid) || uid == 0
}

// checkQueueDir looks at the fair queue by path, without following a
// symbolic link, and judges it (judgeQueueDir); a queue that does not
// exist is fine.
func (q *queue) checkQueueDir() error {
	info, err := q.fs.Lstat(q.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fair queue: %w", err)
	}
	return q.judgeQueueDir(info)
}

// judgeQueueDir checks that info, the fair queue's description without
// following a symbolic link (an lstat, or the fstat of its descriptor),
// is of a real directory that only the users who share the lock may
// change: owned by this user, root or the owner of the lock's directory
// (who could replace anything in it anyway) or, for a lock shared with its
// group (a permission with group write), by anyone: its group cannot
// prove its maker a member (docs/design.md, "What another user can still
// do"), and writable by no one else (unless WithDirectoryWritableByAll).
func (q *queue) judgeQueueDir(info fsys.Info) error {
	if !info.Mode.IsDir() {
		return unsafeDir(q.dir, "the fair queue is not a directory (%v)", info.Mode.Type())
	}
	if euid < 0 {
		return nil
	}
	group := q.l.cfg.perm&0o020 != 0
	// WithDirectoryWritableByAll accepts write for others here too: where
	// every directory shows it, so does the queue.
	if info.Mode.Perm()&0o002 != 0 && !q.l.cfg.openDir {
		return unsafeDir(q.dir, "the fair queue is writable by all users (mode %v)", info.Mode.Perm())
	}
	if info.Mode.Perm()&0o020 != 0 && !group && !q.l.cfg.openDir {
		return unsafeDir(q.dir, "the fair queue is writable by its group (mode %v), and the lock is not shared with a group (permission %v)", info.Mode.Perm(), q.l.cfg.perm)
	}
	if !group {
		parent, err := q.fs.Lstat(dirOf(q.dir))
		if err != nil {
			return fmt.Errorf("fair queue: %w", err)
		}
		if !trustedUser(info.Uid) && info.Uid != parent.Uid {
			return unsafeDir(q.dir, "the fair queue is owned by user %d, neither this user, root, nor the owner of the lock's directory", info.Uid)
		}
	}
	return nil
}

// ownerRule refuses an os or ofd lock file, which info describes as
// opened, that another user than this one, root or the owner of the lock's
// directory owns in a directory that all users may write (unless
// WithDirectoryWritableByAll). Its owner, who may be anyone, may rename
// or remove it while it is held, and a second process would then take the
// lock on a new file at its path. Such a directory is sticky (checkParent
// refuses others), which keeps everyone but a file's owner from doing so,
// and a lock file this user made is its own.
func (l *Lock) ownerRule(info fsys.Info) error {
	d := l.dir
	if euid < 0 || l.cfg.openDir || d.Mode.Perm()&0o002 == 0 || trustedUser(info.Uid) || info.Uid == d.Uid {
		return nil
	}
	return fmt.Errorf("%w: the lock file is user %d's, in a directory that all users may write, so that user may remove it while it is held and let a second process take the lock (WithDirectoryWritableByAll trusts every user who may write the directory)",
		ErrUnsafeDirectory, info.Uid)
}

// unsafeDir is ErrUnsafeDirectory naming dir, with why.
func unsafeDir(dir, format string, args ...any) error {
	return &fs.PathError{Op: "check", Path: dir, Err: fmt.Errorf("%w: "+format, append([]any{ErrUnsafeDirectory}, args...)...)}
}

// checkWay refuses a directory on the way to dir that is a symbolic link
// owned by another user than this one or root: with WithCreateDirs the
// directories would be made where that user chose.
func (l *Lock) checkWay(dir string) error {
	for p := dirOf(dir); p != dirOf(p); p = dirOf(p) {
		if info, err := l.cfg.fs.Lstat(p); err == nil {
			if err := linkRule(p, info); err != nil {
				return err
			}
		}
	}
	return nil
}

// makeDirs makes dir and its missing parents (WithCreateDirs) without write
// for others, if the directory they are made in, the deepest one on the way
// that exists (with links followed, as MkdirAll follows them), passes the
// open-to-all rule: anyone could move a directory made in one aside and
// make their own in its place. The steps made are judged again once made,
// since another user may have made one of them first.
func (l *Lock) makeDirs(dir string) error {
	base := dir
	for {
		info, err := l.cfg.fs.Stat(base)
		if err == nil {
			if base == dir {
				return nil
			}
			if err := l.openToAllRule(base, info, "the directory in which the lock's directories are to be made"); err != nil {
				return err
			}
			if err := l.squatRule(base, info); err != nil {
				return err
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || dirOf(base) == base {
			break // MkdirAll says what is wrong
		}
		base = dirOf(base)
	}
	if err := l.cfg.fs.MkdirAll(dir, l.cfg.dirPerm&^0o002); err != nil {
		return fmt.Errorf("creating parent directory: %w", err)
	}
	for p := dirOf(dir); len(p) > len(base); p = dirOf(p) {
		info, err := l.cfg.fs.Lstat(p)
		if err != nil {
			return err
		}
		if err := linkRule(p, info); err != nil {
			return err
		}
		if err := l.openToAllRule(p, info, "a directory on the way to the lock"); err != nil {
			return err
		}
	}
	return nil
}

// openToAllRule refuses dir, which info describes, if all users may write
// it without the sticky bit, unless WithDirectoryWritableByAll. Where
// there are no user IDs (Windows) modes say nothing of other users.
func (l *Lock) openToAllRule(dir string, info fsys.Info, what string) error {
	if euid < 0 || l.cfg.openDir || info.Mode.Perm()&0o002 == 0 || info.Mode&fs.ModeSticky != 0 {
		return nil
	}
	return unsafeDir(dir, "%s (owner %d, mode %v) is writable by all users without the sticky bit, so anyone may remove or replace the lock file (WithDirectoryWritableByAll accepts it)", what, info.Uid, info.Mode.Perm())
}

// statDir describes the lock's directory dir following symbolic links
// (info), and as lstat does (link), which checkParent's link rule reads.
// A dir that is no link costs one lstat, where the link rule applies.
func (l *Lock) statDir(dir string) (info, link fsys.Info, err error) {
	if euid < 0 {
		info, err = l.cfg.fs.Stat(dir)
		return info, info, err
	}
	link, err = l.cfg.fs.Lstat(dir)
	if err != nil || link.Mode&fs.ModeSymlink == 0 {
		return link, link, err
	}
	info, err = l.cfg.fs.Stat(dir)
	return info, link, err
}

// dirRules applies every rule of the lock's directory to dir, which info
// describes (link: the symbolic link there, if any): the way to it, its
// own permissions, and the squatting rule.
func (l *Lock) dirRules(dir string, info, link fsys.Info) error {
	if dir != filepath.Clean(dir) {
		// "link/.." is no symbolic link to the kernel, but link is on
		// the way: look at every directory the path names.
		if err := l.checkWay(dir); err != nil {
			return err
		}
	}
	if err := l.checkParent(dir, info, link); err != nil {
		return err
	}
	return l.squatRule(dir, info)
}

// checkParent applies the parent-directory rule (docs/design.md) to the
// lock's directory dir, which info describes following links and link as
// lstat does (statDir): it refuses a dir that is a symbolic link owned by
// another user than this one or root, and one that all users may write
// without the sticky bit, whoever owns it (openToAllRule).
func (l *Lock) checkParent(dir string, info, link fsys.Info) error {
	if euid < 0 {
		return nil
	}
	if err := linkRule(dir, link); err != nil {
		return err
	}
	return l.openToAllRule(dir, info, "the lock's directory")
}

// linkRule refuses p, which info describes as lstat does, if it is a
// symbolic link owned by another user than this one or root.
func linkRule(p string, info fsys.Info) error {
	if info.Mode&fs.ModeSymlink == 0 || trustedUser(info.Uid) {
		return nil
	}
	return unsafeDir(p, "a symbolic link owned by user %d stands on the way to the lock", info.Uid)
}
