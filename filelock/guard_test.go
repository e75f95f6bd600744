package filelock

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
)

// faultFS is the real filesystem with chosen operations failing: those
// whose function is set and returns an error.
type faultFS struct {
	fsys.OS
	touch  func(name string) error
	remove func(name string) error
	create func(name string) error
	rename func(oldname, newname string) error
	link   func(oldname, newname string) error
	read   func(name string) error
	// list, if set, is called at each listing of a directory opened by
	// the faultFS, and returns which entries that listing leaves out
	// (nil: none).
	list func(dir string) (hide func(name string) bool)
}

func (f *faultFS) Rename(oldname, newname string) error {
	if f.rename != nil {
		if err := f.rename(oldname, newname); err != nil {
			return err
		}
	}
	return f.OS.Rename(oldname, newname)
}

func (f *faultFS) OpenRead(name string) (fsys.File, error) {
	if f.read != nil {
		if err := f.read(name); err != nil {
			return nil, err
		}
	}
	return f.OS.OpenRead(name)
}

func (f *faultFS) Link(oldname, newname string) error {
	if f.link != nil {
		if err := f.link(oldname, newname); err != nil {
			return err
		}
	}
	return f.OS.Link(oldname, newname)
}

func (f *faultFS) CreateExcl(name string, perm fs.FileMode) (fsys.File, error) {
	if f.create != nil {
		if err := f.create(name); err != nil {
			return nil, err
		}
	}
	return f.OS.CreateExcl(name, perm)
}

func (f *faultFS) Touch(name string) error {
	if f.touch != nil {
		if err := f.touch(name); err != nil {
			return err
		}
	}
	return f.OS.Touch(name)
}

func (f *faultFS) Remove(name string) error {
	if f.remove != nil {
		if err := f.remove(name); err != nil {
			return err
		}
	}
	return f.OS.Remove(name)
}

// OpenDir opens name as the real filesystem does, with the same faults in
// the entries of the directory.
func (f *faultFS) OpenDir(name string) (fsys.Dir, error) {
	d, err := fsys.OpenDir(f.OS, name)
	if err != nil {
		return nil, err
	}
	return faultDir{Dir: d, f: f}, nil
}

// faultDir is a directory opened by a faultFS.
type faultDir struct {
	fsys.Dir
	f *faultFS
}

// fault is the error fn, if set, returns for the entry name.
func (d faultDir) fault(fn func(string) error, name string) error {
	if fn == nil {
		return nil
	}
	return fn(filepath.Join(d.Name(), name))
}

func (d faultDir) CreateExcl(name string, perm fs.FileMode) (fsys.File, error) {
	if err := d.fault(d.f.create, name); err != nil {
		return nil, err
	}
	return d.Dir.CreateExcl(name, perm)
}

func (d faultDir) Touch(name string) error {
	if err := d.fault(d.f.touch, name); err != nil {
		return err
	}
	return d.Dir.Touch(name)
}

func (d faultDir) Remove(name string) error {
	if err := d.fault(d.f.remove, name); err != nil {
		return err
	}
	return d.Dir.Remove(name)
}

func (d faultDir) Scan(fn func(name []byte)) error {
	if d.f.list == nil {
		return d.Dir.Scan(fn)
	}
	hide := d.f.list(d.Name())
	return d.Dir.Scan(func(name []byte) {
		if hide == nil || !hide(string(name)) {
			fn(name)
		}
	})
}

func eio(op, name string) error { return &fs.PathError{Op: op, Path: name, Err: syscall.EIO} }

// driveUntil advances fake by step whenever the code under test starts
// waiting on it, up to total, and returns what done delivers; it fails the
// test if done delivers nothing within 30 s of real time.
func driveUntil(t *testing.T, fake *clock.Fake, step, total time.Duration, done <-chan error) error {
	t.Helper()
	giveUp := time.After(30 * time.Second)
	for moved := time.Duration(0); ; {
		select {
		case err := <-done:
			return err
		case <-fake.TimerAdded():
			if moved < total {
				fake.Advance(step)
				moved += step
			}
		case <-giveUp:
			t.Fatalf("still waiting after the fake clock moved %v", total)
			return nil
		}
	}
}

// TestUnlockDoesNotWaitForAPlantedGuard: a guard naming a live process,
// which anyone who can write in the directory can plant and keep fresh,
// delays the release of a lock that may have been judged stale by at most
// releaseGuardWait, and the release still removes the holder's file and
// nothing else.
func TestUnlockDoesNotWaitForAPlantedGuard(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			fake := clock.NewFake(time.Now())
			// The heartbeat cannot refresh, so the release is not young.
			ffs := &faultFS{touch: func(name string) error { return eio("utimensat", name) }}
			opts := []Option{WithStrategy(s), withClock(fake), withFS(ffs), WithStaleAfter(time.Hour)}
			l := newLock(t, path, opts...)
			require.NoError(t, lockWithin(l))
			rec := forgedRecord(t, proc.Of(liveChild(t))) // a live process of this host
			require.NoError(t, os.WriteFile(path+guardSuffix, rec, 0o644))
			fake.Advance(31 * time.Minute)

			done := make(chan error, 1)
			go func() { done <- l.Unlock() }()
			require.NoError(t, driveUntil(t, fake, 100*time.Millisecond, 10*releaseGuardWait, done))
			require.NoFileExists(t, path)
			got, err := os.ReadFile(path + guardSuffix)
			require.NoError(t, err)
			require.Equal(t, rec, got, "the planted guard is not the releaser's to remove")
		})
	}
}

// TestUnguardedUnlockReadFailureKeepsTheHold: an Unlock that releases
// without the guard (it cannot be made), and cannot read the lock file
// (EMFILE) at its look before the move aside or at its look at what it
// moved, keeps the hold, with the file at the lock path, and its retry
// releases it: a file it could not read is not another's.
func TestUnguardedUnlockReadFailureKeepsTheHold(t *testing.T) {
	for _, at := range []string{"before the move", "the moved file"} {
		for _, s := range []Strategy{Soft, Link} {
			t.Run(at+"/"+s.String(), func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "x.lock")
				var failing atomic.Bool
				ffs := &faultFS{
					touch: func(name string) error { return eio("utimensat", name) }, // never young
					create: func(name string) error {
						if strings.HasPrefix(name, path+guardSuffix) { // the guard, or its claim
							return eio("open", name)
						}
						return nil
					},
					read: func(name string) error {
						aside := strings.HasPrefix(filepath.Base(name), "x.lock."+kindAside+".")
						if (at == "before the move" && name == path || at == "the moved file" && aside) && failing.CompareAndSwap(true, false) {
							return &fs.PathError{Op: "open", Path: name, Err: syscall.EMFILE}
						}
						return nil
					},
				}
				fake := clock.NewFake(time.Now())
				l := newLock(t, path, WithStrategy(s), withClock(fake), withFS(ffs), WithStaleAfter(time.Hour))
				require.NoError(t, lockWithin(l))
				fake.Advance(31 * time.Minute)
				fake.Settle() // the heartbeats it fired (which fail) are over
				failing.Store(true)
				require.ErrorIs(t, l.Unlock(), syscall.EMFILE)
				require.False(t, failing.Load(), "the read did not fail")
				require.Equal(t, 1, l.Depth(), "the hold is kept")
				require.Equal(t, "x.lock", dirEntries(t, dir), "the lock file is at its path, nothing aside")
				require.NoError(t, l.Unlock())
				require.Empty(t, dirEntries(t, dir))
			})
		}
	}
}

// TestFailedUnlockKeepsTheHold: an Unlock whose removal of the lock file
// fails (EIO) leaves the handle holding the lock while the file is, or may
// still be, its own, so that it can be retried, and the retry releases
// it; once the file is found to be another's, the hold is let go.
func TestFailedUnlockKeepsTheHold(t *testing.T) {
	for _, tc := range []struct {
		name string
		// fail is done, at the failing removal of the lock file at path,
		// before the EIO; it returns what undoes it.
		fail func(t *testing.T, path string) (undo func())
		kept bool
	}{
		{"file still there", func(*testing.T, string) func() { return func() {} }, true},
		{"cannot tell", func(t *testing.T, path string) func() {
			// The lock's directory moved aside, a file in its place:
			// the path cannot be looked at (ENOTDIR).
			dir := filepath.Dir(path)
			require.NoError(t, os.Rename(dir, dir+".aside"))
			require.NoError(t, os.WriteFile(dir, nil, 0o644))
			return func() {
				require.NoError(t, os.Remove(dir))
				require.NoError(t, os.Rename(dir+".aside", dir))
			}
		}, true},
		{"another's file", func(t *testing.T, path string) func() {
			require.NoError(t, os.Remove(path))
			require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
			return func() { require.NoError(t, os.Remove(path)) }
		}, false},
	} {
		for _, s := range []Strategy{Soft, Link} {
			t.Run(tc.name+"/"+s.String(), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "lockdir", "x.lock")
				require.NoError(t, os.Mkdir(filepath.Dir(path), 0o755))
				failing := true
				undo := func() {}
				ffs := &faultFS{remove: func(name string) error {
					if failing && name == path {
						failing = false
						undo = tc.fail(t, path)
						return eio("unlink", name)
					}
					return nil
				}}
				l := newLock(t, path, WithStrategy(s), withFS(ffs))
				require.NoError(t, lockWithin(l))
				err := l.Unlock()
				undo()
				require.ErrorIs(t, err, syscall.EIO)
				var pe *fs.PathError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, path, pe.Path)
				if !tc.kept {
					require.Zero(t, l.Depth(), "the hold is let go: the file is another's")
					require.ErrorIs(t, l.Unlock(), ErrNotLocked)
					return
				}
				require.Equal(t, 1, l.Depth(), "still held")
				require.FileExists(t, path)
				other := newLock(t, path, WithStrategy(s))
				require.ErrorIs(t, other.TryLock(), ErrWouldBlock)

				require.NoError(t, l.Unlock())
				require.Zero(t, l.Depth())
				require.NoFileExists(t, path)
				require.NoError(t, other.TryLock())
				require.NoError(t, other.Unlock())
			})
		}
	}
}

// TestFairFullDiskLeavesNoQueue: a fair Lock whose ticket cannot be made
// (ENOSPC) fails with that error and leaves no queue directory behind.
func TestFairFullDiskLeavesNoQueue(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.lock")
		ffs := &faultFS{create: func(name string) error {
			if filepath.Dir(name) != path+queueSuffix {
				return nil
			}
			if _, err := os.Stat(path + queueSuffix); err != nil {
				return nil // the queue is made first
			}
			return &fs.PathError{Op: "open", Path: name, Err: syscall.ENOSPC}
		}}
		l := newLock(t, path, WithStrategy(s), WithFair(), withFS(ffs))
		require.ErrorIs(t, lockWithin(l), syscall.ENOSPC)
		require.Zero(t, l.Depth())
		require.Equal(t, "", dirEntries(t, dir), "nothing left behind")
	})
}

// TestGuardReleaseRemovesOnlyItsOwn: a breaker's release of the guard
// removes it only while it is still its own file with its own record; one
// that another breaker has put in its place since (after judging this
// one's stale), or that was written over, is left to its holder.
func TestGuardReleaseRemovesOnlyItsOwn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replace func(t *testing.T, path string)
	}{
		{"another breaker's guard in its place", func(t *testing.T, path string) {
			require.NoError(t, os.Remove(path))
			require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
		}},
		{"the same file written over by another breaker", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			require.NoError(t, err)
			_, err = f.Write(forgedRecord(t, otherHost()))
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			l := newLock(t, path)
			g, err := l.mech.(fileMechanism).takeGuard(t.Context(), l, false, time.Time{})
			require.NoError(t, err)
			tc.replace(t, g.path)
			want, err := os.ReadFile(g.path)
			require.NoError(t, err)
			g.release()
			got, err := os.ReadFile(g.path)
			require.NoError(t, err, "another breaker's guard removed")
			require.Equal(t, string(want), string(got))
		})
	}
	t.Run("its own", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.lock")
		l := newLock(t, path)
		g, err := l.mech.(fileMechanism).takeGuard(t.Context(), l, false, time.Time{})
		require.NoError(t, err)
		g.release()
		_, err = os.Lstat(g.path)
		require.ErrorIs(t, err, fs.ErrNotExist, "its own guard left")
	})
}

// TestUnguardedReleaseChecksTheRecord: a release without the guard (of a
// lock old enough to have been judged stale, the guard not to be had)
// removes the lock file only if it holds this holder's record, not by its
// identity alone: a file of the same inode number may be another
// holder's, the number reused once a breaker removed this holder's file
// (here the file is written over in place, which has the same effect).
func TestUnguardedReleaseChecksTheRecord(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			ffs := &faultFS{
				touch: func(string) error { return syscall.EIO },
				create: func(name string) error {
					if strings.HasSuffix(name, guardSuffix) || strings.Contains(name, guardSuffix+".") {
						return syscall.EIO
					}
					return nil
				},
			}
			const staleAfter = 10 * time.Second
			fake := clock.NewFake(time.Now())
			l := newLock(t, path, WithStrategy(s), WithStaleAfter(staleAfter), withFS(ffs), withClock(fake))
			require.NoError(t, l.TryLock())
			// Past half the age with no refresh (every touch fails): no
			// longer young, so the release wants the guard.
			fake.Advance(staleAfter/2 + time.Second)
			fake.Settle()
			other := forgedRecord(t, otherHost())
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			require.NoError(t, err)
			_, err = f.Write(other)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			require.ErrorIs(t, l.Unlock(), ErrLockLost)
			got, err := os.ReadFile(path)
			require.NoError(t, err, "another holder's lock file removed")
			require.Equal(t, string(other), string(got))
		})
	}
}

// TestFailedUnlockStartsNoHeartbeat: a lock with no heartbeat (age-based
// breaking off) whose release failed, and which keeps its hold, still has
// none: the heartbeat is resumed only where there was one.
func TestFailedUnlockStartsNoHeartbeat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	failing := true
	ffs := &faultFS{remove: func(name string) error {
		if failing && name == path {
			failing = false
			return eio("unlink", name)
		}
		return nil
	}}
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, WithStaleAfter(0), withFS(ffs), withClock(fake))
	require.NoError(t, l.TryLock())
	require.ErrorIs(t, l.Unlock(), syscall.EIO)
	h := l.held.(*fileHeld)
	h.beatMu.Lock()
	timer := h.timer
	h.beatMu.Unlock()
	require.Nil(t, timer, "a heartbeat started by the failed release")
	require.NoError(t, l.Unlock())
}

// TestGuardBrokenAgainAndAgainTriedAFewTimes: a guard found gone or broken
// is tried again at once immediateRetries times in a row, no more: a
// guard that dying breakers leave again and again then sends a breaker
// that does not wait away busy, rather than round a loop for as long as
// they keep dying.
func TestGuardBrokenAgainAndAgainTriedAFewTimes(t *testing.T) {
	skipWithoutDeadRule(t)
	dead := forgedRecord(t, proc.Of(deadPID(t)))
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			tries := 0
			ffs := &faultFS{create: func(name string) error {
				if !strings.HasSuffix(name, guardSuffix) && !strings.Contains(name, guardSuffix+".") {
					return nil
				}
				if tries++; tries > 10*immediateRetries {
					return syscall.EIO // ends the endless loop of a slip
				}
				// Another breaker's guard, which died before it released it.
				return os.WriteFile(path+guardSuffix, dead, 0o644)
			}}
			l := newLock(t, path, WithStrategy(s), withFS(ffs))
			_, err := l.mech.(fileMechanism).takeGuard(t.Context(), l, false, time.Time{})
			require.ErrorIs(t, err, errBusy)
			require.Equal(t, immediateRetries+1, tries, "tries of the guard")
		})
	}
}

// TestBreakerWaitsForAGuardHeldByALiveProcess: a waiter that finds a lock
// stale (its holder dead) but its guard held by a live process waits for
// the guard as long as its context allows, and then gives up; it never
// breaks the lock without the guard.
func TestBreakerWaitsForAGuardHeldByALiveProcess(t *testing.T) {
	skipWithoutDeadRule(t)
	guardRecord := forgedRecord(t, proc.Of(liveChild(t)))
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			_, path, dead := guardedDeadLock(t, guardRecord)
			l := newLock(t, path, WithStrategy(s))
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			require.ErrorIs(t, l.LockContext(ctx), ErrTimeout, "taken while another process held the guard")
			now, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(dead), string(now), "the lock broken without the guard")
		})
	}
}
