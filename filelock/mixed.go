package filelock

import (
	"fmt"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
)

// kernelLocked reports whether the file at path, a lock file that a Soft
// or Link breaker judged stale, is held with a kernel lock of any strategy
// this platform has: then its holder uses the os or ofd strategy (or
// another program's kernel lock), which a Soft or Link lock does not
// exclude, and breaking the file would let a second holder in beside it.
// It answers only for the operating system's filesystem.
func (fileMechanism) kernelLocked(l *Lock, path string) error {
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
			return fmt.Errorf("%w: held with %s", ErrMixedStrategies, kernelLockKind[s])
		}
	}
	return nil
}

// kernelLockKind names the locks that the probe of each kernel strategy
// sees: the strategy's own, and other programs' of the same kind.
var kernelLockKind = map[Strategy]string{
	OS:  "a lock of the os strategy's kind (flock; LockFileEx on Windows), by this package or another program",
	OFD: "a lock of the ofd strategy's kind (an fcntl lock: OFD, lockf or POSIX), by this package or another program",
}

// liveRecord returns an error matching ErrMixedStrategies if r, the record
// a lock file held when this handle had just taken its kernel lock, names
// a live process other than this one. Every release of a kernel
// lock of ours empties the file first, so that process holds the lock
// without the kernel lock: with Soft or Link, or (on Linux, where flock
// and fcntl locks are separate) with the other kernel strategy; taking
// the lock beside it would make two holders.
//
// Or that process is dying: a holder killed while it held leaves its
// record, and the kernel drops its lock when it closes its files, before
// the process is gone. So a process that looks alive is looked at again,
// at growing steps, for up to about dyingRecheckTotal; only one alive all
// that time counts.
func (l *Lock) liveRecord(r Record) error {
	if r.identity() == l.cfg.self {
		return nil
	}
	for waited, step := time.Duration(0), dyingRecheck; ; waited, step = waited+step, min(2*step, maxDyingRecheck) {
		if state, _ := l.cfg.holderState(&r); state != proc.Alive {
			return nil
		}
		if waited >= dyingRecheckTotal {
			break
		}
		<-l.cfg.clock.NewTimer(step).C()
	}
	return fmt.Errorf("%w: the lock file holds the record of process %d, alive, which does not hold the %v lock", ErrMixedStrategies, r.PID, l.cfg.strategy)
}

// dyingRecheckTotal is how long liveRecord looks again at a process that
// may be dying: many times the few milliseconds a killed process takes to
// be gone once its files are closed, on a busy machine.
const dyingRecheckTotal = 250 * time.Millisecond
