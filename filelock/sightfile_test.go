package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/fsys/memfs"
	"github.com/lockstress/lockstress/internal/proc"
)

// TestSightingFileCarriesTheWatch: a process that judges a lock file
// stale by age once and exits leaves its sighting beside it, and the next
// process of the same boot counts from it: it breaks the lock at once once
// three fifths of the age have passed since the first sighting. Each
// process is a handle with a fake clock of its own (the sightings a
// process keeps in memory are per clock); all of them read the same
// monotonic clock. A sighting file of another boot, of another state of
// the file (its change time, or its contents), dated in the future,
// malformed, or that others may write counts for nothing.
func TestSightingFileCarriesTheWatch(t *testing.T) {
	const staleAfter = 5 * time.Minute
	for _, s := range []Strategy{Soft, Link} {
		for _, c := range []struct {
			name  string
			boot  string                                    // the second process's boot ("": the first's)
			spoil func(t *testing.T, m *memfs.FS, p string) // what befalls the sighting file between the two
			taken bool
		}{
			{name: "carried", taken: true},
			{name: "none", spoil: func(t *testing.T, m *memfs.FS, p string) { require.NoError(t, m.Remove(p)) }},
			{name: "another boot", spoil: func(t *testing.T, m *memfs.FS, p string) {
				s := readSeen(t, m, p)
				s.boot = "boot-2"
				putSeen(t, m, p, s.marshal(), seenPerm)
			}},
			{name: "other contents", spoil: func(t *testing.T, m *memfs.FS, p string) {
				s := readSeen(t, m, p)
				s.sum++
				putSeen(t, m, p, s.marshal(), seenPerm)
			}},
			{name: "another state of the file", spoil: func(t *testing.T, m *memfs.FS, p string) {
				s := readSeen(t, m, p)
				s.changed++
				putSeen(t, m, p, s.marshal(), seenPerm)
			}},
			{name: "from the future", spoil: func(t *testing.T, m *memfs.FS, p string) {
				s := readSeen(t, m, p)
				s.since += time.Hour
				putSeen(t, m, p, s.marshal(), seenPerm)
			}},
			{name: "malformed", spoil: func(t *testing.T, m *memfs.FS, p string) {
				data := readSeen(t, m, p).marshal()
				putSeen(t, m, p, append(data[:len(data)-1], " 0\n"...), seenPerm)
			}},
			{name: "writable by others", spoil: func(t *testing.T, m *memfs.FS, p string) {
				putSeen(t, m, p, readSeen(t, m, p).marshal(), 0o666)
			}},
		} {
			t.Run(s.String()+"/"+c.name, func(t *testing.T) {
				w := newSightWorld(t, s, staleAfter)
				w.leftStale()

				first := w.process(20, "boot-1")
				require.ErrorIs(t, first.TryLock(), ErrWouldBlock, "broken at its first sighting")
				seen := seenPath(first, w.path)
				readSeen(t, w.m, seen)
				if c.spoil != nil {
					c.spoil(t, w.m, seen)
				}
				w.pass(watchNeed(staleAfter))

				next := w.process(30, "boot-1")
				err := next.TryLock()
				if !c.taken {
					require.ErrorIs(t, err, ErrWouldBlock, "broken on the word of a sighting file that does not count")
					return
				}
				require.NoError(t, err, "the first process's sighting not counted")
				names, err := w.m.ReadDirNames("/locks")
				require.NoError(t, err)
				require.Equal(t, []string{"x.lock"}, names, "the sighting file outlived the file it was about")
				require.NoError(t, next.Unlock())
			})
		}
	}
}

// sightWorld is a memfs directory whose times come from a fake wall
// clock, and processes that share it: handles with fake clocks of their
// own, started at the wall clock's time, which judge other processes'
// holders Unknown (as of another PID namespace), so that only age breaks
// their locks.
type sightWorld struct {
	t          *testing.T
	s          Strategy
	staleAfter time.Duration
	wall       *clock.Fake
	m          *memfs.FS
	path       string
	clocks     []*clock.Fake
}

func newSightWorld(t *testing.T, s Strategy, staleAfter time.Duration) *sightWorld {
	t.Helper()
	skipForTheOverflowUser(t)
	forgetSightings(t)
	// Not whole seconds: no coarse filesystem's slack.
	wall := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 123456789, time.UTC))
	w := &sightWorld{t: t, s: s, staleAfter: staleAfter, wall: wall, m: memfs.New(wall), path: "/locks/x.lock"}
	require.NoError(t, w.m.MkdirAll("/locks", 0o755))
	return w
}

// process returns a handle of a new process of the given PID and boot.
func (w *sightWorld) process(pid int, boot string) *Lock {
	w.t.Helper()
	return w.processOn(pid, boot, &stView{w.m})
}

// processOn is process, with its file operations made through f.
func (w *sightWorld) processOn(pid int, boot string, f fsys.FS) *Lock {
	w.t.Helper()
	k := clock.NewFake(w.wall.Now())
	w.clocks = append(w.clocks, k)
	return newLock(w.t, w.path, WithStrategy(w.s), withFS(f), withClock(k), WithStaleAfter(w.staleAfter),
		withProcess(proc.Identity{PID: pid, Host: "h", BootID: boot, PIDNS: "n", Start: 1},
			func(proc.Identity) proc.State { return proc.Unknown }))
}

// skipForTheOverflowUser skips a test of sighting files where they are
// never kept: in a process of the overflow user ID, which
// TestSightingsOfTheOverflowUser tests.
func skipForTheOverflowUser(t *testing.T) {
	t.Helper()
	if euid == overflowUID() {
		t.Skip("the overflow user ID keeps no sighting files")
	}
}

// forgetSightings empties this process's table of sightings, so that a
// test that counts on its own entries never meets the table's reset when
// it is full (maxSightings).
func forgetSightings(t *testing.T) {
	t.Helper()
	seenFiles.mu.Lock()
	defer seenFiles.mu.Unlock()
	seenFiles.m = nil
}

// holderDies makes a process of another boot take the lock and die,
// out of sight: its lock file stops changing.
func (w *sightWorld) holderDies() {
	w.t.Helper()
	holder := w.process(10, "boot-0")
	require.NoError(w.t, holder.TryLock())
	holder.held.(*fileHeld).stopHeartbeat()
}

// leftStale makes the lock's holder die (holderDies) and lets the
// stale-after age and a second more go by: the lock is stale by age.
func (w *sightWorld) leftStale() {
	w.t.Helper()
	w.holderDies()
	w.pass(w.staleAfter + time.Second)
}

// seenBeforeStale makes the lock's holder die (holderDies) and, 3 minutes
// later (the age is 5 in the tests that call it), a process pid of boot-1
// see its lock file, not yet stale by age; it returns that process.
func (w *sightWorld) seenBeforeStale(pid int) *Lock {
	w.t.Helper()
	w.holderDies()
	w.pass(3 * time.Minute)
	l := w.process(pid, "boot-1")
	require.ErrorIs(w.t, l.TryLock(), ErrWouldBlock) // not stale yet: seen from now
	return l
}

// pass lets d go by for the filesystem and every process, whose timers
// (heartbeats) run.
func (w *sightWorld) pass(d time.Duration) {
	w.wall.Advance(d)
	for _, k := range w.clocks {
		k.Advance(d)
		k.Settle()
	}
}

// TestSightingCountsTheOverlapOnce: a process that has seen a lock file
// for a while before it grew stale, and then finds another process's
// sighting of it, counts the time both saw it once: it breaks the lock
// once the earlier of the two sightings is three fifths of the age old,
// not when the two add up to that.
func TestSightingCountsTheOverlapOnce(t *testing.T) {
	const staleAfter = 5 * time.Minute
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			w := newSightWorld(t, s, staleAfter)
			long := w.seenBeforeStale(20)
			w.pass(2*time.Minute + time.Second)
			require.ErrorIs(t, w.process(30, "boot-1").TryLock(), ErrWouldBlock) // stale: its sighting
			w.pass(30 * time.Second)
			// long has seen it for 2m31s, the sighting is 30 s old: the
			// two overlap, and the earlier is short of three minutes.
			require.ErrorIs(t, long.TryLock(), ErrWouldBlock, "the overlap of two sightings counted twice")
			w.pass(30 * time.Second)
			require.NoError(t, long.TryLock(), "seen for three fifths of the age and more")
			require.NoError(t, long.Unlock())
		})
	}
}

// TestSightingDatesFromTheWritersFirstSight: a process that watched a
// lock file before it grew stale writes, once it is, a sighting dated from
// its own first sight of it, not from the moment it writes: a process that
// reads it then counts that earlier watch too.
func TestSightingDatesFromTheWritersFirstSight(t *testing.T) {
	const staleAfter = 5 * time.Minute
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			w := newSightWorld(t, s, staleAfter)
			early := w.seenBeforeStale(20)
			require.NoFileExists(t, seenPath(early, w.path), "a sighting of a lock not stale by age")
			w.pass(2*time.Minute + time.Second)
			require.ErrorIs(t, early.TryLock(), ErrWouldBlock) // stale: its sighting written
			readSeen(t, w.m, seenPath(early, w.path))
			// A newcomer counts from early's first sight: not yet a
			// second before watchNeed has passed since, and then at once.
			w.pass(watchNeed(staleAfter) - 2*time.Minute - 2*time.Second)
			require.ErrorIs(t, w.process(30, "boot-1").TryLock(), ErrWouldBlock, "the sighting dated from before the first sight")
			w.pass(time.Second)
			late := w.process(40, "boot-1")
			require.NoError(t, late.TryLock(), "the sighting dated from when it was written")
			require.NoError(t, late.Unlock())
		})
	}
}

// TestClockStepBreaksNoLiveLockForOneShots: while the filesystem's clock
// steps four minutes forward every 150 s under a live, refreshing holder,
// a new process every ten seconds making one TryLock, each counting its
// predecessors' sightings, never breaks the lock in ten minutes: the
// holder's heartbeat changes the file before any sighting of one state of
// it is three fifths of the age old, and a sighting of an earlier state
// counts for nothing. Once the holder dies, the one-shots break it after
// that long.
func TestClockStepBreaksNoLiveLockForOneShots(t *testing.T) {
	const staleAfter = 5 * time.Minute
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			w := newSightWorld(t, s, staleAfter)
			holder := w.process(10, "boot-1")
			require.NoError(t, holder.TryLock())
			w.pass(time.Minute)
			oneShot := func() error { return w.process(20, "boot-1").TryLock() }
			for i := range 60 {
				if i%15 == 0 {
					w.wall.Advance(4 * time.Minute) // a step, every 150 s
				}
				require.ErrorIs(t, oneShot(), ErrWouldBlock, "a live lock broken by one-shots after a clock step")
				w.pass(10 * time.Second)
			}
			select {
			case <-holder.Lost():
				t.Fatal("the holder lost its lock")
			default:
			}

			holder.held.(*fileHeld).stopHeartbeat() // the holder dies
			var waited time.Duration
			for ; oneShot() != nil; waited += 10 * time.Second {
				require.Less(t, waited, staleAfter+watchNeed(staleAfter), "a lock that stopped changing is never broken")
				w.pass(10 * time.Second)
			}
			require.GreaterOrEqual(t, waited, watchNeed(staleAfter), "broken before it was seen stale for long enough")
		})
	}
}

// readSeen reads the sighting file p, which must be well formed.
func readSeen(t *testing.T, m *memfs.FS, p string) seenFile {
	t.Helper()
	data, _, err := fsys.ReadAll(m, p, seenMaxSize)
	require.NoError(t, err, "no sighting file left")
	s, ok := parseSeen(data)
	require.True(t, ok, "malformed sighting file %q", data)
	return s
}

// putSeen replaces the file p (if any) by one holding data, with the permission
// perm.
func putSeen(t *testing.T, m *memfs.FS, p string, data []byte, perm fs.FileMode) {
	t.Helper()
	if err := m.Remove(p); !errors.Is(err, fs.ErrNotExist) {
		require.NoError(t, err)
	}
	f, err := m.CreateExcl(p, perm)
	require.NoError(t, err)
	_, err = fsys.SetPerm(f, perm)
	require.NoError(t, err)
	_, err = f.Write(data)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// TestParseSeen: only the exact line marshal writes is a sighting.
func TestParseSeen(t *testing.T) {
	s := seenFile{boot: "b", id: fsys.FileID{Dev: 1, Ino: 2}, changed: -3, size: 4, sum: 0xab, since: 5}
	good := string(s.marshal())
	require.Equal(t, "filelock-seen v1 b 1 2 -3 4 ab 5\n", good)
	got, ok := parseSeen([]byte(good))
	require.True(t, ok)
	require.Equal(t, s, got)
	for _, bad := range []string{
		"", good[:len(good)-1], "filelock-seen v2 b 1 2 -3 4 ab 5\n", "filelock-seen v1 b 1 2 -3 4 ab\n",
		"filelock-seen v1 b 1 2 -3 4 ab 5 6\n", "filelock-seen v1 b 1 2 -3 4 ab x\n", "filelock-seen v1  b 1 2 -3 4 ab 5\n",
		"filelock-seen v1 b 01 2 -3 4 ab 5\n", "filelock-seen v1 b -1 2 -3 4 ab 5\n", "filelock-seen v1 b\x01 1 2 -3 4 ab 5\n",
		"filelock-seen v1 b 1 2 -3 4 AB 5\n", "filelock-seen v1 b 1 2 -3 4 xy 5\n",
		fmt.Sprintf("%s\n%s", good, good),
	} {
		_, ok := parseSeen([]byte(bad))
		require.False(t, ok, "%q taken for a sighting", bad)
	}
}

// TestSweepLeavesWhatIsNoSighting: the sweep after a break removes the
// sighting files of the broken lock and an old temporary one, and leaves
// files whose names look like either but which hold something else (here
// other locks, held, and an empty file).
func TestSweepLeavesWhatIsNoSighting(t *testing.T) {
	const staleAfter = 5 * time.Minute
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			w := newSightWorld(t, s, staleAfter)
			others := []string{"x.lock.seen.q", "x.lock.seen.q.tmp.r", "x.lock.seen.abcdefgh.0.tmp.0123456789abcdef"}
			for _, name := range others {
				other := newLock(t, "/locks/"+name, WithStrategy(s), withFS(&stView{w.m}))
				require.NoError(t, other.TryLock())
				t.Cleanup(func() { require.NoError(t, other.Unlock(), "another lock's file removed while held") })
			}
			debris := "/locks/x.lock.seen.abcdefgh.0.tmp.fedcba9876543210" // a writer killed half-way
			putSeen(t, w.m, debris, []byte("filelock-se"), seenPerm)
			// Empty, as a released OS lock file of that name would be.
			others = append(others, "x.lock.seen.abcdefgh.0.tmp.00000000000000ee")
			putSeen(t, w.m, "/locks/"+others[len(others)-1], nil, 0o644)
			w.leftStale()

			p := w.process(20, "boot-1")
			require.ErrorIs(t, p.TryLock(), ErrWouldBlock)
			readSeen(t, w.m, seenPath(p, w.path))
			w.pass(watchNeed(staleAfter))
			require.NoError(t, p.TryLock())
			names, err := w.m.ReadDirNames("/locks")
			require.NoError(t, err)
			require.ElementsMatch(t, append(others, "x.lock"), names, "the sweep removed another lock, or left a sighting or debris")
			require.NoError(t, p.Unlock())
		})
	}
}

// TestSightingsBounded: this process's table of sightings never holds
// more than maxSightings files: a file already in a full table is still
// found, and the next new one starts the table afresh.
func TestSightingsBounded(t *testing.T) {
	forgetSightings(t)
	t.Cleanup(func() { forgetSightings(t) })
	fake := clock.NewFake(time.Unix(1_000_000, 0))
	l := newLock(t, "/locks/x.lock", withFS(memfs.New(fake)), withClock(fake))
	info := func(i int) fsys.Info { return fsys.Info{ID: fsys.FileID{Dev: 1, Ino: uint64(i)}} }
	for i := range maxSightings {
		seenFiles.unchangedFor(l, fmt.Sprint("/locks/", i), info(i))
	}
	fake.Advance(time.Second)
	require.Equal(t, time.Second, seenFiles.unchangedFor(l, "/locks/0", info(0)), "a file in the full table forgotten")
	require.Len(t, seenFiles.m, maxSightings)
	require.Zero(t, seenFiles.unchangedFor(l, "/locks/new", info(-1)))
	require.Len(t, seenFiles.m, 1, "the table grew past maxSightings")
}

// TestKilledSightingWriterLeavesNoDebris: a writer of a sighting file
// killed at any step (before it wrote, before it gave the file its mode,
// before it renamed it into place) leaves a file that the next break's
// sweep knows for debris; an empty file of such a name that its owner may
// open, or one with no permission of another user than its name gives,
// may be another lock's and is left.
func TestKilledSightingWriterLeavesNoDebris(t *testing.T) {
	const staleAfter = 5 * time.Minute
	for _, s := range []Strategy{Soft, Link} {
		for _, step := range []string{"write", "chmod", "rename"} {
			t.Run(s.String()+"/"+step, func(t *testing.T) {
				w := newSightWorld(t, s, staleAfter)
				w.leftStale()
				killed := w.processOn(20, "boot-1", &faultySightingWriter{stView: stView{w.m}, step: step, kill: true})
				require.ErrorIs(t, killed.TryLock(), ErrWouldBlock)
				debris := sightingTemps(t, w.m)
				require.Len(t, debris, 1, "the killed writer left no temporary file")
				if info, err := w.m.Lstat("/locks/" + debris[0]); step != "rename" {
					require.NoError(t, err)
					require.Equal(t, fs.FileMode(0), info.Mode.Perm(), "a sighting file given its mode before it was whole")
				}
				other := strconv.Itoa(max(euid, 0) + 1)
				kept := []string{"x.lock.seen.abcdefgh." + other + ".tmp.00000000000000ee", "x.lock.seen.abcdefgh." + other + ".tmp.00000000000000ef"}
				putSeen(t, w.m, "/locks/"+kept[0], nil, 0o600)
				putSeen(t, w.m, "/locks/"+kept[1], nil, 0)

				p := w.process(21, "boot-1")
				require.ErrorIs(t, p.TryLock(), ErrWouldBlock)
				w.pass(watchNeed(staleAfter))
				require.NoError(t, p.TryLock())
				names, err := w.m.ReadDirNames("/locks")
				require.NoError(t, err)
				require.ElementsMatch(t, append(kept, "x.lock"), names, "the sweep left the killed writer's file, or removed what may be another lock's")
				require.NoError(t, p.Unlock())
			})
		}
	}
}

// TestSightingNotPutInPlaceWithoutItsMode: where the filesystem refuses to
// give a sighting's temporary file its mode, so that it keeps the no
// permission it was made with, it is removed rather than put in place,
// where no one but root could read it.
func TestSightingNotPutInPlaceWithoutItsMode(t *testing.T) {
	const staleAfter = 5 * time.Minute
	w := newSightWorld(t, Soft, staleAfter)
	w.leftStale()
	p := w.processOn(20, "boot-1", &faultySightingWriter{stView: stView{w.m}, step: "chmod"})
	require.ErrorIs(t, p.TryLock(), ErrWouldBlock)
	names, err := w.m.ReadDirNames("/locks")
	require.NoError(t, err)
	require.Equal(t, []string{"x.lock"}, names, "a sighting without its mode put in place, or its temporary file left")
}

// sightingTemps lists the temporary names of sighting files in /locks.
func sightingTemps(t *testing.T, m *memfs.FS) []string {
	t.Helper()
	names, err := m.ReadDirNames("/locks")
	require.NoError(t, err)
	var temps []string
	for _, name := range names {
		if sightingTemp(name) {
			temps = append(temps, name)
		}
	}
	return temps
}

// faultySightingWriter is a view of a memfs on which a sighting file's
// writer meets a fault at one step (write, chmod or rename). With kill,
// the writer dies there: that step and every later one on the temporary
// name fail, as none happens after a kill. Without, only the chmod is
// refused (EPERM), as by a filesystem that keeps modes as made, and the
// writer goes on.
type faultySightingWriter struct {
	stView
	step string
	kill bool
	dead atomic.Bool
}

var errKilled = errors.New("killed")

func sightingTemp(name string) bool {
	return strings.Contains(name, "."+kindSeen+".") && strings.Contains(name, "."+kindTemp+".")
}

// at reports whether the writer fails at step: the faulty step, or any
// step once it is dead.
func (d *faultySightingWriter) at(step string) bool {
	if d.dead.Load() {
		return true
	}
	if step != d.step {
		return false
	}
	d.dead.Store(d.kill)
	return true
}

func (d *faultySightingWriter) CreateExcl(name string, perm fs.FileMode) (fsys.File, error) {
	f, err := d.stView.CreateExcl(name, perm)
	if err != nil || !sightingTemp(name) {
		return f, err
	}
	return &faultyFile{File: f, w: d}, nil
}

func (d *faultySightingWriter) Rename(oldname, newname string) error {
	if sightingTemp(oldname) && d.at("rename") {
		return errKilled
	}
	return d.stView.Rename(oldname, newname)
}

func (d *faultySightingWriter) Remove(name string) error {
	if sightingTemp(name) && d.dead.Load() {
		return errKilled
	}
	return d.stView.Remove(name)
}

type faultyFile struct {
	fsys.File
	w *faultySightingWriter
}

func (f *faultyFile) Write(p []byte) (int, error) {
	if f.w.at("write") {
		return 0, errKilled
	}
	return f.File.Write(p)
}

func (f *faultyFile) Chmod(mode fs.FileMode) error {
	if f.w.at("chmod") {
		return syscall.EPERM
	}
	return f.File.(interface{ Chmod(fs.FileMode) error }).Chmod(mode)
}

func (f *faultyFile) Stat() (fsys.Info, error) {
	if f.w.dead.Load() {
		return fsys.Info{}, errKilled
	}
	return f.File.Stat()
}

// TestSightingNamesFit: the longest name a lock makes beside it, the
// temporary name of its guard's sighting file for a user ID of ten
// digits, fits in a file name for the longest lock name accepted, and the
// sweep knows it for what it is.
func TestSightingNamesFit(t *testing.T) {
	self := proc.Self()
	self.Host = "h" // a short host name: the claims' names are shorter
	opts := []Option{withProcess(self, hostLiveness)}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if _, ok := cfg.monotonic(); !ok || self.BootID == "" {
		t.Skip("no sighting files on this system (they need Linux's monotonic clock and boot id)")
	}
	dir := t.TempDir()
	for _, s := range []Strategy{Soft, Link} {
		cfg.strategy = s
		base := strings.Repeat("a", nameMax-longestSuffix(&cfg))
		l := newLock(t, filepath.Join(dir, base), append(opts, WithStrategy(s))...)
		longest := besideName(l.path+guardSuffix, kindSeen, self.BootID[:bootPrefix], "4294967295") + "." + kindTemp + "." + strings.Repeat("f", 16)
		require.LessOrEqual(t, len(filepath.Base(longest)), nameMax, "a sighting's temporary name too long for the longest lock name")
		kind, rest, ok := debrisKind(base, filepath.Base(longest))
		require.True(t, ok && kind == kindSeen && seenTemp(rest), "the sweep does not know %q", longest)
	}
}

// The overflow user ID is the one the system sets, where it can be read:
// a process of that ID keeps no sightings, whatever the number.
func TestParseOverflowUID(t *testing.T) {
	for _, tc := range []struct {
		data string
		err  error
		want int
	}{
		{"65534\n", nil, 65534},
		{"4294967\n", nil, 4294967},
		{"1000", nil, 1000},
		{"", fs.ErrNotExist, 65534},
		{"1000\n", errors.New("read failed"), 65534},
		{"many\n", nil, 65534},
	} {
		require.Equal(t, tc.want, parseOverflowUID([]byte(tc.data), tc.err), "%q, %v", tc.data, tc.err)
	}
}

// TestStaleReasonCountsTheWatchDown: Inspect of a lock stale by its age
// alone says how much longer this host must see it unchanged before it is
// broken: the whole watch at the first sight, and less by the time that
// has passed since, down to nothing once it is breakable.
func TestStaleReasonCountsTheWatchDown(t *testing.T) {
	const staleAfter = 5 * time.Minute
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			w := newSightWorld(t, s, staleAfter)
			w.leftStale()
			l := w.process(20, "boot-1")
			first := w.wall.Now()
			for _, tc := range []struct {
				after time.Duration // since the first sight
				more  string        // "" once breakable
			}{
				{0, watchNeed(staleAfter).String()},
				{time.Minute, (watchNeed(staleAfter) - time.Minute).String()},
				{watchNeed(staleAfter) - time.Second, "1s"},
				{watchNeed(staleAfter), ""},
			} {
				w.pass(tc.after - w.wall.Now().Sub(first))
				st, err := l.Inspect()
				require.NoError(t, err)
				require.True(t, st.Stale, "%v after the first sight", tc.after)
				if tc.more == "" {
					require.NotContains(t, st.StaleReason, "more", "%v after the first sight", tc.after)
					continue
				}
				require.Contains(t, st.StaleReason, "; broken once seen unchanged for "+tc.more+" more", "%v after the first sight", tc.after)
			}
		})
	}
}
