package filelock

import (
	"context"
	"sync"

	"github.com/lockstress/lockstress/internal/fsys"
)

// slotKey identifies a lock file within this process: the filesystem it is
// reached through, its directory's identity and its name. Keying by the
// directory's identity rather than the path string makes two spellings of
// one path the same lock.
type slotKey struct {
	fs   fsys.FS
	dir  fsys.FileID
	name string
}

// table excludes handles of this process from each other before they touch
// the lock file. The file locks used today conflict within one process too,
// but the table makes that guarantee independent of the mechanism (classic
// POSIX fcntl locks, for one, never conflict within a process, and a stale
// rule must never judge this process's own lock), and it lets a waiting
// handle wake as soon as another handle of this process releases, instead
// of polling. Waiters block on a channel that is closed at every release.
type table struct {
	mu    sync.Mutex
	slots map[slotKey]*slot
}

type slot struct {
	exclusive bool
	shared    int
	waiters   int
	changed   chan struct{}
}

var processLocks = &table{slots: map[slotKey]*slot{}}

// acquire takes the slot for key, exclusively or shared. With wait false it
// returns errBusy at once if the slot is taken; otherwise it waits until the
// slot is free or ctx is done, then returns ctx.Err().
func (t *table) acquire(ctx context.Context, key slotKey, shared, wait bool) error {
	for {
		t.mu.Lock()
		s := t.slots[key]
		if s == nil {
			s = &slot{changed: make(chan struct{})}
			t.slots[key] = s
		}
		if !s.exclusive && (shared || s.shared == 0) {
			if shared {
				s.shared++
			} else {
				s.exclusive = true
			}
			t.mu.Unlock()
			return nil
		}
		if !wait {
			t.mu.Unlock()
			return errBusy
		}
		s.waiters++
		ch := s.changed
		t.mu.Unlock()

		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		}
		t.mu.Lock()
		s.waiters--
		t.dropIfUnused(key, s)
		t.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// release gives up a slot taken by acquire and wakes its waiters.
func (t *table) release(key slotKey, shared bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.slots[key]
	if s == nil {
		panic("filelock: release of a slot that is not held")
	}
	if shared {
		s.shared--
	} else {
		s.exclusive = false
	}
	close(s.changed)
	s.changed = make(chan struct{})
	t.dropIfUnused(key, s)
}

func (t *table) dropIfUnused(key slotKey, s *slot) {
	if !s.exclusive && s.shared == 0 && s.waiters == 0 && t.slots[key] == s {
		delete(t.slots, key)
	}
}
