package filelock

// The debris sweep: temporary files (claims, probes, files moved aside)
// left by processes killed between making and removing them, and sighting
// files (sightfile.go), removed by the next process that breaks the lock.

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
)

// debrisAge is the age after which a temporary file of a lock (a claim,
// probe or moved-aside file left by a process that was killed) is removed
// by the next process that breaks the lock.
const debrisAge = time.Minute

// sweep removes the lock's temporary files (claims, probes, files moved
// aside) older than debrisAge: debris of processes killed between making
// and removing them (a sighting file's temporary name among them); and, if
// broke, its sighting files, which tell of the file just broken. It is
// called with the guard held, after an attempt to break the lock.
func (fileMechanism) sweep(l *Lock, broke bool) {
	dir, base := dirOf(l.path), filepath.Base(l.path)
	names, err := l.cfg.fs.ReadDirNames(dir)
	if err != nil {
		return
	}
	s := sweeper{l: l, broke: broke}
	for _, name := range names {
		kind, rest, ok := debrisKind(base, name)
		if ok && !s.sweepFile(besideDir(dir, name), kind, rest) {
			return // the filesystem's clock cannot be read
		}
	}
}

// sweeper is the state of one sweep: the time by the filesystem's clock,
// read when first needed.
type sweeper struct {
	l     *Lock
	broke bool
	now   time.Time
}

// sweepFile removes the lock's temporary file p, of kind, if it is debris;
// it returns false if the filesystem's clock could not be read.
func (s *sweeper) sweepFile(p, kind, rest string) bool {
	fsy := s.l.cfg.fs
	switch {
	case kind == kindSeen && !seenTemp(rest):
		s.sweepSighting(p)
		return true
	case kind == kindSeen && !seenDebris(fsy, p, rest):
		return true
	case kind == kindAside:
		// A moved file keeps its mtime: its name says when it moved, by
		// the mover's clock. Its change time, which a rename sets on most
		// filesystems, must say so too, by the filesystem's: a mover whose
		// clock is behind this host's (another NFS client's, or stepped)
		// names a file it moves now as if it were old, and the file may be
		// another's live lock, about to be put back.
		secs, _, _ := strings.Cut(rest, ".")
		if n, err := strconv.ParseInt(secs, 10, 64); err != nil || s.l.cfg.clock.Now().Sub(time.Unix(n, 0)) <= debrisAge {
			return true
		}
	}
	info, err := fsy.Lstat(p)
	if err != nil || !info.Mode.IsRegular() {
		return true
	}
	if s.now.IsZero() {
		if s.now, _, err = s.l.fsNow(); err != nil {
			return false
		}
	}
	if s.now.Sub(info.Changed()) > debrisAge {
		fsy.Remove(p)
	}
	return true
}

// sweepSighting removes the sighting file p after a break: it tells of the
// file just broken. A file of its name that holds something else (another
// lock's, say) is left. (A sighting's temporary name is debris as any
// other.)
func (s *sweeper) sweepSighting(p string) {
	if !s.broke {
		return
	}
	data, _, err := fsys.ReadAll(s.l.cfg.fs, p, seenMaxSize)
	if _, ok := parseSeen(data); err == nil && ok {
		s.l.cfg.fs.Remove(p)
	}
}

// debrisKind returns the kind of the temporary file of the lock named base
// that name is (a claim, probe or moved-aside file, the guard's included)
// and what follows the kind in it; ok is false for any other name.
func debrisKind(base, name string) (kind, rest string, ok bool) {
	rest, ok = strings.CutPrefix(name, base+".")
	if !ok {
		return "", "", false
	}
	// The guard's own temporary files: <lock>.guard.<kind>.*
	rest = strings.TrimPrefix(rest, guardSuffix[1:]+".")
	kind, rest, _ = strings.Cut(rest, ".")
	return kind, rest, kind == kindClaim || kind == kindProbe || kind == kindAside || kind == kindSeen
}
