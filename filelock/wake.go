package filelock

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/notify"
)

// wakeup is what one blocking acquisition waits on besides its backoff
// timer: an event that says the lock may have become free, so the waiter
// tries again at once instead of at its next poll.
//
// For the soft and link strategies that event is the removal of the
// lock file, seen by watching its directory: every release removes it, and
// a holder's death closes the lock file it kept open. For the os and ofd
// strategies, whose lock file is kept, it is the closing of any descriptor
// of the lock file: a holder of this package closes its descriptor at
// every release and at its death, and so does flock(1), which opens the
// file read-only. While it waits, the acquisition therefore keeps its own
// descriptor of the lock file open between attempts rather than closing it
// after each, or the waiters would wake each other.
//
// The events are a way to wake early, never the only way: the backoff
// timer still runs, for the changes no event reports (another host of a
// network filesystem, a program that unlocks without closing, as
// "flock -u" does) and for a watch that could not be set up.
type wakeup struct {
	l *Lock
	w *notify.Watcher
	// armed is set once watching was attempted, whether or not it worked.
	armed bool
	// kept is the os strategy's descriptor of the lock file, kept open
	// between attempts while watching.
	kept fsys.OSFile
	// woke is set when an event ended the last wait; see woken.
	woke bool
	// seesAll is set when the filesystem raises an event for every
	// change (eventsSeeAll).
	seesAll bool
	// seesReleases is set when every release of the lock raises an
	// event, so that polling can be slow: a soft or link lock on such a
	// filesystem. An os or ofd lock can be released without an event by
	// another program (flock -u), so its waiters keep polling.
	seesReleases bool
	// lostRace is set once an attempt woken by an event failed.
	lostRace bool
	// inTurn is set for the waiter first in the queue, which keeps
	// watching after a lost race.
	inTurn bool
	// inKernel is set while the attempts wait for an os or ofd lock in
	// the kernel instead (see arm).
	inKernel bool
}

// trustedPollFactor: a waiter that watches a soft or link lock on a
// filesystem whose every change raises an event polls only every
// trustedPollFactor × the longest backoff wait (2 s by default). Every
// release raises an event there, and so does the death of a holder of this
// host: the kernel closes the lock file that the holder keeps open
// (Lock.keepsOpen). The polls then only serve what raises no
// event: a holder on another host, or of another program, that died
// without releasing (whose lock the stale rule breaks), and an event lost
// in a full inotify queue (which is itself reported, and wakes the
// waiter). A lock file's turning stale by age raises no event either, so
// a poll is never later than the moment the last judgement said it would
// (Lock.staleAt). A variable for tests.
var trustedPollFactor time.Duration = 40

// lostRaceFactor: see pollAfter.
const lostRaceFactor = 4

// pollAfter prepares the next wait and returns how long it may last
// before the next poll. It is called before each wait, so after a wait
// that an event ended it is called only if the attempt that followed
// failed: another owner took the lock first. Under contention every
// release wakes every watching waiter, all but one of which lose, and
// waking them all at every release spends the processors that the holder
// needs. So a waiter that lost a race after an event stops watching and
// polls for the rest of the acquisition; a waiter that waits alone, or
// first in a fair queue, does not lose the race and keeps watching.
//
// On a filesystem whose every change raises an event, a waiter that lost a
// race polls with steps growing up to lostRaceFactor × the longest backoff
// wait: the lock is saturated, released and taken again at once, and the
// polls of many waiters only take the holder's processor time (measured in
// docs/performance.md).
func (k *wakeup) pollAfter(b *backoff) time.Duration {
	if k.w != nil && k.woke && !k.inTurn {
		k.close()
		k.lostRace = true
	}
	longest := k.l.cfg.maxWait
	if k.lostRace && k.seesAll {
		longest *= lostRaceFactor
	}
	d := b.next(k.l.cfg.minWait, longest)
	if k.w != nil && k.seesReleases {
		d = max(d, trustedPollFactor*k.l.cfg.maxWait)
		// A lock file that turns stale by age raises no event (its
		// holder stopped, or lost its host): judge it when it does.
		if at := k.l.staleAt; !at.IsZero() {
			d = min(d, max(at.Sub(k.l.cfg.clock.Now()), judgeEvery))
		}
	}
	return d
}

// try makes one attempt to take the file lock.
func (k *wakeup) try(ctx context.Context, wait bool) (held, error) {
	m, ok := k.l.mech.(osMechanism)
	if !ok || k.w == nil && !k.inKernel {
		return k.l.mech.try(ctx, k.l, wait)
	}
	if k.inKernel {
		h, ok, err := m.tryInKernel(ctx, k.l, &k.kept)
		if ok {
			return h, err
		}
		// Another wait of this process is pending on the lock, one
		// this acquisition cannot take: watch, then try at once, since
		// a release before the watch started raised no event it saw.
		k.inKernel = false
		k.watch()
	}
	if k.w == nil {
		return k.l.mech.try(ctx, k.l, wait)
	}
	return m.tryKept(k.l, &k.kept)
}

// arm starts watching after the first busy attempt. It reports whether the
// caller should try again before it waits: the lock may have been released
// between the attempt and the start of the watch, and that release raised
// no event the watch could see.
//
// An os or ofd lock on a local filesystem is not watched: the attempts
// wait for it in the kernel (flock without LOCK_NB, F_OFD_SETLKW), which
// queues the waiter and hands it the lock when it is released or its
// holder dies. The call waits on a goroutine of its own, so the
// acquisition can leave when ctx is done (see kernelWait). Not on a
// network filesystem, whose client may poll for a blocked lock (NFS every
// 30 s when the server's callback does not reach it). For a wait in the
// kernel arm always reports true: the next attempt is itself the wait.
func (k *wakeup) arm() bool {
	if k.armed {
		return k.inKernel
	}
	k.armed = true
	if k.l.cfg.polling || k.l.cfg.fs != (fsys.OS{}) {
		return false
	}
	// A local filesystem of Linux, whose every change raises an event
	// (looked at once per handle: see keepsOpen).
	k.seesAll = k.l.keepsOpen()
	if m, ok := k.l.mech.(osMechanism); ok {
		if _, ok := m.locker.(kernelWaiter); ok && k.seesAll {
			k.inKernel = true
			return true
		}
	}
	return k.watch()
}

// watch starts watching; it reports whether the caller should try again
// before it waits (see arm).
func (k *wakeup) watch() bool {
	w, err := notify.New()
	if err != nil {
		return false // no notifications here, or none left: poll
	}
	if _, kept := k.l.mech.(osMechanism); kept {
		err = w.WatchFile(k.l.path)
	} else {
		err = w.WatchEntry(dirOf(k.l.path), filepath.Base(k.l.path))
		k.seesReleases = k.seesAll
	}
	if err != nil {
		w.Close()
		// A lock file that vanished in between is worth a retry; other
		// failures leave the waiter polling.
		return errors.Is(err, fs.ErrNotExist)
	}
	k.w = w
	return true
}

// C receives when the lock may have become free; it is nil (never
// receives) when nothing is watched. Call it after pollAfter.
func (k *wakeup) C() <-chan struct{} {
	if k.w == nil {
		return nil
	}
	return k.w.C()
}

// woken records that an event ended the wait.
func (k *wakeup) woken() { k.woke = true }

// close stops watching and closes a kept descriptor.
func (k *wakeup) close() {
	if k.w != nil {
		k.w.Close()
		k.w = nil
	}
	if k.kept != nil {
		k.kept.Close()
		k.kept = nil
	}
}

// keepsOpen reports whether a holder keeps its lock file open for writing
// until the release (and a fair waiter its ticket until it leaves): on
// Linux, on a local filesystem of the operating system, whose every change
// raises an event (eventsSeeAll, looked at once per handle). If the holder
// dies holding the lock, the kernel closes the file, and that close is an
// event (IN_CLOSE_WRITE) for the waiters watching the lock's directory,
// which then judge the lock at once instead of at their next poll. It is
// closed only after the lock file is removed, so that a release raises no
// close event of a file still there. Not elsewhere: where there are no
// such events, an open file may stand in the way of its removal (Windows,
// and NFS, whose client renames a removed open file to .nfsXXXX until it
// is closed).
func (l *Lock) keepsOpen() bool {
	return runtime.GOOS == "linux" && l.cfg.fs == (fsys.OS{}) && l.localDir()
}

// localDir reports whether the lock's directory is on a filesystem of this
// host whose changes every process here sees at once (eventsSeeAll).
func (l *Lock) localDir() bool {
	if l.local == 0 {
		l.local = 2
		if eventsSeeAll(dirOf(l.path)) {
			l.local = 1
		}
	}
	return l.local == 1
}
