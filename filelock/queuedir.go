package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/lockstress/lockstress/internal/fsys"
)

// The queue directory, open (docs/design.md, "The directory").
//
// A queue works in its directory through a descriptor of it (fsys.Dir),
// opened without following a symbolic link and judged by its fstat
// (judgeQueueDir): tickets and the turn marker are made, read, touched and
// removed relative to it, and it is listed through it, so that the
// directory judged is the directory used. Someone who may write the lock's
// directory can still move the queue aside and put a symbolic link to a
// directory of their choice in its place; a waiter that opened the queue
// before goes on in the directory it opened, which is still the lock
// users' own, and nothing is made, read or removed in theirs. Newcomers
// find the link and refuse it.
//
// An acquisition that queues keeps the directory open from its enqueue to
// its leave, through the wait and the hold; a TryLock of a fair handle and
// a tidy open it for the call (visit). What stays by path: the
// directory's creation (mkdir, which never follows a symbolic link, and
// the directory made is opened and judged before a ticket is made in it),
// its removal when empty (rmdir, which never follows one either and
// removes only an empty directory that stands in the lock's directory,
// where whoever put it could remove it as well), the cheap look of a
// default acquisition (queue.look), and the watch of the ticket ahead,
// which only wakes. Where the FS cannot open directories (memfs, Windows)
// the Dir works by path, as the queue always did there.

// queueDirCheckedHook, for tests, runs when the open queue directory has
// been judged safe (checkDir), with its path.
var queueDirCheckedHook func(dir string)

// vanished reports whether err says that a file of the open queue
// directory, or the directory itself, is gone: not there, or (NFS) removed
// by another host while open here (ESTALE).
func vanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESTALE)
}

// openDir opens the queue directory and judges it, creating it first if
// create is set and setting *made when it did; without create, a queue
// that does not exist leaves the queue without a directory (q.d nil).
func (q *queue) openDir(create bool, made *bool) error {
	perm := q.l.cfg.perm
	madeHere := false
	for attempt := 1; ; attempt++ {
		d, err := fsys.OpenDir(q.fs, q.dir)
		if err == nil {
			q.setDir(d)
			if madeHere {
				// Made by this waiter: the umask may have narrowed its
				// mode, and the waiters of other users (or the group)
				// must make tickets in it.
				if _, err := fsys.SetPerm(d, queueDirPerm(perm)); err != nil {
					q.closeDir()
					return fmt.Errorf("fair queue: %w", err)
				}
			}
			if _, err := q.checkDir(); err != nil {
				q.closeDir()
				return err
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return q.unopenable(err)
		}
		if !create {
			return nil
		}
		// The directory may be searched by whoever may read the lock, and
		// written by no one but the lock's users (judgeQueueDir). Mkdir
		// fails with ErrExist if another waiter (or anyone) made it since
		// it was found missing: then it is not made here, and is neither
		// given this lock's mode nor removed by this waiter.
		err = q.fs.Mkdir(q.dir, queueDirPerm(perm))
		if err != nil && (!errors.Is(err, fs.ErrExist) || attempt >= maxEnqueueAttempts) {
			return fmt.Errorf("fair queue: %w", err)
		}
		madeHere = err == nil
		*made = *made || madeHere
	}
}

// queueDirPerm is the permission of a queue directory for locks of
// permission perm: searchable by whoever may read the lock, writable by no
// one but those who may write it, and never by all.
func queueDirPerm(perm fs.FileMode) fs.FileMode {
	return (perm | (perm&0o444)>>2) &^ 0o002
}

// unopenable is the error of a queue directory that could not be opened
// for err: that of what stands there if it is not a safe directory (a
// symbolic link, a file), else err.
func (q *queue) unopenable(err error) error {
	if cerr := q.checkQueueDir(); errors.Is(cerr, ErrUnsafeDirectory) {
		return cerr
	}
	return fmt.Errorf("fair queue: %w", err)
}

// checkDir judges the open queue directory (judgeQueueDir): through a
// descriptor, the directory the queue works in; by path, whatever is there
// now. It reports false, by path, if nothing is there.
func (q *queue) checkDir() (bool, error) {
	info, err := q.d.Stat()
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("fair queue: %w", err)
	}
	if err := q.judgeQueueDir(info); err != nil {
		return false, err
	}
	if queueDirCheckedHook != nil {
		queueDirCheckedHook(q.dir)
	}
	return true, nil
}

// setDir makes d the queue's open directory.
func (q *queue) setDir(d fsys.Dir) {
	q.mu.Lock()
	q.d = d
	q.mu.Unlock()
}

// closeDir closes the queue's open directory, if it has one.
func (q *queue) closeDir() {
	q.mu.Lock()
	d := q.d
	q.d = nil
	q.mu.Unlock()
	if d != nil {
		d.Close()
	}
}

// visit runs fn with the queue directory open for the call, for a look at
// a queue this acquisition has no ticket in (a TryLock, a tidy); fn is not
// run if there is no queue. A directory already open serves as it is.
func (q *queue) visit(fn func() error) error {
	if q.d != nil {
		return fn()
	}
	if err := q.openDir(false, nil); err != nil || q.d == nil {
		return err
	}
	defer q.closeDir()
	return fn()
}
