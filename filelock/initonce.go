package filelock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/lockstress/lockstress/internal/fsys"
)

// ErrInitFailed reports that the function given to AtomicInit failed; the
// error also wraps the function's own error.
var ErrInitFailed = errors.New("initialization failed")

// InitLockSuffix is appended to the marker path of AtomicInit to name its
// lock file.
const InitLockSuffix = ".lock"

// AtomicInit runs fn exactly once across all processes that call it with
// the same marker path, and reports whether this call ran it.
//
// The marker is a permanent file that records that fn has succeeded: it
// holds a holder record. If it exists, AtomicInit returns (false, nil) at
// once without waiting for any lock (it only removes, with a TryLock, a
// lock file that an initializer killed after its marker was in place left
// behind, where that holder is known dead); a file at the marker path without a
// record, or with other names (hard links), is not a marker (fn runs, and
// the marker replaces it). In a
// directory that all users may write with the sticky bit (as /tmp), only a
// marker of this user or root counts (unless WithDirectoryWritableByAll
// trusts everyone who may write there): another user's file at the marker
// path, which that user could have forged, fails with ErrUnsafeDirectory
// before fn runs, since it can neither be trusted nor replaced. The
// marker's directory must pass the lock's directory rules before a marker
// in it is trusted (a directory another user made in /tmp fails with
// ErrUnsafeDirectory).
// Otherwise it takes the lock marker+InitLockSuffix (configured by opts,
// default Soft), looks for the marker again, and if it is still missing
// runs fn and then writes the marker atomically: a temporary file with the
// holder record, fsync, rename onto the marker, fsync of the directory.
// Callers that wait while another runs fn return (false, nil) once it has
// succeeded.
//
// If fn fails, no marker is written, the lock is released, and the error
// matches ErrInitFailed and fn's error; the next caller runs fn again. If
// the process running fn is killed, the next caller takes the lock over by
// the stale rule (at once on the same Linux host, where a dead holder can
// be recognised; otherwise after the stale-after age, once a waiting
// caller has watched it for three fifths of that age) and runs fn. fn
// should therefore be safe to run again after a partial run. The lock file
// is removed when released (Soft and Link) and the marker is never removed.
//
// If fn's process is stopped for longer than the stale-after age less one
// heartbeat interval (see Lock.Lost), the lock may be broken and another
// caller may run fn too; the call that lost the lock then returns (true,
// err) with err matching ErrLockLost. Give fn a stale-after age well above
// its longest pause.
func AtomicInit(marker string, fn func() error, opts ...Option) (ran bool, err error) {
	return AtomicInitContext(context.Background(), marker, func(context.Context) error { return fn() }, opts...)
}

// AtomicInitContext is AtomicInit with a context: waiting for the lock ends
// when ctx is done (ErrTimeout and context.DeadlineExceeded, or
// context.Canceled), and fn is given ctx. Every error is an *fs.PathError
// naming the marker; one of its lock says so inside.
func AtomicInitContext(ctx context.Context, marker string, fn func(context.Context) error, opts ...Option) (ran bool, err error) {
	l, err := New(marker+InitLockSuffix, opts...)
	if err != nil {
		return false, pathError("init", marker, err)
	}
	if err := checkPath(marker); err != nil {
		return false, &fs.PathError{Op: "init", Path: marker, Err: err}
	}
	if done, err := markerExists(l, marker); done || err != nil {
		if done {
			l.clearDeadLock()
		}
		return false, err
	}
	if err := l.LockContext(ctx); err != nil {
		return false, pathError("init", marker, err)
	}
	defer func() {
		if uerr := l.Unlock(); uerr != nil && err == nil {
			err = pathError("init", marker, uerr)
		}
	}()
	if done, err := markerExists(l, marker); done || err != nil {
		return false, err
	}
	l.removeTemps(marker)
	if err := fn(ctx); err != nil {
		return false, &fs.PathError{Op: "init", Path: marker, Err: fmt.Errorf("%w: %w", ErrInitFailed, err)}
	}
	if err := writeMarker(l, marker); err != nil {
		// fn ran; the marker may or may not be in place (only its
		// directory's fsync may have failed).
		return true, &fs.PathError{Op: "init", Path: marker, Err: fmt.Errorf("writing the marker after a successful initialization: %w", err)}
	}
	return true, nil
}

// markerExists reports whether the marker is there: a regular file holding
// a holder record, which only writeMarker puts there, after fn succeeded.
// Anything at the path that is not a regular file is an error; a regular
// file without a record (empty, or anyone's) is not a marker, and is
// replaced when fn has run. The marker's directory is judged first by the
// lock's directory rules, and in a sticky one writable by all (unless
// WithDirectoryWritableByAll trusts everyone who may write it), another
// user's file is an error (see AtomicInit).
func markerExists(l *Lock, marker string) (bool, error) {
	dir := dirOf(marker)
	dinfo, link, err := l.statDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // made with the lock, if WithCreateDirs
	}
	if err == nil {
		// The rules the lock applies to its directory (the same one),
		// before the marker found in it is trusted without the lock.
		err = l.dirRules(dir, dinfo, link)
	}
	if err != nil {
		return false, pathError("init", marker, err)
	}
	info, err := l.cfg.fs.Lstat(marker)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, pathError("init", marker, err)
	case !info.Mode.IsRegular():
		return false, &fs.PathError{Op: "init", Path: marker, Err: notRegular(info.Mode)}
	case info.Nlink != 1:
		// Another name of a file proves nothing here (another marker, a
		// lock file of ours): not a marker, replaced once fn has run.
		return false, nil
	case euid >= 0 && dinfo.Mode&fs.ModeSticky != 0 && dinfo.Mode.Perm()&0o002 != 0 && !l.cfg.openDir && !trustedUser(info.Uid):
		return false, &fs.PathError{Op: "init", Path: marker, Err: fmt.Errorf(
			"%w: the marker path holds a file of user %d in a directory that all users may write, which may be forged and cannot be replaced", ErrUnsafeDirectory, info.Uid)}
	}
	data, _, err := readRecordFile(l.cfg.fs, marker)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, pathError("init", marker, err)
	}
	_, err = ParseRecord(data)
	return err == nil, nil
}

// clearDeadLock removes the lock file that an initializer killed after
// its marker was in place left behind, once the stale rule lets a TryLock
// take it (at once if its holder is known dead): a lock file no later
// call would ever take again. A lock held is left as it is; so is a kernel
// strategy's, whose file is never removed. A release that keeps the hold
// (an I/O error removing the file) is made again, a few times.
func (l *Lock) clearDeadLock() {
	if !l.cfg.strategy.fileBased() {
		return
	}
	if _, err := l.cfg.fs.Lstat(l.path); err != nil {
		return
	}
	if l.TryLock() != nil {
		return
	}
	for range 3 {
		if l.Unlock() == nil || l.Depth() == 0 {
			return
		}
	}
}

// writeMarker writes the marker atomically and durably.
func writeMarker(l *Lock, marker string) error {
	fsy := l.cfg.fs
	data, err := l.newRecord()
	if err != nil {
		return err
	}
	tmp := tempName(marker, kindTemp)
	f, err := fsy.CreateExcl(tmp, l.cfg.perm)
	if err != nil {
		return err
	}
	_, err = fsys.SetPerm(f, l.cfg.perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsy.Rename(tmp, marker)
	}
	if err != nil {
		return errors.Join(err, fsy.Remove(tmp))
	}
	return fsy.SyncDir(dirOf(marker))
}

// removeTemps removes temporary markers left by an initializer of this
// user that was killed before renaming its marker into place. Only the
// lock holder makes them, so while the lock is held any that exist are
// debris; but only a name of their exact form, on a regular file of this
// user with no other name, is one: anything else is another's.
func (l *Lock) removeTemps(marker string) {
	dir, base := dirOf(marker), filepath.Base(marker)
	names, err := l.cfg.fs.ReadDirNames(dir)
	if err != nil {
		return
	}
	prefix := base + "." + kindTemp + "."
	for _, name := range names {
		unique, ok := strings.CutPrefix(name, prefix)
		if !ok || len(unique) != 16 || !hexDigits(unique) {
			continue
		}
		p := besideDir(dir, name)
		info, err := l.cfg.fs.Lstat(p)
		if err == nil && info.Mode.IsRegular() && info.Nlink == 1 && (euid < 0 || int(info.Uid) == euid) {
			l.cfg.fs.Remove(p)
		}
	}
}
