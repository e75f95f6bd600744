package filelock

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
)

// fileMechanism is a strategy whose lock is the existence of the lock file
// holding the holder's record: Soft and Link, which differ only in how the
// file is created. The stale rule, the guard, the heartbeat and the
// ownership-checked release are shared. docs/design.md argues why breaking
// never removes a live lock.
type fileMechanism struct {
	// create makes the file at path holding data, exclusively: errBusy if
	// something is there. With keep, it also returns the file opened for
	// writing, to be kept open while the lock is held (see keepsOpen);
	// it may return nil all the same.
	create func(l *Lock, path string, data []byte, keep bool) (fsys.FileID, io.Closer, error)
}

// judgeEvery is how often a waiter reads a busy lock file to judge it by
// the stale rule.
const judgeEvery = 100 * time.Millisecond

// debrisAge is the age after which a temporary file of a lock (a claim,
// probe or moved-aside file left by a process that was killed) is removed
// by the next process that breaks the lock.
const debrisAge = time.Minute

// guardSuffix names the guard file beside a lock file.
const guardSuffix = ".guard"

func (m fileMechanism) try(ctx context.Context, l *Lock, wait bool) (held, error) {
	for attempt := 0; ; attempt++ {
		data, err := l.newRecord()
		if err != nil {
			return nil, err
		}
		made := l.cfg.clock.Now()
		holdRecord(data)
		id, kept, err := m.create(l, l.path, data, l.keepsOpen())
		if err == nil {
			return m.newHeld(l, id, data, made, kept), nil
		}
		dropRecord(data)
		if !errors.Is(err, errBusy) || attempt > 0 {
			return nil, err
		}
		now := l.cfg.clock.Now()
		if !l.lastJudge.IsZero() && now.Sub(l.lastJudge) < judgeEvery && now.Sub(l.lastJudge) >= 0 {
			return nil, errBusy
		}
		l.lastJudge = now
		broke, err := m.breakStale(ctx, l, wait)
		if err != nil {
			return nil, err
		}
		if !broke {
			return nil, errBusy
		}
	}
}

// breakStale removes the lock file if it is stale. It reports whether the
// path may now be free. The judgement is made twice: once without the
// guard, to decide whether to take it, and again while holding it; only
// the second counts.
func (m fileMechanism) breakStale(ctx context.Context, l *Lock, wait bool) (bool, error) {
	v, err := l.judge(l.path, l.cfg.staleAfter, false)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if errors.Is(err, ErrNotRegular) {
		return false, err
	}
	if err != nil || !v.stale {
		return false, nil // unreadable or live: it is busy
	}
	g, err := m.takeGuard(ctx, l, wait, time.Time{})
	if errors.Is(err, errBusy) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer g.release()
	v, err = l.judge(l.path, l.cfg.staleAfter, false)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil || !v.stale {
		return false, nil
	}
	if err := l.kernelLocked(l.path); err != nil {
		return false, err
	}
	removed, err := l.removeAside(l.path, v)
	l.sweep()
	return removed, err
}

// guard is a held guard file. The guard serialises the judging and
// removal of a lock file by breakers, and a release that cannot rule out
// having been judged stale.
type guard struct {
	l    *Lock
	path string
	id   fsys.FileID
	data []byte
}

// guardStaleAfter is the age after which a guard whose holder may be alive
// is broken: the lock's own stale-after age, or DefaultStaleAfter when
// age-based breaking of the lock is off.
func (l *Lock) guardStaleAfter() time.Duration {
	if l.cfg.staleAfter > 0 {
		return l.cfg.staleAfter
	}
	return DefaultStaleAfter
}

// immediateRetries is how many times in a row the guard is tried again at
// once after finding it gone or broken, before waiting (or, without wait,
// giving up).
const immediateRetries = 3

// releaseGuardWait bounds how long a release waits for a guard held by
// another process before it releases without the guard: a breaker holds
// it for milliseconds, and a guard that anyone can plant must never keep a
// holder from releasing.
const releaseGuardWait = time.Second

// takeGuard takes the lock's guard file with the strategy's exclusive
// creation, breaking it by the stale rule if its holder died. Without wait
// it returns errBusy if the guard is held; with wait it waits as long as
// ctx allows, returning ctx's error when it ends, and, if until is not
// zero, returns errBusy once the clock reaches until.
func (m fileMechanism) takeGuard(ctx context.Context, l *Lock, wait bool, until time.Time) (*guard, error) {
	path := l.path + guardSuffix
	var b backoff
	immediate := 0
	for {
		data, err := l.newRecord()
		if err != nil {
			return nil, err
		}
		holdRecord(data)
		id, _, err := m.create(l, path, data, false)
		if err == nil {
			return &guard{l: l, path: path, id: id, data: data}, nil
		}
		dropRecord(data)
		if !errors.Is(err, errBusy) {
			return nil, err
		}
		v, err := l.judge(path, l.guardStaleAfter(), false)
		switch {
		case errors.Is(err, fs.ErrNotExist): // released in between
		case err != nil:
			return nil, err
		case v.stale:
			if _, err := l.removeAside(path, v); err != nil {
				return nil, err
			}
		default:
			immediate = immediateRetries // held: wait
		}
		if immediate < immediateRetries {
			immediate++
			continue
		}
		immediate = 0
		if !wait || !until.IsZero() && !l.cfg.clock.Now().Before(until) {
			return nil, errBusy
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		t := l.cfg.clock.NewTimer(b.next(l.cfg.minWait, l.cfg.maxWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		case <-t.C():
		}
	}
}

// release removes the guard if it is still this holder's. A nil guard is
// released by doing nothing.
func (g *guard) release() {
	if g == nil {
		return
	}
	data, info, err := readRecordFile(g.l.cfg.fs, g.path)
	if err == nil && sameFile(info.ID, g.id) && string(data) == string(g.data) {
		g.l.cfg.fs.Remove(g.path)
	}
	dropRecord(g.data)
}

// removeAside removes the file at path if it is the one the verdict was
// about, unchanged. It never removes by path after a check: it renames
// whatever is at path to a private name, atomically, and then looks at what
// it moved. If that is not the judged file as judged (another file, other
// contents, or refreshed since), it is put back with link, which never
// replaces anything. It reports whether the judged file was removed.
func (l *Lock) removeAside(path string, v verdict) (bool, error) {
	return l.removeIf(path, v.sameAs)
}

// removeIf removes the file at path if it is, when moved aside, the file
// that is recognises; otherwise it puts it back. It reports whether it
// removed it.
func (l *Lock) removeIf(path string, is func(fsys.Info, []byte) bool) (bool, error) {
	fsy := l.cfg.fs
	// Look once more first, so that the window in which a live file may
	// be moved (and must be put back) is as short as it can be.
	if data, info, err := readRecordFile(fsy, path); err != nil || !is(info, data) {
		return false, nil
	}
	// The name carries the time of the move (a moved file keeps its old
	// mtime), so that the sweep never takes a file that is being looked at.
	aside := tempName(path, kindAside, strconv.FormatInt(l.cfg.clock.Now().Unix(), 10))
	if err := fsy.Rename(path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	data, info, err := readRecordFile(fsy, aside)
	if err == nil && is(info, data) {
		if err := fsy.Remove(aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true, err
		}
		return true, nil
	}
	// Not what was judged: its owner is alive. Put it back. If another
	// file was made at path meanwhile, link fails and the moved file is
	// lost to its owner, who learns it from its heartbeat or Unlock
	// (ErrLockLost); this takes a process stopped inside the guard for
	// longer than the stale-after age (docs/design.md).
	if lerr := fsy.Link(aside, path); lerr != nil && !errors.Is(lerr, fs.ErrExist) && !errors.Is(lerr, fs.ErrNotExist) {
		return false, lerr
	}
	if err := fsy.Remove(aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return false, nil
}

// sweep removes the lock's temporary files (claims, probes, files moved
// aside) older than debrisAge: debris of processes killed between making
// and removing them. It is called with the guard held, after a break.
func (l *Lock) sweep() {
	fsy := l.cfg.fs
	dir, base := dirOf(l.path), filepath.Base(l.path)
	names, err := fsy.ReadDirNames(dir)
	if err != nil {
		return
	}
	var now time.Time
	for _, name := range names {
		rest, ok := strings.CutPrefix(name, base+".")
		if !ok {
			continue
		}
		// The guard's own temporary files: <lock>.guard.<kind>.*
		rest = strings.TrimPrefix(rest, guardSuffix[1:]+".")
		kind, rest, _ := strings.Cut(rest, ".")
		if kind != kindClaim && kind != kindProbe && kind != kindAside {
			continue
		}
		p := besideDir(dir, name)
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

// fileHeld is a Soft or Link lock this process holds.
type fileHeld struct {
	m    fileMechanism
	l    *Lock
	id   fsys.FileID
	data []byte // the record as written

	lostCh chan struct{} // closed when the heartbeat finds the lock lost
	every  time.Duration // the heartbeat's interval; 0: none

	// beatMu is held by a heartbeat while it runs and by stopHeartbeat,
	// which therefore waits for a heartbeat in progress.
	beatMu  sync.Mutex
	timer   clock.Timer // the next heartbeat
	stopped bool

	mu        sync.Mutex
	refreshed time.Time // when the lock file was made or last refreshed
	isLost    bool

	// kept is the lock file opened for writing, held open while the lock
	// is held (see keepsOpen); nil if none.
	kept io.Closer
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
	if runtime.GOOS != "linux" || l.cfg.fs != (fsys.OS{}) {
		return false
	}
	if l.local == 0 {
		l.local = 2
		if eventsSeeAll(dirOf(l.path)) {
			l.local = 1
		}
	}
	return l.local == 1
}

// closeKept closes the kept descriptor, if any.
func (h *fileHeld) closeKept() {
	if h.kept != nil {
		h.kept.Close()
		h.kept = nil
	}
}

// newHeld returns the holding of a lock file made, with data, no earlier
// than made; kept is the file kept open, or nil.
func (m fileMechanism) newHeld(l *Lock, id fsys.FileID, data []byte, made time.Time, kept io.Closer) *fileHeld {
	h := &fileHeld{m: m, l: l, id: id, data: data, lostCh: make(chan struct{}), refreshed: made,
		every: l.cfg.heartbeatEvery(), kept: kept}
	if h.every > 0 {
		// A timer callback rather than a goroutine: nothing runs, and
		// nothing is left to wait for, between heartbeats. beatMu keeps
		// a callback that fires at once from racing this assignment.
		h.beatMu.Lock()
		h.timer = l.cfg.clock.AfterFunc(h.every, h.heartbeat)
		h.beatMu.Unlock()
	}
	return h
}

func (h *fileHeld) lost() <-chan struct{} { return h.lostCh }

// heartbeat refreshes the lock file and schedules the next heartbeat,
// until the holding ends or the lock is found lost.
func (h *fileHeld) heartbeat() {
	h.beatMu.Lock()
	defer h.beatMu.Unlock()
	if h.stopped {
		return
	}
	if h.beat() {
		h.timer = h.l.cfg.clock.AfterFunc(h.every, h.heartbeat)
	}
}

// stopHeartbeat ends the heartbeat, waiting for one in progress.
func (h *fileHeld) stopHeartbeat() {
	h.beatMu.Lock()
	defer h.beatMu.Unlock()
	h.stopped = true
	if h.timer != nil {
		h.timer.Stop()
	}
}

// beat refreshes the lock file's mtime if it is still this holder's. It
// reports false when the lock was found lost. It takes no guard, so that
// nothing — not a breaker that died holding the guard on another host —
// can keep a holder from refreshing: a breaker that judged the lock before
// a refresh sees the new mtime on the file it moves aside, and puts it
// back. Errors are retried at the next beat; a lock that cannot be
// refreshed grows stale and may be broken, which the next beat then finds.
func (h *fileHeld) beat() bool {
	owned, err := h.owned()
	if err == nil && !owned {
		h.mu.Lock()
		h.isLost = true
		h.mu.Unlock()
		close(h.lostCh)
		return false
	}
	if owned {
		t := h.l.cfg.clock.Now()
		if h.l.cfg.fs.Touch(h.l.path) == nil {
			h.mu.Lock()
			h.refreshed = t
			h.mu.Unlock()
		}
	}
	return true
}

// young reports whether the lock was made or refreshed so recently, by
// this host's clocks, that no process can judge it stale by age: less than
// half the stale-after age ago.
func (h *fileHeld) young() bool {
	if h.l.cfg.staleAfter == 0 {
		return true
	}
	h.mu.Lock()
	refreshed := h.refreshed
	h.mu.Unlock()
	now := h.l.cfg.clock.Now()
	limit := h.l.cfg.staleAfter / 2
	// Both the monotonic and the wall clock must agree: the monotonic
	// clock stops while the machine sleeps, and the wall clock may jump.
	mono, wall := now.Sub(refreshed), now.Round(0).Sub(refreshed.Round(0))
	return mono >= 0 && mono < limit && wall >= 0 && wall < limit
}

// release removes the lock file if it is still this holder's: the same
// inode with the same record (and so the same random token). If the lock
// may have been judged stale, the check and the removal are made under the
// guard, or, when the guard cannot be had within releaseGuardWait, by
// moving the file aside and removing it only if it is this holder's.
func (h *fileHeld) release() error {
	h.stopHeartbeat()
	err := h.remove()
	if err != nil && !errors.Is(err, ErrLockLost) {
		if owned, oerr := h.owned(); owned || oerr != nil {
			// The lock file is (or may still be) this holder's: keep
			// the hold, so that Unlock can be retried.
			h.resumeHeartbeat()
			return &holdKept{err}
		}
	}
	h.closeKept()
	dropRecord(h.data)
	return err
}

// resumeHeartbeat starts the heartbeat again after a failed release.
func (h *fileHeld) resumeHeartbeat() {
	h.beatMu.Lock()
	defer h.beatMu.Unlock()
	h.stopped = false
	if h.every > 0 {
		h.timer = h.l.cfg.clock.AfterFunc(h.every, h.heartbeat)
	}
}

// remove removes the lock file if it is this holder's; see release.
func (h *fileHeld) remove() error {
	h.mu.Lock()
	isLost := h.isLost
	h.mu.Unlock()
	if isLost {
		return ErrLockLost
	}
	if !h.young() {
		until := h.l.cfg.clock.Now().Add(releaseGuardWait)
		g, err := h.m.takeGuard(context.Background(), h.l, true, until)
		if err != nil {
			return h.releaseUnguarded()
		}
		defer g.release()
	}
	owned, err := h.owned()
	switch {
	case owned:
		err := h.l.cfg.fs.Remove(h.l.path)
		if errors.Is(err, fs.ErrNotExist) {
			// Removed between the check and here: only a breaker does
			// that, to a lock it judged stale.
			return ErrLockLost
		}
		return err
	case err == nil:
		return ErrLockLost
	}
	return err
}

// releaseUnguarded removes the lock file without the guard (held by
// another, or impossible to make): it moves whatever is at the path aside
// and removes it only if it is this holder's file with this holder's
// record, never removing by path after a check (docs/design.md, "Release
// without the guard").
func (h *fileHeld) releaseUnguarded() error {
	removed, err := h.l.removeIf(h.l.path, func(info fsys.Info, data []byte) bool {
		return sameFile(info.ID, h.id) && string(data) == string(h.data)
	})
	switch {
	case err != nil:
		return err
	case !removed:
		return ErrLockLost
	}
	return nil
}

// owned reports whether the lock path still names the file this holder
// made, with this holder's record in it. A holder that keeps its lock file
// open needs only the file's identity: no other file can have that inode
// while it is open, and nothing but this holder writes into it (a breaker
// that puts a moved file back puts back the same file), so the record is
// not read back. That spares four system calls on the way to every
// release, which is the way to the next waiter's acquisition.
func (h *fileHeld) owned() (bool, error) {
	if h.kept != nil && !h.id.IsZero() {
		info, err := h.l.cfg.fs.Lstat(h.l.path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return info.ID == h.id, nil
	}
	data, info, err := readRecordFile(h.l.cfg.fs, h.l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sameFile(info.ID, h.id) && string(data) == string(h.data), nil
}

func (fileMechanism) inspect(l *Lock) (Status, error) {
	v, err := l.judge(l.path, l.cfg.staleAfter, true)
	if errors.Is(err, fs.ErrNotExist) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, pathError("inspect", l.given, err)
	}
	st := Status{Held: true, Holder: v.holder, RecordErr: v.recordErr, Foreign: v.foreign, Stale: v.stale, StaleReason: v.reason}
	if v.ageKnown {
		st.Age = v.age
	}
	return st, nil
}
