package filelock

import (
	"fmt"

	"github.com/lockstress/lockstress/internal/fsys"
)

// kernelLocked reports whether the file at path, a lock file that a Soft
// or Link breaker judged stale, is held with a kernel lock of any strategy
// this platform has: then its holder uses the os or ofd strategy (or
// another program's kernel lock), which a Soft or Link lock does not
// exclude, and breaking the file would let a second holder in beside it.
// It answers only for the operating system's filesystem.
func (l *Lock) kernelLocked(path string) error {
	if l.cfg.fs != (fsys.OS{}) {
		return nil
	}
	f, err := fsys.OpenReadOnly(path)
	if err != nil {
		return nil // gone, or unreadable: the break decides
	}
	defer f.Close()
	for _, s := range []Strategy{OS, OFD} {
		locker, ok := lockerFor(s)
		if !ok {
			continue
		}
		if held, err := locker.probe(f.Fd()); err == nil && held {
			return fmt.Errorf("%w: %v", ErrMixedStrategies, s)
		}
	}
	return nil
}
