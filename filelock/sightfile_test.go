package filelock

import (
	"fmt"
	"io/fs"
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
// the file, dated in the future, malformed, or that others may write
// counts for nothing.
func TestSightingFileCarriesTheWatch(t *testing.T) {
	const staleAfter = 5 * time.Minute
	start := time.Date(2030, 1, 1, 0, 0, 0, 123456789, time.UTC) // not whole seconds: no coarse filesystem
	for _, s := range []Strategy{Soft, Link} {
		for _, c := range []struct {
			name  string
			boot  string                                    // the second process's boot ("": the first's)
			spoil func(t *testing.T, m *memfs.FS, p string) // what befalls the sighting file between the two
			taken bool
		}{
			{name: "carried", taken: true},
			{name: "none", spoil: func(t *testing.T, m *memfs.FS, p string) { require.NoError(t, m.Remove(p)) }},
			{name: "another boot", boot: "boot-2"},
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
				wall := clock.NewFake(start)
				m := memfs.New(wall)
				require.NoError(t, m.MkdirAll("/locks", 0o755))
				clocks := []*clock.Fake{clock.NewFake(start), clock.NewFake(start), clock.NewFake(start)}
				pass := func(d time.Duration) {
					wall.Advance(d)
					for _, k := range clocks {
						k.Advance(d)
					}
				}
				handle := func(k *clock.Fake, pid int, boot string) *Lock {
					return newLock(t, "/locks/x.lock", WithStrategy(s), withFS(&stView{m}), withClock(k), WithStaleAfter(staleAfter),
						withProcess(proc.Identity{PID: pid, Host: "h", BootID: boot, PIDNS: "n", Start: 1},
							func(proc.Identity) proc.State { return proc.Unknown }))
				}
				holder := handle(clocks[0], 10, "boot-0")
				require.NoError(t, holder.TryLock())
				holder.held.(*fileHeld).stopHeartbeat() // and then dies, out of sight
				pass(staleAfter + time.Second)

				first := handle(clocks[1], 20, "boot-1")
				require.ErrorIs(t, first.TryLock(), ErrWouldBlock, "broken at its first sighting")
				seen := "/locks/x.lock.seen.h"
				readSeen(t, m, seen)
				if c.spoil != nil {
					c.spoil(t, m, seen)
				}
				pass(watchNeed(staleAfter))

				boot := c.boot
				if boot == "" {
					boot = "boot-1"
				}
				next := handle(clocks[2], 30, boot)
				err := next.TryLock()
				if !c.taken {
					require.ErrorIs(t, err, ErrWouldBlock, "broken on the word of a sighting file that does not count")
					return
				}
				require.NoError(t, err, "the first process's sighting not counted")
				names, err := m.ReadDirNames("/locks")
				require.NoError(t, err)
				require.Equal(t, []string{"x.lock"}, names, "the sighting file outlived the file it was about")
				require.NoError(t, next.Unlock())
			})
		}
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

// putSeen replaces the file p by one holding data, with the permission
// perm.
func putSeen(t *testing.T, m *memfs.FS, p string, data []byte, perm fs.FileMode) {
	t.Helper()
	require.NoError(t, m.Remove(p))
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
	s := seenFile{boot: "b", id: fsys.FileID{Dev: 1, Ino: 2}, changed: -3, size: 4, since: 5}
	good := string(s.marshal())
	require.Equal(t, "filelock-seen v1 b 1 2 -3 4 5\n", good)
	got, ok := parseSeen([]byte(good))
	require.True(t, ok)
	require.Equal(t, s, got)
	for _, bad := range []string{
		"", good[:len(good)-1], "filelock-seen v2 b 1 2 -3 4 5\n", "filelock-seen v1 b 1 2 -3 4\n",
		"filelock-seen v1 b 1 2 -3 4 5 6\n", "filelock-seen v1 b 1 2 -3 4 x\n", "filelock-seen v1  b 1 2 -3 4 5\n",
		"filelock-seen v1 b 01 2 -3 4 5\n", "filelock-seen v1 b -1 2 -3 4 5\n", "filelock-seen v1 b\x01 1 2 -3 4 5\n",
		fmt.Sprintf("%s\n%s", good, good),
	} {
		_, ok := parseSeen([]byte(bad))
		require.False(t, ok, "%q taken for a sighting", bad)
	}
}
