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
func (m osMechanism) tryKept(l *Lock, kept *fsys.OSFile) (held, error) {
	f, err := m.openKept(l, kept)
	if err != nil {
		return nil, err
	}
	h, err := m.lockOpen(l, f)
	switch {
	case err == nil:
		return h, nil
	case errors.Is(err, errBusy):
		*kept = f
		return nil, err
	}
	return nil, errors.Join(err, f.Close())
}

// openKept returns *kept if the path still names its file, or else the
// lock file opened anew; *kept is nil afterwards.
func (m osMechanism) openKept(l *Lock, kept *fsys.OSFile) (fsys.OSFile, error) {
	f := *kept
	*kept = nil
	if f != nil {
		now, err := (fsys.OS{}).Lstat(l.path)
		was, ferr := f.Stat()
		if err == nil && ferr == nil && now.ID == was.ID && now.Mode.IsRegular() {
			return f, nil
		}
		// Removed or replaced since: start again from the path.
		f.Close()
	}
	if info, err := (fsys.OS{}).Lstat(l.path); err == nil && !info.Mode.IsRegular() {
		return nil, notRegular(info.Mode)
	}
	return m.openLockFile(l)
}
