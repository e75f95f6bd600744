package filelock

// The filesystem's clock: the current time by the clock of the filesystem
// that holds a lock's directory, read as the mtime of a probe file written
// beside the lock and carried forward by this host's monotonic clock. The
// ages of a Soft or Link lock file or guard (the stale rule, stale.go), of
// debris (sweep.go) and of the queue's turn marker, which the waiters of
// every strategy use (turn.go), are measured on it, so that a file's times
// are compared with the clock that set them: an NFS server's clock may be
// seconds off this host's, and this host's wall clock may be stepped.

import (
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
)

// probeEvery is how long a reading of a directory's filesystem clock is
// reused before a new probe file is written.
const probeEvery = 10 * time.Second

type fsClockKey struct {
	fs  fsys.FS
	dir string
}

type fsClockReading struct {
	mtime  time.Time // the probe file's mtime
	at     time.Time // this host's time when the probe was written
	coarse bool      // the filesystem keeps whole seconds only
}

// fsClocks caches, per directory, how far the filesystem's clock is from
// this host's.
var fsClocks = struct {
	sync.Mutex
	m map[fsClockKey]fsClockReading
}{m: map[fsClockKey]fsClockReading{}}

// coarseSlack is added to the age limits on a filesystem whose timestamps
// are whole seconds (FAT keeps two), so that rounding never makes a fresh
// lock look stale.
const coarseSlack = 2 * time.Second

// fsNow returns the current time by the clock of the filesystem that
// holds the lock's directory: the mtime of a probe file written at most
// probeEvery ago, plus the time elapsed since by this host's monotonic
// clock (never its wall clock, which may be stepped). It also reports
// whether the filesystem's timestamps are coarse (whole seconds). It
// serves the queue of every strategy as well as the Soft and Link
// mechanism.
func (l *Lock) fsNow() (time.Time, bool, error) {
	key := fsClockKey{fs: l.cfg.fs, dir: dirOf(l.path)}
	now := l.cfg.clock.Now()
	fsClocks.Lock()
	r, ok := fsClocks.m[key]
	fsClocks.Unlock()
	if ok {
		if since := now.Sub(r.at); since >= 0 && since < probeEvery {
			return r.mtime.Add(since), r.coarse, nil
		}
	}
	r, err := l.probeClock()
	if err != nil {
		return time.Time{}, false, err
	}
	fsClocks.Lock()
	fsClocks.m[key] = r
	fsClocks.Unlock()
	return r.mtime.Add(l.cfg.clock.Now().Sub(r.at)), r.coarse, nil
}

// probeClock writes a probe file beside the lock and reads its mtime, for
// fsNow, whatever the strategy.
func (l *Lock) probeClock() (fsClockReading, error) {
	fsy := l.cfg.fs
	name := tempName(l.path, kindProbe)
	t0 := l.cfg.clock.Now()
	f, err := fsy.CreateExcl(name, l.cfg.perm)
	if err != nil {
		return fsClockReading{}, err
	}
	_, err = fsys.SetPerm(f, l.cfg.perm)
	var info fsys.Info
	if err == nil {
		info, err = f.Stat()
	}
	t1 := l.cfg.clock.Now()
	f.Close()
	if rerr := fsy.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return fsClockReading{}, err
	}
	return fsClockReading{mtime: info.ModTime, at: t0.Add(t1.Sub(t0) / 2), coarse: info.ModTime.Nanosecond() == 0}, nil
}
