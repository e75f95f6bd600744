package filelock

// The OS and OFD strategies: a kernel lock on a lock file that is kept.
// The file is opened, locked without waiting, checked to be still the one
// the path names, and given the holder record.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"syscall"

	"github.com/lockstress/lockstress/internal/fsys"
)

// osLocker is one kernel locking mechanism on an open file.
type osLocker interface {
	// lock takes the lock without waiting; errBusy if another owner has it.
	lock(fd uintptr, shared bool) error
	// unlock releases the lock.
	unlock(fd uintptr) error
	// probe reports whether any owner holds the lock, without keeping it.
	probe(fd uintptr) (bool, error)
	// readOnlyLocks reports whether the lock (shared or not) can be taken
	// on a descriptor open for reading only.
	readOnlyLocks(shared bool) bool
}

// kernelWaiter is an osLocker that can wait for its lock in the kernel.
type kernelWaiter interface {
	// lockWait takes the lock, waiting for as long as it takes: it cannot
	// be cancelled.
	lockWait(fd uintptr, shared bool) error
}

// supported reports whether this platform provides strategy s: the
// file-based strategies everywhere, a kernel strategy where lockerFor
// (one definition per platform, selected by build constraints) has it.
func supported(s Strategy) bool {
	if s.fileBased() {
		return true
	}
	_, ok := lockerFor(s)
	return ok
}

// osMechanism is the OS and OFD strategies: a kernel lock on a lock file
// that is never removed.
type osMechanism struct{ locker osLocker }

type osHeld struct {
	locker osLocker
	f      fsys.OSFile
	path   string
	id     fsys.FileID
	shared bool
	// record is the holder record written into the file, nil if none
	// (a shared holder, or a file holding what is not a record of ours).
	record []byte
}

func (m osMechanism) try(_ context.Context, l *Lock, _ bool) (held, error) {
	// Never open what is not a regular file: opening a device or FIFO can
	// block or have side effects.
	if info, err := (fsys.OS{}).Lstat(l.path); err == nil && !info.Mode.IsRegular() {
		return nil, notRegular(info.Mode)
	}
	f, err := m.openLockFile(l)
	if err != nil {
		return nil, err
	}
	h, err := m.lockOpen(l, f)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return h, nil
}

// readOnlyFile is a lock file that this user may only read, opened
// read-only: its holder writes no record into it.
type readOnlyFile struct{ fsys.OSFile }

// openLockFile opens the lock file for reading and writing, creating it if
// it is missing. A lock file that exists but that this user may only read,
// or that is on a read-only filesystem, is opened read-only, as other
// users of flock do, where the locker can lock such a descriptor; where it
// cannot (an exclusive OFD lock) the error says so.
func (m osMechanism) openLockFile(l *Lock) (fsys.OSFile, error) {
	f, err := fsys.OpenLockFile(l.path, l.cfg.perm)
	if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.EROFS) {
		return f, err
	}
	rf, rerr := fsys.OpenReadOnly(l.path)
	if rerr != nil {
		return nil, err
	}
	if !m.locker.readOnlyLocks(l.cfg.shared) {
		rf.Close()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &fs.PathError{Op: "open", Path: l.path, Err: fmt.Errorf(
			"%w (an exclusive %v lock needs write access to the lock file)", err, l.cfg.strategy)}
	}
	return readOnlyFile{rf}, nil
}

// lockOpen locks the lock file f, opened from the lock's path, without
// waiting: errBusy if the lock is held.
func (m osMechanism) lockOpen(l *Lock, f fsys.OSFile) (held, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode.IsRegular() {
		return nil, notRegular(info.Mode)
	}
	if info.Nlink > 1 {
		// Another name of the file may be anyone's data: never lock it,
		// never write into it.
		return nil, hardLinked(info.Nlink)
	}
	if err := l.ownerRule(info); err != nil {
		return nil, err
	}
	if err := m.locker.lock(f.Fd(), l.cfg.shared); err != nil {
		return nil, err
	}
	h := &osHeld{locker: m.locker, f: f, path: l.path, id: info.ID, shared: l.cfg.shared}
	// The lock is on the file we opened; make sure the path still names it.
	// If the file was removed or replaced in between, the lock excludes
	// nobody: give it up and try again.
	now, err := (fsys.OS{}).Lstat(l.path)
	if err != nil || now.ID != info.ID {
		uerr := m.locker.unlock(f.Fd())
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, errors.Join(err, uerr)
		}
		return nil, errors.Join(errBusy, uerr)
	}
	if !h.shared {
		if err := h.takeRecord(l, lookedSize(now)); err != nil {
			return nil, errors.Join(err, m.locker.unlock(f.Fd()))
		}
	}
	return h, nil
}

// takeRecord makes the exclusive holding of the locked file, of size
// bytes (-1: unknown, then asked of the file), its own: it writes the
// holder record into it, if it holds nothing or a record of ours; anything
// else is another program's content, which is locked as it is and never
// written over. A holder that opened it read-only writes nothing, but, as
// every holder, refuses a live holder's record (liveRecord: another
// strategy's holder). On a full disk the file is left empty, and the lock
// is held without a record. The size must be looked at once locked: the
// previous holder may have written the file until then.
func (h *osHeld) takeRecord(l *Lock, size int64) error {
	if size < 0 {
		info, err := h.f.Stat()
		if err != nil {
			return err
		}
		size = info.Size
	}
	if size > 0 {
		if size > MaxRecordSize {
			return nil
		}
		old, err := readAtMost(h.f, MaxRecordSize+1)
		if err != nil {
			return err
		}
		r, err := ParseRecord(old)
		if len(old) > 0 && err != nil {
			return nil
		}
		if err == nil {
			if err := l.liveRecord(r); err != nil {
				return err
			}
		}
	}
	if _, readOnly := h.f.(readOnlyFile); readOnly {
		return nil
	}
	data, err := l.newRecord()
	if err == nil && size > 0 {
		// An empty file, as every release of ours leaves it, needs no
		// truncation: one write of the record is enough.
		err = h.f.Truncate(0)
	}
	if err == nil {
		_, err = h.f.WriteAt(data, 0)
	}
	if noSpace(err) {
		// The kernel's lock needs no space: hold it without a record, as
		// a read-only holder does, leaving the file empty.
		return h.f.Truncate(0)
	}
	if err == nil {
		h.record = data
	}
	return err
}

// readAtMost reads the first n bytes of f, fewer if it is shorter.
func readAtMost(f io.ReaderAt, n int) ([]byte, error) {
	b := make([]byte, n)
	got, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:got], nil
}

// hardLinked is the error for a lock file with other names.
func hardLinked(n uint64) error {
	return fmt.Errorf("%w: it has %d links", ErrHardLinked, n)
}

// lost never fires: a kernel lock is not taken away while held.
func (h *osHeld) lost() <-chan struct{} { return nil }

// release empties the file if it still holds this holder's record, then
// unlocks and closes it. If the path no longer names the locked file
// (removed or replaced while held, by something outside this package),
// the lock excluded nobody who came by the path since: it reports
// ErrLockLost.
func (h *osHeld) release() error {
	size, lost := h.lostErr()
	var errs []error
	if lost == nil && h.record != nil {
		if ours, err := h.holdsOwnRecord(size); err != nil {
			errs = append(errs, err)
		} else if ours {
			errs = append(errs, h.f.Truncate(0))
		}
	}
	errs = append(errs, h.locker.unlock(h.f.Fd()), h.f.Close())
	return errors.Join(append([]error{lost}, errs...)...)
}

// holdsOwnRecord reports whether the locked file holds this holder's
// record and nothing else. size is the file's size if known, else -1: a
// file of the record's size is read in one call, where a read of unknown
// length needs a second one to find the end.
func (h *osHeld) holdsOwnRecord(size int64) (bool, error) {
	if size >= 0 && size != int64(len(h.record)) {
		return false, nil
	}
	n := len(h.record)
	if size < 0 {
		n++ // a byte more shows whether anything follows the record
	}
	now, err := readAtMost(h.f, n)
	if err != nil {
		return false, err
	}
	return string(now) == string(h.record), nil
}

// lookedSize is the size of a file that info, a look at its path, gives:
// as its descriptor would on Unix systems, where both read the one inode;
// unknown (-1) on Windows, where a look by path may be answered from a
// network redirector's cache of a few seconds.
func lookedSize(info fsys.Info) int64 {
	if runtime.GOOS == "windows" {
		return -1
	}
	return info.Size
}

// lostErr returns ErrLockLost if the lock path names another file or
// nothing, or cannot be looked at and the locked file has no name left;
// otherwise a nil error and the file's size where the path still names it,
// -1 where it could not be looked at. A path that still names the locked
// file answers both at once; the file's own link count is asked only when
// the path cannot be looked at.
func (h *osHeld) lostErr() (int64, error) {
	now, err := (fsys.OS{}).Lstat(h.path)
	switch {
	case err == nil && sameFile(now.ID, h.id):
		return lookedSize(now), nil
	case err == nil || errors.Is(err, fs.ErrNotExist):
		return 0, ErrLockLost
	}
	if info, err := h.f.Stat(); err == nil && info.Nlink == 0 {
		return 0, ErrLockLost
	}
	return -1, nil
}
