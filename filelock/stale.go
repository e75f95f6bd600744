package filelock

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
)

// The stale rule, for Soft and Link locks (and for their guard files). A
// lock file is stale when
//
//   - its holder record names a process on this host (same boot, same PID
//     namespace) that is provably dead: its PID does not exist, or names a
//     process with another start time, or a zombie; or
//   - it has a valid record and has not been refreshed for longer than the
//     stale-after age (when that is not 0); or
//   - it has no valid record and is older than RecordGrace (or the
//     stale-after age, if that is shorter and not 0).
//
// Ages are measured on the filesystem's clock: the lock file's mtime is
// compared with the mtime of a probe file just written in the same
// directory, never with this host's clock.

// verdict is what the stale rule decided about a lock file as read once.
type verdict struct {
	id        fsys.FileID
	data      []byte  // the file's contents as read
	holder    *Record // nil when the contents are not a valid record
	recordErr error   // why they are not, nil for an empty file
	age       time.Duration
	ageKnown  bool
	stale     bool
	reason    string
}

// sameAs reports whether the file described by id and data is the one the
// verdict was about.
func (v verdict) sameAs(id fsys.FileID, data []byte) bool {
	return sameFile(v.id, id) && bytes.Equal(v.data, data)
}

// sameFile compares identities, treating an unknown one as equal.
func sameFile(a, b fsys.FileID) bool { return a == b || a.IsZero() || b.IsZero() }

// judge reads the lock file at path and applies the stale rule with the
// age limit staleAfter (0: no age limit for a file with a valid record).
// If wantAge is set the age is measured even when the rule does not need
// it. Errors are those of reading the file: fs.ErrNotExist when nothing is
// there, ErrNotRegular for something that is not a lock file.
func (l *Lock) judge(path string, staleAfter time.Duration, wantAge bool) (verdict, error) {
	data, info, err := readRecordFile(l.cfg.fs, path)
	if err != nil {
		return verdict{}, err
	}
	v := verdict{id: info.ID, data: data}
	limit := staleAfter
	if len(data) > 0 {
		if r, err := ParseRecord(data); err != nil {
			v.recordErr = err
		} else {
			v.holder = &r
		}
	}
	if v.holder == nil {
		limit = RecordGrace
		if staleAfter > 0 && staleAfter < limit {
			limit = staleAfter
		}
	} else if l.cfg.liveness(v.holder.identity()) == proc.Dead {
		v.stale = true
		v.reason = fmt.Sprintf("holder process %d on this host is dead", v.holder.PID)
		if !wantAge {
			return v, nil
		}
	}
	if limit == 0 && !wantAge {
		return v, nil
	}
	now, err := l.fsNow()
	if err != nil {
		// Without the filesystem's clock the age is unknown, and a lock
		// is never broken for an age that is unknown.
		return v, nil
	}
	v.age, v.ageKnown = now.Sub(info.ModTime), true
	if v.stale || limit == 0 || v.age <= limit {
		return v, nil
	}
	v.stale = true
	if v.holder == nil {
		v.reason = fmt.Sprintf("no valid holder record after %v (grace %v)", v.age.Round(time.Millisecond), limit)
	} else {
		v.reason = fmt.Sprintf("not refreshed for %v (stale after %v)", v.age.Round(time.Millisecond), limit)
	}
	return v, nil
}

// probeEvery is how long a reading of a directory's filesystem clock is
// reused before a new probe file is written.
const probeEvery = 10 * time.Second

type fsClockKey struct {
	fs  fsys.FS
	dir string
}

type fsClockReading struct {
	offset time.Duration // filesystem time minus local time
	at     time.Time     // local time of the reading
}

// fsClocks caches, per directory, how far the filesystem's clock is from
// this host's.
var fsClocks = struct {
	sync.Mutex
	m map[fsClockKey]fsClockReading
}{m: map[fsClockKey]fsClockReading{}}

// fsNow returns the current time by the clock of the filesystem that
// holds the lock's directory: this host's clock corrected by the offset
// seen on a probe file, measured at most probeEvery ago.
func (l *Lock) fsNow() (time.Time, error) {
	key := fsClockKey{fs: l.cfg.fs, dir: filepath.Dir(l.path)}
	now := l.cfg.clock.Now()
	fsClocks.Lock()
	r, ok := fsClocks.m[key]
	fsClocks.Unlock()
	if ok {
		if since := now.Sub(r.at); since >= 0 && since < probeEvery {
			return now.Add(r.offset), nil
		}
	}
	offset, err := l.probeClock()
	if err != nil {
		return time.Time{}, err
	}
	now = l.cfg.clock.Now()
	fsClocks.Lock()
	fsClocks.m[key] = fsClockReading{offset: offset, at: now}
	fsClocks.Unlock()
	return now.Add(offset), nil
}

// probeClock writes a probe file beside the lock and returns the offset of
// its mtime from this host's clock at the middle of the write.
func (l *Lock) probeClock() (time.Duration, error) {
	fsy := l.cfg.fs
	name := tempName(l.path, kindProbe)
	t0 := l.cfg.clock.Now()
	f, err := fsy.CreateExcl(name, l.cfg.perm)
	if err != nil {
		return 0, err
	}
	info, err := f.Stat()
	t1 := l.cfg.clock.Now()
	f.Close()
	if rerr := fsy.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return 0, err
	}
	return info.ModTime.Sub(t0.Add(t1.Sub(t0) / 2)), nil
}
