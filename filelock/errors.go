package filelock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
)

// Sentinel errors. Every error returned by this package for a lock path is
// an *fs.PathError (Op names the operation, Path the lock path) whose Err
// matches one of these with errors.Is, or the operating system's error.
var (
	// ErrTimeout reports that a bounded wait ended before the lock was
	// acquired. When a context deadline (or WithTimeout) caused it, the
	// error also matches context.DeadlineExceeded.
	ErrTimeout = errors.New("timed out waiting for the lock")

	// ErrWouldBlock reports that TryLock found the lock held by another
	// owner: another process, or another handle in this process.
	ErrWouldBlock = errors.New("lock is held by another owner")

	// ErrNotLocked reports an Unlock of a handle that does not hold the lock.
	ErrNotLocked = errors.New("lock is not held by this handle")

	// ErrLockLost reports that a lock this handle held was taken away: its
	// file was removed or replaced (for example broken as stale) while held.
	ErrLockLost = errors.New("lock was lost while held")

	// ErrInvalidPath reports a lock path that can never name a lock file:
	// empty, containing a NUL byte, or naming a directory by its form.
	ErrInvalidPath = errors.New("invalid lock path")

	// ErrNotRegular reports that the lock path exists but is not a regular
	// file: a directory, symbolic link, FIFO, socket or device. Such a path
	// is never followed or opened.
	ErrNotRegular = errors.New("lock path exists and is not a regular file")

	// ErrHardLinked reports that an OS or OFD lock file has more than one
	// link: another name of it may be anyone's data, so it is neither
	// locked nor written.
	ErrHardLinked = errors.New("lock file has more than one link")

	// ErrUnsafeDirectory reports a directory the lock would use (its
	// parent directory, one WithCreateDirs would make it in, or the fair
	// queue) that another user could change under it: another user's
	// symbolic link in its place, a directory that all users may write
	// without the sticky bit (see WithDirectoryWritableByAll), a fair
	// queue that users other than the lock's may write or own, an OS or
	// OFD lock file of another user in a sticky directory that all users
	// may write, which that user may remove while it is held, or a lock
	// directory of another user in such a directory, which anyone could
	// have made first.
	ErrUnsafeDirectory = errors.New("directory is not safe for the lock")

	// ErrMixedStrategies reports a lock taken some other way than this
	// handle's strategy: a Soft or Link lock file held with a kernel lock
	// (the os or ofd strategy, or another program's flock or fcntl lock),
	// or a kernel lock on a file that holds the record of a live holder
	// of another strategy. Strategies of different families, and on Linux
	// os and ofd, do not see each other's locks; the detection is
	// best-effort, and one strategy per path is the rule.
	ErrMixedStrategies = errors.New("lock file is held with a kernel lock (the os or ofd strategy); strategies of both families are used on one path")

	// ErrInvalidOption reports an option value that New rejects.
	ErrInvalidOption = errors.New("invalid lock option")

	// ErrBadRecord reports a holder record that cannot be parsed.
	ErrBadRecord = errors.New("malformed holder record")

	// ErrUnsupported reports a strategy or mode that this platform or
	// strategy does not provide. It wraps, and so matches,
	// errors.ErrUnsupported.
	ErrUnsupported = fmt.Errorf("not supported by this strategy on this platform (%w)", errors.ErrUnsupported)
)

// timeoutError is ErrTimeout with the context error that caused it.
type timeoutError struct{ cause error }

func (e *timeoutError) Error() string        { return ErrTimeout.Error() + ": " + e.cause.Error() }
func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }
func (e *timeoutError) Unwrap() error        { return e.cause }

// errBusy is what one attempt returns when another owner holds the lock.
var errBusy = errors.New("busy")

// pathError returns err as a *fs.PathError of op on path: err itself if it
// is one for path; otherwise err wrapped, the parts of a joined error that
// are path errors for path giving their causes, so that the path is named
// once.
func pathError(op, path string, err error) error {
	if pe, ok := err.(*fs.PathError); ok && pe.Path == path {
		return err
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts := slices.Clone(j.Unwrap())
		for i, e := range parts {
			if pe, ok := e.(*fs.PathError); ok && pe.Path == path {
				parts[i] = pe.Err
			}
		}
		err = errors.Join(parts...)
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// waitError turns the end of a context into the error a caller sees: a
// deadline is ErrTimeout (and context.DeadlineExceeded), a cancellation is
// context.Canceled.
func waitError(ctx context.Context, op, path string) error {
	err := context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = &timeoutError{cause: err}
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// holdKept is the error of a release that failed while the lock file is
// still the holder's: the handle keeps holding the lock, and Unlock may be
// retried.
type holdKept struct{ err error }

func (e *holdKept) Error() string {
	return e.err.Error() + " (the lock is still held; Unlock may be retried)"
}
func (e *holdKept) Unwrap() error { return e.err }
