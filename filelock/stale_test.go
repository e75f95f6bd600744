package filelock

import (
	"context"
	"fmt"
	"io/fs"
	"os"
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

// forgedRecord returns the text of a holder record for the process id.
func forgedRecord(t *testing.T, id proc.Identity) []byte {
	t.Helper()
	r := newRecord(id, time.Now())
	data, err := r.MarshalText()
	require.NoError(t, err)
	return data
}

// skipWithoutDeadRule skips a test that needs the dead-holder rule, which
// needs a boot id and process start times (Linux).
func skipWithoutDeadRule(t *testing.T) {
	t.Helper()
	if proc.Self().BootID == "" {
		t.Skip("needs boot id and process start times (Linux)")
	}
}

// otherHost is a holder on another host: it can only be judged by age.
func otherHost() proc.Identity {
	return proc.Identity{PID: 4242, Host: "elsewhere", BootID: "0f0e0d0c-0000-4000-8000-000000000000"}
}

// deadPID returns the PID of a process of this host that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := childCommand(t, "sleep")
	cmd.Stdin = nil // /dev/null: the child exits at once
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

// deadHoldersLock returns a new directory and the path in it of a lock
// file holding the record of a process of this host that has exited.
func deadHoldersLock(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "x.lock")
	require.NoError(t, os.WriteFile(path, forgedRecord(t, proc.Of(deadPID(t))), 0o644))
	return dir, path
}

// guardedDeadLock is deadHoldersLock with a guard file beside the lock
// file, holding guard, or the dead holder's record if guard is nil (a
// breaker that died); it also returns the lock file's record.
func guardedDeadLock(t *testing.T, guard []byte) (dir, path string, record []byte) {
	t.Helper()
	dir, path = deadHoldersLock(t)
	record, err := os.ReadFile(path)
	require.NoError(t, err)
	if guard == nil {
		guard = record
	}
	require.NoError(t, os.WriteFile(path+guardSuffix, guard, 0o644))
	return dir, path, record
}

// liveChild starts a process that lives until the test ends.
func liveChild(t *testing.T) int {
	t.Helper()
	cmd := childCommand(t, "sleep")
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

// noCtimeFS is the operating system's filesystem as one that keeps no
// change time (FAT, sshfs): ages then follow mtimes, which a test can set
// back. On a filesystem with change times no user can.
type noCtimeFS struct{ fsys.OS }

func (f noCtimeFS) Lstat(name string) (fsys.Info, error) { return noCtime(f.OS.Lstat(name)) }
func (f noCtimeFS) Stat(name string) (fsys.Info, error)  { return noCtime(f.OS.Stat(name)) }

func (f noCtimeFS) OpenRead(name string) (fsys.File, error) {
	file, err := f.OS.OpenRead(name)
	if err != nil {
		return nil, err
	}
	return noCtimeFile{file}, nil
}

// OpenDir opens name as the real filesystem does, its entries without
// change times too.
func (f noCtimeFS) OpenDir(name string) (fsys.Dir, error) {
	d, err := fsys.OpenDir(f.OS, name)
	if err != nil {
		return nil, err
	}
	return noCtimeDir{d}, nil
}

type noCtimeDir struct{ fsys.Dir }

func (d noCtimeDir) Lstat(name string) (fsys.Info, error) { return noCtime(d.Dir.Lstat(name)) }

func (d noCtimeDir) OpenRead(name string) (fsys.File, error) {
	file, err := d.Dir.OpenRead(name)
	if err != nil {
		return nil, err
	}
	return noCtimeFile{file}, nil
}

type noCtimeFile struct{ fsys.File }

func (f noCtimeFile) Stat() (fsys.Info, error) { return noCtime(f.File.Stat()) }

func noCtime(info fsys.Info, err error) (fsys.Info, error) {
	info.ChangeTime = time.Time{}
	return info, err
}

// pidFile is another program's lock file naming pid alone.
func pidFile(pid int) []byte { return []byte(strconv.Itoa(pid) + "\n") }

// TestStaleRule forges lock files of every kind and age and checks that a
// TryLock breaks exactly the stale ones, that Inspect agrees, and that a
// break leaves nothing behind. Ages are set with mtimes on a filesystem
// that keeps no change time.
func TestStaleRule(t *testing.T) {
	sameHost := proc.Self().BootID != ""
	type tc struct {
		name       string
		data       func(t *testing.T) []byte
		age        time.Duration
		staleAfter time.Duration
		sharedPIDs bool
		stale      bool
		linuxOnly  bool
	}
	foreign := func(t *testing.T) []byte { return forgedRecord(t, otherHost()) }
	empty := func(*testing.T) []byte { return []byte{} }
	deadPIDFile := func(t *testing.T) []byte { return pidFile(deadPID(t)) }
	livePIDFile := func(t *testing.T) []byte { return pidFile(liveChild(t)) }
	cases := []tc{
		{name: "other host, fresh", data: foreign, staleAfter: time.Minute},
		{name: "other host, younger than stale-after", data: foreign, age: 30 * time.Second, staleAfter: time.Minute},
		{name: "other host, older than stale-after", data: foreign, age: 2 * time.Minute, staleAfter: time.Minute, stale: true},
		{name: "other host, old, age rule off", data: foreign, age: time.Hour},
		{name: "other host, default stale-after", data: foreign, age: DefaultStaleAfter + time.Minute, staleAfter: -1, stale: true},
		{name: "empty, fresh", data: empty, staleAfter: time.Minute},
		{name: "empty, 15 s old, default stale-after", data: empty, age: 15 * time.Second, staleAfter: -1},
		{name: "empty, younger than stale-after", data: empty, age: 4 * time.Minute, staleAfter: -1},
		{name: "empty, older than stale-after", data: empty, age: DefaultStaleAfter + time.Minute, staleAfter: -1, stale: true},
		{name: "empty, old, age rule off", data: empty, age: 24 * time.Hour},
		{name: "garbage, fresh", data: func(*testing.T) []byte { return []byte("not a record\n") }, staleAfter: time.Minute},
		{name: "garbage, 15 s old", data: func(*testing.T) []byte { return []byte("not a record\n") }, age: 15 * time.Second, staleAfter: time.Hour},
		{name: "garbage, past a short stale-after", data: func(*testing.T) []byte { return []byte("x") }, age: 5 * time.Second, staleAfter: 2 * time.Second, stale: true},
		{name: "bare pid of a dead process", linuxOnly: true, data: deadPIDFile, staleAfter: -1},
		{name: "bare pid of a dead process, shared PID namespace", linuxOnly: true, data: deadPIDFile, staleAfter: -1, sharedPIDs: true, stale: true},
		{name: "bare pid of a dead process, shared PID namespace, age rule off", linuxOnly: true, data: deadPIDFile, sharedPIDs: true, stale: true},
		{name: "bare pid of a live process, shared PID namespace", linuxOnly: true, data: livePIDFile, age: time.Second, staleAfter: -1, sharedPIDs: true},
		// A foreign record states no start time: a PID that names a
		// process started after the file cannot be told from its holder.
		{name: "bare pid of a process started after the file, shared PID namespace", linuxOnly: true, data: livePIDFile, age: time.Minute, staleAfter: -1, sharedPIDs: true},
		{name: "pid and another host, shared PID namespace", linuxOnly: true, staleAfter: -1, sharedPIDs: true,
			data: func(t *testing.T) []byte { return []byte(fmt.Sprintf("%d\nelsewhere.example\n", deadPID(t))) }},
		{name: "pid and this host, shared PID namespace", linuxOnly: true, staleAfter: -1, sharedPIDs: true, stale: true,
			data: func(t *testing.T) []byte { return []byte(fmt.Sprintf("%d\n%s\n", deadPID(t), proc.Self().Host)) }},
		{name: "flufl.lock of a dead process, shared PID namespace", linuxOnly: true, staleAfter: -1, sharedPIDs: true, stale: true,
			data: func(t *testing.T) []byte {
				return []byte(fmt.Sprintf("/x.lock|%s|%d|12345", proc.Self().Host, deadPID(t)))
			}},
		{name: "dead holder on this host, fresh, age rule off", linuxOnly: true, stale: true,
			data: func(t *testing.T) []byte { return forgedRecord(t, proc.Of(deadPID(t))) }},
		// A container with this host's name shares its boot id: a PID of
		// another PID namespace names another process here.
		{name: "dead PID of another PID namespace, this boot and host name", linuxOnly: true, staleAfter: time.Hour,
			data: func(t *testing.T) []byte {
				id := proc.Of(deadPID(t))
				id.PIDNS = "pid:[1]"
				return forgedRecord(t, id)
			}},
		{name: "dead PID of this boot, another host name", linuxOnly: true, staleAfter: time.Hour,
			data: func(t *testing.T) []byte {
				id := proc.Of(deadPID(t))
				id.Host = "elsewhere"
				return forgedRecord(t, id)
			}},
		{name: "live holder on this host, old, age rule off", linuxOnly: true, age: time.Hour,
			data: func(t *testing.T) []byte { return forgedRecord(t, proc.Of(liveChild(t))) }},
		{name: "live PID with another start time (PID reuse)", linuxOnly: true, stale: true, staleAfter: time.Hour,
			data: func(t *testing.T) []byte {
				id := proc.Of(liveChild(t))
				require.NotZero(t, id.Start)
				id.Start++
				return forgedRecord(t, id)
			}},
		// Without a machine id the host name alone does not prove that
		// another boot was this machine's (earlierboot_test.go).
		{name: "this host name but another boot, no machine id", linuxOnly: true, staleAfter: time.Hour,
			data: func(t *testing.T) []byte {
				id := proc.Of(deadPID(t))
				id.BootID, id.MachineID = "00000000-0000-4000-8000-000000000000", ""
				return forgedRecord(t, id)
			}},
		{name: "this machine but another boot", linuxOnly: true, staleAfter: time.Hour,
			stale: proc.Self().MachineID != "" && !proc.BootTime().IsZero(),
			data: func(t *testing.T) []byte {
				id := proc.Of(liveChild(t))
				id.BootID = "00000000-0000-4000-8000-000000000000"
				data, err := newRecord(id, proc.BootTime().Add(-time.Hour)).MarshalText()
				require.NoError(t, err)
				return data
			}},
		// Written since this boot: a machine cloned with this one's id.
		{name: "this machine's id, another boot, recorded since this boot", linuxOnly: true, staleAfter: time.Hour,
			data: func(t *testing.T) []byte {
				id := proc.Of(liveChild(t))
				id.BootID = "00000000-0000-4000-8000-000000000000"
				return forgedRecord(t, id)
			}},
	}
	for _, s := range []Strategy{Soft, Link} {
		for _, c := range cases {
			t.Run(s.String()+"/"+c.name, func(t *testing.T) {
				if c.linuxOnly && !sameHost {
					t.Skip("needs boot id and process start times (Linux)")
				}
				dir := t.TempDir()
				path := filepath.Join(dir, "x.lock")
				data := c.data(t)
				require.NoError(t, os.WriteFile(path, data, 0o644))
				mtime := time.Now().Add(-c.age)
				require.NoError(t, os.Chtimes(path, mtime, mtime))

				opts := []Option{WithStrategy(s), withFS(noCtimeFS{})}
				if c.staleAfter >= 0 {
					opts = append(opts, WithStaleAfter(c.staleAfter))
				}
				if c.sharedPIDs {
					opts = append(opts, WithSharedPIDNamespace())
				}
				st, err := Inspect(path, opts...)
				require.NoError(t, err)
				require.True(t, st.Held)
				require.Equal(t, c.stale, st.Stale, "Inspect: %s", st.StaleReason)
				require.InDelta(t, c.age.Seconds(), st.Age.Seconds(), 5, "Inspect's age by the filesystem clock")

				fake := clock.NewFake(time.Now())
				l := newLock(t, path, append(opts, withClock(fake))...)
				if strings.Contains(st.StaleReason, "not changed for") {
					require.Contains(t, st.StaleReason, "broken once seen unchanged for")
					tryLockWatched(t, l, fake)
					err = nil
				} else {
					err = l.TryLock()
				}
				if !c.stale {
					require.ErrorIs(t, err, ErrWouldBlock)
					got, rerr := os.ReadFile(path)
					require.NoError(t, rerr)
					require.Equal(t, data, got, "a lock that is not stale is left as it was")
					require.Equal(t, "x.lock", dirEntries(t, dir))
					return
				}
				require.NoError(t, err, "a stale lock is broken and taken")
				st, err = l.Inspect()
				require.NoError(t, err)
				require.Equal(t, os.Getpid(), st.Holder.PID)
				require.False(t, st.Stale)
				require.Equal(t, "x.lock", dirEntries(t, dir), "no guard, probe or moved-aside file is left")
				require.NoError(t, l.Unlock())
				require.Empty(t, dirEntries(t, dir))
			})
		}
	}
}

// TestStaleGuardOfDeadBreaker: a breaker that died holding the guard does
// not block breaking for ever: its guard is stale by the same rule.
func TestStaleGuardOfDeadBreaker(t *testing.T) {
	skipWithoutDeadRule(t)
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			dir, path, _ := guardedDeadLock(t, nil)
			l := newLock(t, path, WithStrategy(s), WithStaleAfter(time.Hour))
			require.NoError(t, l.TryLock())
			require.Equal(t, "x.lock", dirEntries(t, dir))
			require.NoError(t, l.Unlock())
		})
	}
}

// TestGuardMadeAsTheStrategyMakesALock: a breaker makes the guard with
// the strategy's own creation, never a bare exclusive create at the
// guard's path: the record goes into a claim that is then linked (Link,
// whose exclusive create old NFS clients do not make atomic) or renamed
// (Soft) into place, so the guard never stands half-written.
func TestGuardMadeAsTheStrategyMakesALock(t *testing.T) {
	skipWithoutDeadRule(t)
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			_, path := deadHoldersLock(t)
			var made []string
			createdHook = func(p string) { made = append(made, filepath.Base(p)) }
			defer func() { createdHook = nil }()
			l := newLock(t, path, WithStrategy(s))
			require.NoError(t, l.TryLock(), "a dead holder's lock not broken")
			require.NoError(t, l.Unlock())
			require.NotContains(t, made, "x.lock.guard", "the guard made by an exclusive create at its path")
			claimed := false
			for _, name := range made {
				claimed = claimed || strings.HasPrefix(name, "x.lock.guard."+kindClaim+".")
			}
			require.True(t, claimed, "no claim of the guard made: %v", made)
		})
	}
}

// TestGuardAgesWithoutTheLocksAge: with age-based breaking of the lock
// off (WithStaleAfter(0)), a guard whose holder only age can judge
// (another host's breaker, stopped or cut off) is still broken at
// DefaultStaleAfter, after the usual watch; else a breaker that vanished
// holding it would keep a dead holder's lock for ever.
func TestGuardAgesWithoutTheLocksAge(t *testing.T) {
	skipWithoutDeadRule(t)
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			dir, path := deadHoldersLock(t)
			require.NoError(t, os.WriteFile(path+guardSuffix, forgedRecord(t, otherHost()), 0o644))
			old := time.Now().Add(-2 * DefaultStaleAfter)
			require.NoError(t, os.Chtimes(path+guardSuffix, old, old))
			fake := clock.NewFake(time.Now())
			l := newLock(t, path, WithStrategy(s), WithStaleAfter(0), withFS(noCtimeFS{}), withClock(fake))
			require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "a guard stale by age broken before it was watched")
			fake.Advance(watchNeed(DefaultStaleAfter))
			require.NoError(t, l.TryLock(), "the guard of another host's breaker, old by DefaultStaleAfter, never broken")
			require.NoError(t, l.Unlock())
			require.Empty(t, dirEntries(t, dir))
		})
	}
}

// TestSweepRemovesOldDebris: temporary files of killed processes older
// than debrisAge are removed by the next break; young ones and other
// files are kept, a moved-aside file whose name says it is old but that
// changed just now among them.
func TestSweepRemovesOldDebris(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	start := time.Now()
	old := start.Add(-2 * debrisAge)
	// A moved-aside file's name says when it was moved (its mtime is the
	// moved file's): this one moved as the test began, under a minute
	// before the sweep.
	youngAside := fmt.Sprintf("x.lock.aside.%d.00", start.Unix())
	// This one's name says it moved long ago, by a mover's clock that is
	// behind; but it changed (moved) just now, by the filesystem's.
	skewedAside := fmt.Sprintf("x.lock.aside.%d.01", old.Unix())
	for _, name := range []string{"x.lock.claim.h.1.00", "x.lock.probe.00", "x.lock.aside.1000000000.00", "x.lock.claim.young", youngAside, skewedAside, "x.lock.other", "y.lock.claim.00"} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, nil, 0o644))
		if name != "x.lock.claim.young" && name != skewedAside {
			require.NoError(t, os.Chtimes(p, old, old))
		}
	}
	require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
	require.NoError(t, os.Chtimes(path, old, old))
	fake := clock.NewFake(start)
	l := newLock(t, path, WithStaleAfter(time.Minute), withFS(noCtimeFS{}), withClock(fake))
	tryLockWatched(t, l, fake)
	require.NoError(t, l.Unlock())
	require.Equal(t, skewedAside+","+youngAside+",x.lock.claim.young,x.lock.other,y.lock.claim.00", dirEntries(t, dir))
}

func TestStaleOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x")
	for _, opts := range [][]Option{
		{WithStaleAfter(-time.Second)},
		{WithStaleAfter(time.Millisecond)},
		{WithHeartbeat(0)},
		{WithHeartbeat(time.Microsecond)},
		{WithHeartbeat(-time.Second)},
		{WithStaleAfter(time.Second), WithHeartbeat(time.Second)},
		{WithStaleAfter(2 * time.Second), WithHeartbeat(time.Second + 1)},
		{WithStrategy(Link), WithShared()},
	} {
		_, err := New(path, opts...)
		require.ErrorIs(t, err, ErrInvalidOption)
	}
	_ = newLock(t, path, WithStaleAfter(0), WithHeartbeat(time.Hour))
	_ = newLock(t, path, WithStaleAfter(2*time.Second), WithHeartbeat(time.Second))
}

// TestDeadRuleUsesLiveness: the dead-holder rule asks the liveness check,
// and only a Dead answer breaks a fresh lock (Unknown and Alive do not).
// The check is injected, so this runs on every platform.
func TestDeadRuleUsesLiveness(t *testing.T) {
	for _, state := range []proc.State{proc.Dead, proc.Alive, proc.Unknown} {
		t.Run(state.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			holder := otherHost()
			require.NoError(t, os.WriteFile(path, forgedRecord(t, holder), 0o644))
			var asked []proc.Identity
			l, err := New(path, WithStaleAfter(time.Hour), withProcess(proc.Self(), func(id proc.Identity) proc.State {
				asked = append(asked, id)
				return state
			}))
			require.NoError(t, err)
			err = l.TryLock()
			require.NotEmpty(t, asked)
			require.Equal(t, holder.PID, asked[0].PID)
			require.Equal(t, holder.BootID, asked[0].BootID)
			if state != proc.Dead {
				require.ErrorIs(t, err, ErrWouldBlock)
				return
			}
			require.NoError(t, err)
			require.NoError(t, l.Unlock())
			require.Empty(t, dirEntries(t, dir))
		})
	}
}

// TestGuardDebrisSwept: temporary files of the guard itself
// (<lock>.guard.claim.*, <lock>.guard.aside.*) are swept like the lock's.
func TestGuardDebrisSwept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	old := time.Now().Add(-2 * debrisAge)
	for _, name := range []string{"x.lock.guard.claim.h.1.00", "x.lock.guard.aside.1000000000.00"} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, nil, 0o644))
		require.NoError(t, os.Chtimes(p, old, old))
	}
	require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
	require.NoError(t, os.Chtimes(path, old, old))
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, WithStrategy(Link), WithStaleAfter(time.Minute), withFS(noCtimeFS{}), withClock(fake))
	tryLockWatched(t, l, fake)
	require.NoError(t, l.Unlock())
	require.Empty(t, dirEntries(t, dir))
}

// tryLockWatched takes the lock with l, whose clock is fake, by breaking a
// lock file stale by age: the first TryLock only begins to watch it; the
// one after three fifths of the stale-after age, the file seen unchanged,
// breaks it.
func tryLockWatched(t *testing.T, l *Lock, fake *clock.Fake) {
	t.Helper()
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "stale by age, not yet seen so for long enough")
	fake.Advance(watchNeed(l.cfg.staleAfter) - judgeEvery)
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "seen unchanged for less than three fifths of the age")
	fake.Advance(judgeEvery)
	require.NoError(t, l.TryLock(), "seen unchanged for three fifths of the stale-after age: broken")
}

// raceFS runs functions around the renames of the guard file, as other
// processes acting in that window would.
type raceFS struct {
	fsys.OS
	before, after func(old string)
}

func (r *raceFS) Rename(old, new string) error {
	if r.before != nil && strings.HasSuffix(old, guardSuffix) {
		r.before(old)
	}
	err := r.OS.Rename(old, new)
	if r.after != nil && strings.HasSuffix(old, guardSuffix) {
		r.after(old)
	}
	return err
}

// TestConcurrentGuardBreakIsContention: three processes meet the guard of a
// breaker that died. A breaks it and takes the guard; B, whose verdict was
// about the dead guard, moves A's guard aside in the instant after its
// last look, and C makes a guard before B can put A's back. This is the
// residual window of docs/design.md; B must see contention, not an error,
// and leave nothing behind.
func TestConcurrentGuardBreakIsContention(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	gpath := path + guardSuffix
	dead := proc.Identity{PID: 7, Host: "h", BootID: "dead"}
	live := func(pid int) []byte { return forgedRecord(t, proc.Identity{PID: pid, Host: "h", BootID: "live"}) }
	require.NoError(t, os.WriteFile(gpath, forgedRecord(t, dead), 0o644))
	require.NoError(t, os.WriteFile(path, forgedRecord(t, dead), 0o644))
	var fsB raceFS
	fsB.before = func(g string) { // A broke the dead guard and made its own
		fsB.before = nil
		require.NoError(t, os.Remove(g))
		require.NoError(t, os.WriteFile(g, live(100), 0o644))
	}
	fsB.after = func(g string) { // C makes the guard in the window
		fsB.after = nil
		if _, err := os.Lstat(g); os.IsNotExist(err) {
			require.NoError(t, os.WriteFile(g, live(200), 0o644))
		}
	}
	b, err := New(path, WithStaleAfter(time.Hour), withFS(&fsB), withProcess(proc.Self(), func(id proc.Identity) proc.State {
		if id.BootID == "dead" {
			return proc.Dead
		}
		return proc.Unknown
	}))
	require.NoError(t, err)
	require.ErrorIs(t, b.TryLock(), ErrWouldBlock)
	require.Equal(t, "x.lock,x.lock.guard", dirEntries(t, dir), "no moved-aside file is left")
}

// otherFS is the real filesystem under another key of the process-wide
// table, so that a second handle of this process reaches the lock file as
// another process would.
type otherFS struct{ fsys.OS }

// TestCrashedRemoteBreakerCostsNoLiveHolder: a breaker on another host
// crashed holding the guard (it cannot be shown dead from here, so its
// guard stays for the stale-after age). The holder's heartbeat does not
// need the guard, so its lock stays fresh and no waiter breaks it.
func TestCrashedRemoteBreakerCostsNoLiveHolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	const stale = 2 * time.Second
	h := newLock(t, path, WithStaleAfter(stale))
	require.NoError(t, lockWithin(h))
	require.NoError(t, os.WriteFile(path+guardSuffix, forgedRecord(t, otherHost()), 0o644))
	w := newLock(t, path, WithStaleAfter(stale), withFS(otherFS{}), WithTimeout(3*stale))
	err := w.Lock()
	if err == nil {
		w.Unlock()
		t.Fatal("a waiter took the lock of a holder that was never stopped")
	}
	require.ErrorIs(t, err, ErrTimeout)
	select {
	case <-h.Lost():
		t.Fatal("the holder lost its lock")
	default:
	}
	require.NoError(t, h.Unlock())
	require.NoError(t, os.Remove(path+guardSuffix))
	require.Empty(t, dirEntries(t, dir))
}

// TestAgeByTheFilesystemsClock: a lock's age is its change time against
// the filesystem's clock, never this host's: a filesystem whose clock is
// ten minutes behind (an NFS server) writes a lock file that is fresh
// though this host's clock calls it ten minutes old, and stale once the
// filesystem's clock has moved past the stale-after age.
func TestAgeByTheFilesystemsClock(t *testing.T) {
	const staleAfter = 5 * time.Minute
	host := clock.NewFake(time.Unix(2e9, 0))
	server := clock.NewFake(host.Now().Add(-10 * time.Minute))
	m := memfsWithLockFile(t, server)
	l := newLock(t, "/d/x.lock", WithStrategy(Soft), withFS(m), withClock(host), WithStaleAfter(staleAfter))
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "fresh by the filesystem's clock")
	// Watched for long enough to be broken if it were stale: still fresh
	// by the filesystem's clock, though 13 minutes old by this host's.
	host.Advance(watchNeed(staleAfter))
	server.Advance(watchNeed(staleAfter))
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "fresh by the filesystem's clock")
	host.Advance(staleAfter - watchNeed(staleAfter) + time.Minute)
	server.Advance(staleAfter - watchNeed(staleAfter) + time.Minute)
	require.NoError(t, l.TryLock(), "stale by the filesystem's clock")
	require.NoError(t, l.Unlock())
}

// memfsWithLockFile returns a memfs on clock c holding the lock file
// /d/x.lock, made now by c, with the record of a process of another host.
func memfsWithLockFile(t *testing.T, c memfs.Clock) *memfs.FS {
	t.Helper()
	m := memfs.New(c)
	require.NoError(t, m.MkdirAll("/d", 0o755))
	f, err := m.CreateExcl("/d/x.lock", 0o644)
	require.NoError(t, err)
	_, err = f.Write(forgedRecord(t, otherHost()))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return m
}

// With age-based breaking off, a lock whose holder cannot be proved dead
// is never stale by age, also on a filesystem of whole-second timestamps:
// their slack is added only to a limit there is.
func TestNoAgeLimitOnACoarseFilesystem(t *testing.T) {
	clk := clock.NewFake(time.Unix(2e9, 0)) // whole seconds: the probe finds the filesystem coarse
	m := memfsWithLockFile(t, clk)
	clk.Advance(time.Hour)
	l := newLock(t, "/d/x.lock", withFS(m), withClock(clk), WithStaleAfter(0))
	st, err := l.Inspect()
	require.NoError(t, err)
	require.True(t, st.Held)
	require.Equal(t, time.Hour, st.Age)
	require.False(t, st.Stale, "stale with age-based breaking off: %s", st.StaleReason)
}

// TestClockProbeReadAtItsMiddle: a probe of the filesystem's clock that
// takes time by this host's clock (a slow file server) is taken to have
// been stamped halfway through, where the error is at most half its
// length either way. Here the stamp falls exactly halfway, so the lock
// file's age comes out exact.
func TestClockProbeReadAtItsMiddle(t *testing.T) {
	host := clock.NewFake(time.Unix(2e9, 0))
	server := clock.NewFake(host.Now().Add(-10 * time.Minute))
	both := func(d time.Duration) { host.Advance(d); server.Advance(d) }
	m := memfsWithLockFile(t, server)
	both(time.Minute)

	slow := &probeFS{FS: m, half: func() { both(2 * time.Second) }}
	l := newLock(t, "/d/x.lock", withFS(slow), withClock(host))
	st, err := l.Inspect()
	require.NoError(t, err)
	require.Equal(t, time.Minute+4*time.Second, st.Age, "the probe took 4 s: made 1 min before it began, the file is 1 min 4 s old when it ends")
}

// TestClockProbeNotRemovedGivesNoAge: a probe of the filesystem's clock
// that cannot be removed gives no reading: the age of a lock file ten
// minutes old is then unknown, and the lock is not stale by age.
func TestClockProbeNotRemovedGivesNoAge(t *testing.T) {
	host := clock.NewFake(time.Unix(2e9, 0))
	m := memfsWithLockFile(t, host)
	host.Advance(10 * time.Minute)

	for _, tc := range []struct {
		name    string
		fs      *probeFS
		age     time.Duration
		isStale bool
	}{
		{"removed", &probeFS{FS: m}, 10 * time.Minute, true},
		{"not removed", &probeFS{FS: m, removeErr: syscall.EIO}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := newLock(t, "/d/x.lock", withFS(tc.fs), withClock(host)).Inspect()
			require.NoError(t, err)
			require.Equal(t, tc.age, st.Age)
			require.Equal(t, tc.isStale, st.Stale, st.StaleReason)
		})
	}
}

// TestClockProbeReused: a reading of the filesystem's clock serves every
// judgement for probeEvery after it, also one at the very instant it was
// made, and no longer: a probe is a file made and removed.
func TestClockProbeReused(t *testing.T) {
	host := clock.NewFake(time.Unix(2e9, 0))
	m := memfsWithLockFile(t, host)
	p := &probeFS{FS: m}
	l := newLock(t, "/d/x.lock", withFS(p), withClock(host))
	inspect := func() {
		t.Helper()
		_, err := l.Inspect()
		require.NoError(t, err)
	}
	inspect()
	inspect()
	require.Equal(t, 1, p.probes, "a second judgement at the instant of the probe")
	host.Advance(probeEvery - time.Nanosecond)
	inspect()
	require.Equal(t, 1, p.probes, "just within probeEvery")
	host.Advance(time.Nanosecond)
	inspect()
	require.Equal(t, 2, p.probes, "probeEvery after the probe")
}

// probeFS is a filesystem whose clock probes take time (half, if set, is
// called before a probe file is made and again after) or cannot be
// removed (removeErr); probes counts the probe files made.
type probeFS struct {
	*memfs.FS
	half      func()
	removeErr error
	probes    int
}

func isProbe(name string) bool { return strings.Contains(filepath.Base(name), "."+kindProbe) }

func (p *probeFS) CreateExcl(name string, perm fs.FileMode) (fsys.File, error) {
	if isProbe(name) {
		p.probes++
	}
	if p.half != nil && isProbe(name) {
		p.half()
		defer p.half()
	}
	return p.FS.CreateExcl(name, perm)
}

func (p *probeFS) Remove(name string) error {
	if p.removeErr != nil && isProbe(name) {
		return &fs.PathError{Op: "remove", Path: name, Err: p.removeErr}
	}
	return p.FS.Remove(name)
}

// TestBreakerPutsBackAFileSwappedIn: a file replaced at the lock path
// between the breaker's last look and its move aside (a live holder's new
// lock file) is not the judged file: the breaker looks again at what it
// moved, puts it back, and removes nothing. The swap is forced inside the
// breaker's rename. Where the put-back's link is refused (no hard links,
// or another user's file under protected_hardlinks), a rename that never
// replaces puts it back. Either way it puts it back only where nothing
// stands: a newcomer's lock file made at the path meanwhile is left in
// place (the moved file is then lost to its owner, who learns it from its
// heartbeat or Unlock), never replaced by the moved one.
func TestBreakerPutsBackAFileSwappedIn(t *testing.T) {
	for _, noLink := range []bool{false, true} {
		for _, newcomer := range []bool{false, true} {
			name := map[bool]string{false: "link", true: "no link"}[noLink] + map[bool]string{false: "", true: "/a newcomer first"}[newcomer]
			t.Run(name, func(t *testing.T) {
				if noLink && !fsys.CanRenameNoReplace(fsys.OS{}) {
					t.Skip("no rename that never replaces on this system (Linux and macOS have one)")
				}
				putBackSwappedFile(t, noLink, newcomer)
			})
		}
	}
}

// putBackSwappedFile runs a case of TestBreakerPutsBackAFileSwappedIn.
func putBackSwappedFile(t *testing.T, noLink, newcomer bool) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	require.NoError(t, os.WriteFile(path, []byte("judged\n"), 0o644))
	info, err := (fsys.OS{}).Lstat(path)
	require.NoError(t, err)
	judged := info.ID
	swapped, arrived := false, false
	// Whatever call puts the moved file back, a newcomer is there first.
	arrive := func(target string) {
		if newcomer && target == path && swapped && !arrived {
			arrived = true
			require.NoError(t, os.WriteFile(path, []byte("newcomer\n"), 0o644))
		}
	}
	ffs := &faultFS{
		rename: func(oldname, newname string) error {
			if oldname == path && !swapped {
				swapped = true
				require.NoError(t, os.Remove(path))
				require.NoError(t, os.WriteFile(path, []byte("live\n"), 0o644))
			}
			arrive(newname)
			return nil
		},
		link: func(oldname, newname string) error {
			arrive(newname)
			if noLink {
				return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
			}
			return nil
		},
	}
	l := newLock(t, path, withFS(ffs))
	removed, err := l.mech.(fileMechanism).removeIf(l, path, func(i fsys.Info, data []byte) bool { return i.ID == judged && string(data) == "judged\n" })
	require.NoError(t, err)
	require.True(t, swapped, "the breaker moved nothing aside")
	require.Equal(t, newcomer, arrived, "the breaker put nothing back")
	require.False(t, removed)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	want := map[bool]string{false: "live\n", true: "newcomer\n"}[newcomer]
	require.Equal(t, want, string(data), "the file at the lock path")
	require.Equal(t, "x.lock", dirEntries(t, dir), "something left aside")
}

// TestWatchOutlastsTheLongestHeartbeat: a lock stale by age alone is
// broken only once seen unchanged for longer than the longest heartbeat
// interval WithHeartbeat accepts, by a tenth of the age at least (for the
// lateness of the heartbeat's timer and write), at every age: so a live
// holder, however its clock or the filesystem's steps, refreshes its lock
// before a watcher may break it.
func TestWatchOutlastsTheLongestHeartbeat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	for _, staleAfter := range []time.Duration{MinStaleAfter, 10 * time.Second, DefaultStaleAfter, 24 * time.Hour} {
		longest := staleAfter / 2
		_, err := New(path, WithStaleAfter(staleAfter), WithHeartbeat(longest))
		require.NoError(t, err, "stale after %v: a heartbeat of half the age", staleAfter)
		_, err = New(path, WithStaleAfter(staleAfter), WithHeartbeat(longest+time.Millisecond))
		require.ErrorIs(t, err, ErrInvalidOption, "stale after %v: a heartbeat longer than half the age", staleAfter)
		require.GreaterOrEqual(t, watchNeed(staleAfter), longest+staleAfter/10, "stale after %v", staleAfter)
	}
}

// TestBreakerPutsBackAChangedFile: the file judged stale is changed in
// place between the verdict and the breaker's move aside, as a holder
// that resumes changes it: refreshed by its heartbeat (same inode and
// contents, a new mtime), or written again (same inode and mtime, new
// contents). It is not the file judged: the breaker puts it back and
// removes nothing. The change is forced inside the breaker's rename.
func TestBreakerPutsBackAChangedFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"refreshed", func(t *testing.T, path string) {
			later := time.Now().Add(time.Second)
			require.NoError(t, os.Chtimes(path, later, later))
		}},
		{"written again", func(t *testing.T, path string) {
			info, err := os.Stat(path)
			require.NoError(t, err)
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteAt([]byte("X"), 0)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			require.NoError(t, os.Chtimes(path, info.ModTime(), info.ModTime()))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
			changed := false
			ffs := &faultFS{rename: func(oldname, _ string) error {
				if oldname == path && !changed {
					changed = true
					tc.change(t, path)
				}
				return nil
			}}
			dead := withProcess(proc.Self(), func(proc.Identity) proc.State { return proc.Dead })
			l := newLock(t, path, withFS(ffs), dead)
			m := l.mech.(fileMechanism)
			v, err := m.judge(l, path, l.cfg.staleAfter, false)
			require.NoError(t, err)
			require.True(t, v.breakable(), "the file is judged stale: %s", v.reason)
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			removed, err := m.removeAside(l, path, v)
			require.NoError(t, err)
			require.True(t, changed, "the breaker moved nothing aside")
			require.False(t, removed, "the changed file was removed")
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, len(before), len(after), "the changed file is back at the lock path")
			require.Equal(t, "x.lock", dirEntries(t, dir), "nothing left aside")
		})
	}
}

// TestRemovalOfTheMovedFile: once the breaker has moved a file aside, its
// removal of the moved file may find it gone (another's sweep) or fail
// (EIO). Gone is no error: a break then takes the lock, a put-back reports
// the lock busy. A failure is reported, path and cause, and takes no lock.
func TestRemovalOfTheMovedFile(t *testing.T) {
	for _, putBack := range []bool{false, true} {
		for _, gone := range []bool{true, false} {
			name := map[bool]string{false: "broken", true: "put back"}[putBack] + map[bool]string{true: "/gone", false: "/EIO"}[gone]
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "x.lock")
				require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
				removals := 0
				ffs := &faultFS{
					rename: func(oldname, _ string) error {
						if putBack && oldname == path { // refreshed after the judgement
							later := time.Now().Add(time.Second)
							require.NoError(t, os.Chtimes(path, later, later))
						}
						return nil
					},
					remove: func(name string) error {
						if !strings.HasPrefix(filepath.Base(name), "x.lock."+kindAside+".") {
							return nil
						}
						removals++
						if gone {
							return os.Remove(name) // so that the breaker's own removal finds nothing
						}
						return eio("unlink", name)
					},
				}
				dead := withProcess(proc.Self(), func(proc.Identity) proc.State { return proc.Dead })
				l := newLock(t, path, withFS(ffs), dead)
				err := l.TryLock()
				require.Equal(t, 1, removals, "removals of the moved file")
				switch {
				case !gone:
					require.ErrorIs(t, err, syscall.EIO)
					var pe *fs.PathError
					require.ErrorAs(t, err, &pe)
					require.Equal(t, path, pe.Path)
					require.Zero(t, l.Depth(), "a lock taken")
				case putBack:
					require.ErrorIs(t, err, ErrWouldBlock)
					require.Equal(t, "x.lock", dirEntries(t, dir))
				default:
					require.NoError(t, err)
					require.NoError(t, l.Unlock())
					require.Empty(t, dirEntries(t, dir))
				}
			})
		}
	}
}

// TestClockStepBreaksNoLiveLock: the filesystem's clock (the wall clock
// that stamps change times on a local filesystem, or a file server's)
// steps four minutes forward while a holder is alive and refreshing its
// lock on time: by that clock the lock has not changed for longer than the
// stale-after age at once. A contender does not break it: it has not seen
// it unchanged for three fifths of that age, and before it has, the
// holder's heartbeat changes it. Once the heartbeat stops, the contender
// breaks it after three fifths of the age of watching.
func TestClockStepBreaksNoLiveLock(t *testing.T) {
	const staleAfter = 5 * time.Minute
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			wall, hk, bk, h, b := steppedClockLock(t, s, staleAfter)
			pass := func(d time.Duration) {
				wall.Advance(d)
				bk.Advance(d)
				hk.Advance(d)
				hk.Settle() // the heartbeat, if due
			}
			pass(time.Minute)
			require.ErrorIs(t, b.TryLock(), ErrWouldBlock)
			wall.Advance(4 * time.Minute) // the step
			for range 30 {                // five minutes, in steps of ten seconds
				pass(10 * time.Second)
				st, err := b.Inspect()
				require.NoError(t, err)
				require.ErrorIs(t, b.TryLock(), ErrWouldBlock, "a live lock broken after a clock step (%s)", st.StaleReason)
			}
			select {
			case <-h.Lost():
				t.Fatal("the holder lost its lock")
			default:
			}

			h.held.(*fileHeld).stopHeartbeat() // the holder stops
			broken := time.Duration(0)
			for ; b.TryLock() != nil; broken += 10 * time.Second {
				require.Less(t, broken, staleAfter, "a lock that stopped changing is never broken")
				pass(10 * time.Second)
			}
			require.GreaterOrEqual(t, broken, watchNeed(staleAfter)-10*time.Second, "broken before it was seen unchanged for long enough")
			require.NoError(t, b.Unlock())
			require.ErrorIs(t, h.Unlock(), ErrLockLost)
		})
	}
}

// steppedClockLock returns a lock of strategy s on a filesystem whose clock
// (wall) a test may step, held by h (whose clock is hk) and contended by
// b (bk), both live processes of one host.
func steppedClockLock(t *testing.T, s Strategy, staleAfter time.Duration) (wall, hk, bk *clock.Fake, h, b *Lock) {
	t.Helper()
	start := time.Date(2030, 1, 1, 0, 0, 0, 123456789, time.UTC)
	wall = clock.NewFake(start) // the filesystem's time stamps
	m := memfs.New(wall)
	require.NoError(t, m.MkdirAll("/locks", 0o755))
	hk, bk = clock.NewFake(start), clock.NewFake(start) // each process's own clock
	alive := func(proc.Identity) proc.State { return proc.Alive }
	newHandle := func(k clock.Clock, pid int) *Lock {
		l, err := New("/locks/x.lock", WithStrategy(s), withFS(&stView{m}), withClock(k), WithStaleAfter(staleAfter),
			withProcess(proc.Identity{PID: pid, Host: "h", BootID: "b", PIDNS: "n", Start: 1}, alive))
		require.NoError(t, err)
		return l
	}
	h, b = newHandle(hk, 10), newHandle(bk, 20)
	require.NoError(t, h.TryLock())
	t.Cleanup(func() { h.Unlock() })
	return wall, hk, bk, h, b
}

// TestClockStepShortensTheStopBound pins the bound docs/design.md gives
// for a holder stopped while the filesystem's clock steps forward: three
// fifths of the stale-after age less one heartbeat interval (80 s by
// default), not two thirds of the age. The holder stops just before a
// heartbeat is due, the clock steps a whole age ahead, and a contender
// that looks every second breaks the lock once it has seen it unchanged
// for the watch, which began at the last heartbeat.
func TestClockStepShortensTheStopBound(t *testing.T) {
	const staleAfter, look = 5 * time.Minute, time.Second
	wall, hk, bk, h, b := steppedClockLock(t, Soft, staleAfter)
	every := h.held.(*fileHeld).every
	pass := func(holderRuns bool) {
		wall.Advance(look)
		bk.Advance(look)
		if holderRuns {
			hk.Advance(look)
			hk.Settle() // the heartbeat, if due
		}
	}
	for ran := look; ran < 2*every; ran += look { // up to just before the second heartbeat
		pass(true)
		require.ErrorIs(t, b.TryLock(), ErrWouldBlock)
	}
	wall.Advance(staleAfter) // the step
	stopped := time.Duration(0)
	for b.TryLock() != nil {
		pass(false) // the holder is stopped
		stopped += look
		require.Less(t, stopped, staleAfter-every, "not broken within the bound without a step")
	}
	require.NoError(t, b.Unlock())
	bound := watchNeed(staleAfter) - every
	require.Equal(t, 80*time.Second, bound, "the bound docs/design.md gives")
	require.InDelta(t, bound, stopped, float64(2*look), "broken after a stop of %v", stopped)
}

// readCountFS is the real filesystem, counting the opens for reading of
// one path.
type readCountFS struct {
	fsys.OS
	path  string
	reads atomic.Int64
}

func (c *readCountFS) OpenRead(name string) (fsys.File, error) {
	if name == c.path {
		c.reads.Add(1)
	}
	return c.OS.OpenRead(name)
}

// TestWaiterJudgesAtMostEveryJudgeEvery: a waiter that tries a busy lock
// every millisecond reads the lock file to judge it once every judgeEvery
// exactly: not at every attempt, and not a millisecond later.
func TestWaiterJudgesAtMostEveryJudgeEvery(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			h := newLock(t, path, WithStrategy(s), withFS(otherFS{}))
			require.NoError(t, lockWithin(h))
			fake := clock.NewFake(time.Now())
			cfs := &readCountFS{path: path}
			w := newLock(t, path, WithStrategy(s), WithBarging(), WithPolling(),
				WithBackoff(time.Millisecond, time.Millisecond), withClock(fake), withFS(cfs))
			ctx, cancel := context.WithCancel(context.Background())
			done := lockAsync(ctx, w)
			const waited = time.Second
			for moved := time.Duration(0); moved < waited; moved += time.Millisecond {
				select {
				case <-fake.TimerAdded():
					fake.Advance(time.Millisecond)
				case err := <-done:
					t.Fatalf("the waiter returned: %v", err)
				case <-time.After(testLockWait):
					t.Fatal("the waiter set no timer")
				}
			}
			select {
			case <-fake.TimerAdded(): // the attempt at the last millisecond is made
			case <-time.After(testLockWait):
				t.Fatal("the waiter set no timer")
			}
			cancel()
			require.ErrorIs(t, recv(t, done), context.Canceled)
			// At the first attempt and each judgeEvery since, the last
			// included: once at most every judgeEvery, and no less often.
			require.Equal(t, int64(waited/judgeEvery)+1, cfs.reads.Load(), "reads of the lock file")
			require.NoError(t, h.Unlock())
		})
	}
}

// TestWaiterOnAClockThatDoesNotMove: a clock may read the same between
// attempts (a coarse one, as Windows' tick): a waiter trying a busy lock
// every millisecond then judges it at its first attempt only, as within
// judgeEvery of that judgement, not at every attempt.
func TestWaiterOnAClockThatDoesNotMove(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			h := newLock(t, path, WithStrategy(s), withFS(otherFS{}))
			require.NoError(t, lockWithin(h))
			// Cancelled as it begins to wait after its 20th attempt.
			ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
			defer cancel()
			frozen := &frozenClock{at: time.Now(), out: cancel}
			frozen.timers.Store(20)
			cfs := &readCountFS{path: path}
			w := newLock(t, path, WithStrategy(s), WithBarging(), WithPolling(),
				WithBackoff(time.Millisecond, time.Millisecond), withClock(frozen), withFS(cfs))
			require.ErrorIs(t, w.LockContext(ctx), context.Canceled)
			require.Equal(t, int64(1), cfs.reads.Load(), "reads of the lock file in 20 attempts")
			require.NoError(t, h.Unlock())
		})
	}
}

// frozenClock is the real clock, but for its reading, which stays at; it
// calls out once it has made timers timers.
type frozenClock struct {
	clock.Real
	at     time.Time
	timers atomic.Int64
	out    func()
}

func (c *frozenClock) Now() time.Time { return c.at }

func (c *frozenClock) NewTimer(d time.Duration) clock.Timer {
	if c.timers.Add(-1) == 0 {
		c.out()
	}
	return c.Real.NewTimer(d)
}

// TestOneBreakPerAttempt: an attempt that broke a stale lock and then
// lost the path to another file (another contender's, or one as dead)
// breaks nothing more: it reports the lock busy, and a later attempt
// judges the new file afresh. Here a dead holder's file is planted right
// before each create of the lock path that follows a break, with the
// clock moved by judgeEvery, so that only the one break an attempt may
// make keeps it from breaking again and again.
func TestOneBreakPerAttempt(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
			fake := clock.NewFake(time.Now())
			planted := 0
			// Planted as the attempt makes the lock file or its claim,
			// once the path is free.
			ffs := &faultFS{create: func(name string) error {
				if !strings.HasPrefix(name, path) || planted == 3 || fileThere(path) {
					return nil
				}
				planted++
				fake.Advance(judgeEvery)
				return os.WriteFile(path, forgedRecord(t, otherHost()), 0o644)
			}}
			dead := withProcess(proc.Self(), func(proc.Identity) proc.State { return proc.Dead })
			l := newLock(t, path, WithStrategy(s), withFS(ffs), withClock(fake), dead)
			require.ErrorIs(t, l.TryLock(), ErrWouldBlock)
			require.Equal(t, 1, planted, "the lock path created again after more than one break")
			require.FileExists(t, path, "the file planted after the break stays")
		})
	}
}

// TestWatchSharedByTheProcess: what one handle has seen of a lock stale by
// age counts for the next handle of the same lock in this process, so that
// a handle made for each attempt (a request, an AtomicInit call) breaks it
// once the process has watched it for long enough.
func TestWatchSharedByTheProcess(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
			old := time.Now().Add(-time.Hour)
			require.NoError(t, os.Chtimes(path, old, old))
			fake := clock.NewFake(time.Now())
			opts := []Option{WithStrategy(s), WithStaleAfter(time.Minute), withFS(noCtimeFS{}), withClock(fake)}
			require.ErrorIs(t, newLock(t, path, opts...).TryLock(), ErrWouldBlock, "seen for the first time")
			fake.Advance(watchNeed(time.Minute))
			l := newLock(t, path, opts...)
			require.NoError(t, l.TryLock(), "another handle of this process has seen it unchanged for long enough")
			require.NoError(t, l.Unlock())
		})
	}
}

// TestStaleReasonSaysWhatIsLeft: Inspect's reason for a lock stale by age
// says how much longer it must be seen unchanged before it is broken, and
// once it has been, says no more of it.
func TestStaleReasonSaysWhatIsLeft(t *testing.T) {
	const staleAfter = 5 * time.Minute
	w := newSightWorld(t, Soft, staleAfter)
	w.leftStale()
	p := w.process(20, "boot-1")
	st, err := p.Inspect()
	require.NoError(t, err)
	require.True(t, st.Stale)
	require.Contains(t, st.StaleReason, "broken once seen unchanged for 3m0s more")
	w.pass(watchNeed(staleAfter))
	st, err = p.Inspect()
	require.NoError(t, err)
	require.True(t, st.Stale)
	require.Contains(t, st.StaleReason, "not changed for")
	require.NotContains(t, st.StaleReason, "more", "a lock seen unchanged for long enough said to need more")
}
