package filelock

import (
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
)

// futureSlack is how far in the future of the filesystem's clock a file's
// last change may lie before it is taken for a forged or misdated time:
// the reading of that clock is cached and may lag by a little, and coarse
// filesystems round.
const futureSlack = coarseSlack

// maxSightings bounds the files a handle remembers; past it, it forgets
// them all and starts again, which only delays the breaking of a
// future-dated file.
const maxSightings = 64

// sightings remembers the files a handle judged, and since when each has
// been seen unchanged, measured on this host's monotonic clock:
//
//   - A file stale by age is broken only once it has been seen unchanged
//     for half the age limit, the longest a live holder's heartbeat may
//     take (watchLeft). The age is read on the filesystem's clock, which a
//     step of this host's clock, or of a file server's, moves forward at
//     once, making every lock look that much older; a live holder's
//     heartbeat still comes within half the limit, and changes the file.
//   - A file changed in the future of the filesystem's clock (where the
//     change time is unknown and the mtime, which anyone who can write the
//     file can set, stands in) is as old as it has been seen unchanged, so
//     that a future date never keeps a file young for longer than the age
//     limit.
type sightings struct {
	mu sync.Mutex
	m  map[string]sighting
}

type sighting struct {
	id      fsys.FileID
	changed time.Time
	size    int64
	first   time.Time // when first seen so, by the monotonic clock
}

// unchangedFor returns how long the file at path has been seen, as info
// describes it, unchanged by this handle, now being the handle's clock.
func (s *sightings) unchangedFor(path string, info fsys.Info, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := sighting{id: info.ID, changed: info.Changed(), size: info.Size, first: now}
	if old, ok := s.m[path]; ok && old.id == w.id && old.changed.Equal(w.changed) && old.size == w.size {
		return max(now.Sub(old.first), 0)
	}
	if s.m == nil || len(s.m) >= maxSightings {
		s.m = map[string]sighting{}
	}
	s.m[path] = w
	return 0
}

// age returns the age of the file that info describes, fsNow being the
// filesystem's current time: the time since its last change, or, if that
// lies in the future, seen, how long this handle has seen it unchanged
// (sightings.unchangedFor). It ages the queue's tickets as well as Soft
// and Link lock files and guards.
func age(info fsys.Info, fsNow time.Time, seen time.Duration) time.Duration {
	changed := info.Changed()
	if changed.After(fsNow.Add(futureSlack)) {
		return seen
	}
	return max(fsNow.Sub(changed), 0)
}

// watchLeft returns how much longer a file stale by age, seen unchanged
// for seen, must be seen so before it is broken, staleAfter being the age
// limit: 0 once seen for half of it.
func watchLeft(seen, staleAfter time.Duration) time.Duration {
	if need := staleAfter / 2; seen < need {
		return need - seen + 1
	}
	return 0
}
