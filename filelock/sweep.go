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
	fsy := l.cfg.fs
	dir, base := dirOf(l.path), filepath.Base(l.path)
	names, err := fsy.ReadDirNames(dir)
	if err != nil {
		return
	}
	var now time.Time
	for _, name := range names {
		kind, rest, ok := debrisKind(base, name)
		if !ok {
			continue
		}
		p := besideDir(dir, name)
		if kind == kindSeen {
			// A sighting file tells of the file just broken, and its
			// temporary name is debris as any other; a file of either
			// name that holds something else (another lock's, say) is
			// left.
			if !seenTemp(rest) {
				data, _, err := fsys.ReadAll(fsy, p, seenMaxSize)
				if _, ok := parseSeen(data); broke && err == nil && ok {
					fsy.Remove(p)
				}
				continue
			}
			if !seenDebris(fsy, p, rest) {
				continue
			}
		}
		if kind == kindAside {
			// A moved file keeps its mtime: its name says when it moved.
			secs, _, _ := strings.Cut(rest, ".")
			if n, err := strconv.ParseInt(secs, 10, 64); err == nil && l.cfg.clock.Now().Sub(time.Unix(n, 0)) > debrisAge {
				fsy.Remove(p)
			}
			continue
		}
		info, err := fsy.Lstat(p)
		if err != nil || !info.Mode.IsRegular() {
			continue
		}
		if now.IsZero() {
			if now, _, err = l.fsNow(); err != nil {
				return
			}
		}
		if now.Sub(info.Changed()) > debrisAge {
			fsy.Remove(p)
		}
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
