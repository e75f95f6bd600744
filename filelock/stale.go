package filelock

import (
	"bytes"
	"fmt"
	"runtime"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
)

// The stale rule, for Soft and Link locks (and for their guard files). A
// lock file is stale when
//
//   - its holder record names a process on this host (same boot, same PID
//     namespace) that is provably dead: its PID does not exist, or names a
//     process with another start time, or a zombie; or one of this machine
//     (same host name and machine id) recorded in an earlier boot; or
//   - with WithSharedPIDNamespace, it is another program's lock file that
//     names a PID of this host (foreign.go) which is provably dead: no such
//     process, or a zombie; or
//   - it has not changed for longer than the stale-after age (when that is
//     not 0), whoever made it; it is broken for that only once this host
//     has seen it unchanged for three fifths of that age: the judging
//     process itself (sighting.go), or, before it, another process of the
//     same boot (sightfile.go).
//
// What a file says of its holder counts only if no one but its owner may
// write it: a record in a file that group or others may write may have been
// rewritten to name a dead process, and such a file is broken only by age.
//
// A file without a record of this package is never broken for that alone:
// it is another program's lock (this package's own creation never leaves
// a file without its whole record where the filesystem can rename without
// replacing; see createSoft). Without age-based breaking such a file is
// never broken.
//
// Ages are measured on the filesystem's clock (fsclock.go): the time the
// lock file last changed is compared with the mtime of a probe file just
// written in the same directory, never with this host's clock. The time it
// last changed is its change time (ctime), which moves with every write
// and touch and which no user can set, so that a forged mtime (touch -d)
// neither ages a live lock nor keeps a dead one young.

// verdict is what the stale rule decided about a lock file as read once.
type verdict struct {
	id        fsys.FileID
	mtime     time.Time
	data      []byte         // the file's contents as read
	holder    *Record        // nil when the contents are not a valid record
	recordErr error          // why they are not, nil for an empty file
	foreign   *ForeignHolder // what they say when they are not a record
	age       time.Duration
	ageKnown  bool
	// staleIn is how much longer the file must stay unchanged to be
	// stale by age, or to be broken for it (watchLeft); 0 when that is
	// unknown or not the reason to wait.
	staleIn time.Duration
	stale   bool
	reason  string
	// watchLeft is how much longer the judging process must see a file
	// stale by age unchanged before it may break it (see watchLeft).
	watchLeft time.Duration
}

// breakable reports whether the verdict allows the file to be broken: it
// is stale, and if by age, it has been seen so for long enough.
func (v verdict) breakable() bool { return v.stale && v.watchLeft == 0 }

// sameAs reports whether the file described by info and data is the one
// the verdict was about, unchanged: same identity, same contents, and not
// refreshed since.
func (v verdict) sameAs(info fsys.Info, data []byte) bool {
	return sameFile(v.id, info.ID) && bytes.Equal(v.data, data) && info.ModTime.Equal(v.mtime)
}

// sameFile compares identities, treating an unknown one as equal.
func sameFile(a, b fsys.FileID) bool { return a == b || a.IsZero() || b.IsZero() }

// judge reads the lock file at path and applies the stale rule with the
// age limit staleAfter (0: no age limit). If wantAge is set the age is
// measured even when the rule does not need it. Errors are those of
// reading the file: fs.ErrNotExist when nothing is there, ErrNotRegular
// for something that is not a lock file.
func (m fileMechanism) judge(l *Lock, path string, staleAfter time.Duration, wantAge bool) (verdict, error) {
	data, info, err := readRecordFile(l.cfg.fs, path)
	if err != nil {
		return verdict{}, err
	}
	v := readVerdict(data, info)
	v.reason = m.provablyDead(l, v, info, path == l.path)
	v.stale = v.reason != ""
	if (v.stale || staleAfter == 0) && !wantAge {
		return v, nil
	}
	now, coarse, err := l.fsNow()
	if err != nil {
		// Without the filesystem's clock the age is unknown, and a lock
		// is never broken for an age that is unknown.
		return v, nil
	}
	seen := seenFiles.unchangedFor(l, path, info)
	v.age, v.ageKnown = age(info, now, seen), true
	limit := staleAfter
	if coarse && limit > 0 {
		limit += coarseSlack
	}
	if v.stale || limit == 0 || v.age <= limit {
		if !v.stale && limit > 0 {
			v.staleIn = limit - v.age + 1
		}
		return v, nil
	}
	v.stale = true
	v.reason = fmt.Sprintf("not changed for %v (stale after %v)", v.age.Round(time.Millisecond), limit)
	if v.foreign != nil {
		v.reason += "; " + v.foreign.String()
	}
	if watchLeft(seen, staleAfter) > 0 {
		seen = seenFiles.withEarlier(l, path, info, data, seen)
	}
	if v.watchLeft = watchLeft(seen, staleAfter); v.watchLeft > 0 {
		v.staleIn = v.watchLeft
		v.reason += fmt.Sprintf("; broken once seen unchanged for %v more", v.watchLeft.Round(time.Millisecond))
	}
	return v, nil
}

// readVerdict returns what the file that info describes, holding data,
// says of its holder, before the stale rule is applied.
func readVerdict(data []byte, info fsys.Info) verdict {
	v := verdict{id: info.ID, mtime: info.ModTime, data: data}
	if r, err := ParseRecord(data); err == nil {
		v.holder = &r
	} else {
		if len(data) > 0 {
			v.recordErr = err
		}
		f := parseForeign(data)
		v.foreign = &f
	}
	return v
}

// provablyDead returns why the holder of the judged file is provably dead
// on this host, or "" if it is not; lockFile says whether the file is the
// lock file (else the guard).
func (m fileMechanism) provablyDead(l *Lock, v verdict, info fsys.Info, lockFile bool) string {
	if othersMayWrite(info) {
		return "" // its contents prove nothing about its holder
	}
	if v.holder != nil {
		if m.leftBeforeExec(l, v.holder, v.data, info.ID, lockFile) {
			return fmt.Sprintf("holder process %d is this process before it executed a new program", v.holder.PID)
		}
		_, reason := l.cfg.holderState(v.holder)
		return reason
	}
	f := v.foreign
	if !l.cfg.sharedPIDs || f.PID <= 0 || !sameHostName(f.Host, l.cfg.self.Host) {
		return ""
	}
	if proc.Check(proc.Identity{PID: f.PID}) == proc.Dead {
		return fmt.Sprintf("%v: process %d is dead", f, f.PID)
	}
	// A foreign record states no start time, so a PID reused by a later
	// process cannot be told from its holder: comparing the process's
	// start with the file's change time would compare a boot-relative
	// time with a wall-clock one, which a clock step moves. Such a lock
	// waits for the age rule.
	return ""
}

// othersMayWrite reports whether users other than the file's owner may
// write it (its mode grants group or others write), so that what it says
// of its holder may be forged. Windows reports no such modes.
func othersMayWrite(info fsys.Info) bool {
	return runtime.GOOS != "windows" && info.Mode.Perm()&0o022 != 0
}
