package filelock

import (
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
)

// futureSlack is how far in the future of the filesystem's clock a file's
// last change may lie before it is taken for a forged or misdated time:
// the reading of that clock is cached and may lag by a little, and coarse
// filesystems round.
const futureSlack = coarseSlack

// maxSightings bounds the files this process remembers; past it, it
// forgets them all and starts again, which only delays the breaking of a
// file stale by age, or dated in the future.
const maxSightings = 1024

// sightings remembers the files this process judged, and since when each
// has been seen unchanged, measured on this host's monotonic clock:
//
//   - A file stale by age is broken only once it has been seen unchanged
//     for watchNeed of the age limit, longer than a live holder's heartbeat
//     may take. The age is read on the filesystem's clock, which a step of
//     this host's clock, or of a file server's, moves forward at once,
//     making every lock look that much older; a live holder's heartbeat
//     still comes within half the limit, and changes the file.
//   - A file changed in the future of the filesystem's clock (where the
//     change time is unknown and the mtime, which anyone who can write the
//     file can set, stands in) is as old as it has been seen unchanged, so
//     that a future date never keeps a file young for longer than the age
//     limit.
//
// The table is the process's, not a handle's, so that a handle made for
// one attempt counts what handles of the same lock saw before it; its
// entries are per filesystem and clock as well as path, since tests give
// handles filesystems and clocks of their own.
type sightings struct {
	mu sync.Mutex
	m  map[sightingKey]sighting
}

type sightingKey struct {
	fs    fsys.FS
	clock clock.Clock
	path  string
}

type sighting struct {
	id      fsys.FileID
	changed time.Time
	size    int64
	first   time.Time // when first seen so, by the monotonic clock
	asked   bool      // whether the sighting file was asked (withEarlier)
}

// same reports whether info describes the file as it was seen.
func (w sighting) same(info fsys.Info) bool {
	return w.id == info.ID && w.changed.Equal(info.Changed()) && w.size == info.Size
}

// seenFiles is this process's sightings.
var seenFiles sightings

// unchangedFor returns how long the file at path, on l's filesystem, has
// been seen as info describes it, unchanged, by this process, by l's
// clock.
func (s *sightings) unchangedFor(l *Lock, path string, info fsys.Info) time.Duration {
	now := l.cfg.clock.Now()
	key := sightingKey{fs: l.cfg.fs, clock: l.cfg.clock, path: path}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[key]; ok && old.same(info) {
		return max(now.Sub(old.first), 0)
	}
	if s.m == nil || len(s.m) >= maxSightings {
		s.m = map[sightingKey]sighting{}
	}
	s.m[key] = sighting{id: info.ID, changed: info.Changed(), size: info.Size, first: now}
	return 0
}

// withEarlier returns seen, how long this process has seen the file at
// path unchanged as info describes it (holding data), plus how long this host saw it so
// before that (seenBefore, from the sighting file), which it asks once per
// sighting; later calls count it through the sighting's first time, moved
// back.
func (s *sightings) withEarlier(l *Lock, path string, info fsys.Info, data []byte, seen time.Duration) time.Duration {
	key := sightingKey{fs: l.cfg.fs, clock: l.cfg.clock, path: path}
	s.mu.Lock()
	w, ok := s.m[key]
	if !ok || w.asked || !w.same(info) {
		s.mu.Unlock()
		return seen
	}
	w.asked = true
	s.m[key] = w
	s.mu.Unlock()
	// The sighting file is read and written without the table's mutex;
	// a sighting that changed meanwhile is left as it is.
	before := seenBefore(l, path, info, data, seen)
	if before == 0 {
		return seen
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now, ok := s.m[key]; ok && now.same(info) && now.first.Equal(w.first) {
		now.first = now.first.Add(-before)
		s.m[key] = now
	}
	return seen + before
}

// age returns the age of the file that info describes, fsNow being the
// filesystem's current time: the time since its last change, or, if that
// lies in the future, seen, how long this process has seen it unchanged
// (sightings.unchangedFor). It ages the queue's tickets as well as Soft
// and Link lock files and guards.
func age(info fsys.Info, fsNow time.Time, seen time.Duration) time.Duration {
	changed := info.Changed()
	if changed.After(fsNow.Add(futureSlack)) {
		return seen
	}
	return max(fsNow.Sub(changed), 0)
}

// watchNeed is how long a file stale by age must have been seen unchanged
// before it is broken, staleAfter being the age limit: three fifths of it,
// a tenth more than the longest heartbeat (WithHeartbeat allows half), for
// the lateness of a heartbeat's timer and of its write.
func watchNeed(staleAfter time.Duration) time.Duration {
	return staleAfter/2 + staleAfter/10
}

// watchLeft returns how much longer a file stale by age, seen unchanged
// for seen, must be seen so before it is broken, staleAfter being the age
// limit: 0 once seen for watchNeed.
func watchLeft(seen, staleAfter time.Duration) time.Duration {
	if need := watchNeed(staleAfter); seen < need {
		return need - seen + 1
	}
	return 0
}
