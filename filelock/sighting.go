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

// sightings remembers the files a handle found changed in the future of
// the filesystem's clock (where the change time is unknown and the mtime,
// which anyone who can write the file can set, stands in), and since when
// each has been seen unchanged: their age is that time, measured on this
// host's monotonic clock, so that a future date never keeps a file young
// for longer than the age limit.
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

// age returns the age of the file at path that info describes, fsNow being
// the filesystem's current time: the time since its last change, or, if
// that lies in the future, how long this handle has seen it unchanged. It
// ages the queue's tickets as well as Soft and Link lock files and guards.
func (l *Lock) age(path string, info fsys.Info, fsNow time.Time) time.Duration {
	changed := info.Changed()
	if changed.After(fsNow.Add(futureSlack)) {
		return l.seen.unchangedFor(path, info, l.cfg.clock.Now())
	}
	return max(fsNow.Sub(changed), 0)
}
