package filelock

import (
	"errors"

	"github.com/lockstress/lockstress/internal/fsys"
)

// tryKept is try for a waiter that keeps its descriptor of the lock file
// open between attempts (see wakeup). *kept is the descriptor of the last
// busy attempt, or nil; it is reused while the path still names its file.
// On success the descriptor passes to the held lock and *kept is nil; when
// busy the descriptor stays in *kept; on any other error it is closed.
// With inKernel the attempt waits for the lock in the kernel; it is then
// busy only if the path was found to name another file once locked.
func (m osMechanism) tryKept(l *Lock, kept *fsys.OSFile, inKernel bool) (held, error) {
	f := *kept
	*kept = nil
	if f != nil {
		now, err := (fsys.OS{}).Lstat(l.path)
		was, ferr := f.Stat()
		if err != nil || ferr != nil || now.ID != was.ID || !now.Mode.IsRegular() {
			// Removed or replaced since: start again from the path.
			f.Close()
			f = nil
		}
	}
	if f == nil {
		if info, err := (fsys.OS{}).Lstat(l.path); err == nil && !info.Mode.IsRegular() {
			return nil, notRegular(info.Mode)
		}
		var err error
		if f, err = fsys.OpenLockFile(l.path, l.cfg.perm); err != nil {
			return nil, err
		}
	}
	h, err := m.lockOpen(l, f, inKernel)
	switch {
	case err == nil:
		return h, nil
	case errors.Is(err, errBusy):
		*kept = f
		return nil, err
	}
	return nil, errors.Join(err, f.Close())
}
