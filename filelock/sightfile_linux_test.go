package filelock

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestOneShotTryLocksBreakAnAbandonedLock: processes that each make one
// TryLock and exit, as a cron job does, break a lock only age shows
// abandoned (its holder on another host) once three fifths of the age
// have passed since the first of them saw it, by the sighting file it
// left: the first is refused, the one after the watch takes the lock,
// even when the first ran in another time namespace, whose monotonic
// clock is a day ahead. Without the sighting file, or with one another user owns or
// others may write, the later process is refused too.
func TestOneShotTryLocksBreakAnAbandonedLock(t *testing.T) {
	skipForTheOverflowUser(t)
	const staleAfter = time.Second
	for _, c := range []struct {
		name  string
		root  bool                            // needs root
		spoil func(t *testing.T, seen string) // between the two processes
		inNS  bool                            // the first in a new time namespace
		taken bool
	}{
		{name: "carried", taken: true},
		{name: "carried out of another time namespace", root: true, inNS: true, taken: true},
		{name: "none", spoil: func(t *testing.T, seen string) { require.NoError(t, os.Remove(seen)) }},
		{name: "another user's", root: true, spoil: func(t *testing.T, seen string) { require.NoError(t, os.Chown(seen, 65534, 65534)) }},
		{name: "writable by others", spoil: func(t *testing.T, seen string) { require.NoError(t, os.Chmod(seen, 0o666)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.root && os.Geteuid() != 0 {
				t.Skip("needs root, to give a file to another user or make a time namespace (CI runs the suite as root)")
			}
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
			waitStale(t, path, staleAfter)

			require.Equal(t, "busy", tryOnce(t, path, staleAfter, c.inNS), "broken at the first sighting")
			seen := seenPathIn(t, path)
			require.FileExists(t, seen, "no sighting file left")
			if c.spoil != nil {
				c.spoil(t, seen)
			}
			time.Sleep(watchNeed(staleAfter) + 50*time.Millisecond)
			got := tryOnce(t, path, staleAfter, false)
			if !c.taken {
				require.Equal(t, "busy", got, "broken on the word of a sighting file that does not count")
				return
			}
			require.Equal(t, "taken", got, "the first process's sighting not counted")
			require.Empty(t, dirEntries(t, dir), "the sighting file outlived the lock file it was about")
		})
	}
}

// tryOnce runs a process that makes one TryLock of the soft lock at path
// with the given stale-after age, in a new time namespace if inNS, and
// returns what it says: "taken" or "busy".
func tryOnce(t *testing.T, path string, staleAfter time.Duration, inNS bool) string {
	t.Helper()
	cmd := tryCommand(t, path, Soft, "FILELOCK_TEST_STALE_AFTER="+staleAfter.String())
	if inNS {
		inTimeNamespace(t, cmd)
	}
	return said(t, cmd)
}

// seenPathIn returns the path of this host's sighting file of the lock
// file at path.
func seenPathIn(t *testing.T, path string) string {
	t.Helper()
	l := newLock(t, path)
	return seenPath(l, path)
}

// TestStaleLockOfAnotherUserInAStickyDirectory (as root): in a sticky
// directory all users may write, a lock file another user left, stale by
// age, cannot be moved aside by this user. The attempt fails at once
// with an error that says whose file it is, matching fs.ErrPermission,
// and the sighting it was about is kept: only a break sweeps it away.
func TestStaleLockOfAnotherUserInAStickyDirectory(t *testing.T) {
	us := multiUser(t)
	t.Parallel()
	victim := testUser{name: "victim", cred: &syscall.Credential{Uid: 65533, Gid: 65533}}
	const staleAfter = time.Second
	path := freshName(t, us.shared)
	require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
	require.NoError(t, os.Chown(path, 65534, 65534))
	waitStale(t, path, staleAfter)

	env := []string{"FILELOCK_TEST_LOCK=" + path, "FILELOCK_TEST_STRATEGY=soft", "FILELOCK_TEST_STALE_AFTER=" + staleAfter.String()}
	require.Equal(t, "busy", us.run(t, victim, "try", env...), "broken at the first sighting")
	time.Sleep(watchNeed(staleAfter) + 50*time.Millisecond)
	_, err := us.command(t, victim, "try", env...).Output()
	require.Error(t, err, "another user's file in a sticky directory broken")
	stderr := exitStderr(err)
	require.Contains(t, stderr, "stale, but user 65534's, which this user may not move")
	require.Contains(t, stderr, "operation not permitted")

	seen, err := filepath.Glob(path + "." + kindSeen + ".*.65533")
	require.NoError(t, err)
	require.Len(t, seen, 1, "the sighting of a lock that was not broken swept away")
	require.FileExists(t, path)
}

// waitStale waits until the file at path has not changed (its change
// time, which the age is read from) for longer than staleAfter.
func waitStale(t *testing.T, path string, staleAfter time.Duration) {
	t.Helper()
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(path, &st))
	changed := time.Unix(st.Ctim.Unix())
	time.Sleep(time.Until(changed.Add(staleAfter + 100*time.Millisecond)))
}

// TestSightingsOfTheOverflowUser: a process of the overflow user ID (a
// user namespace's nobody), which sees every file of a user not mapped
// into its namespace as its own, keeps no sightings: a sighting file
// another user of the host made, saying the lock was seen for an hour,
// does not make it break the lock at its first look.
func TestSightingsOfTheOverflowUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give a file to another user and make a user namespace (CI runs the suite as root)")
	}
	unshare, err := exec.LookPath("unshare")
	require.NoError(t, err, "unshare (util-linux) runs a child in a new user namespace")
	asNobody := []string{unshare, "--user", "--map-user=65534", "--map-group=65534", "--"}
	probe := exec.Command("true")
	runUnder(probe, asNobody...)
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("no user namespaces mapped to the overflow user here: %v: %s", err, out)
	}
	t.Parallel()
	const staleAfter = time.Second
	path := filepath.Join(t.TempDir(), "x.lock")
	require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
	waitStale(t, path, staleAfter)

	l := newLock(t, path)
	data, info, err := readRecordFile(l.cfg.fs, path)
	require.NoError(t, err)
	now, ok := l.cfg.monotonic()
	require.True(t, ok)
	forged := besideName(path, kindSeen, l.cfg.self.BootID[:bootPrefix], "65534")
	require.NoError(t, os.WriteFile(forged, seenOf(l, info, data, now-time.Hour).marshal(), seenPerm))
	require.NoError(t, os.Chown(forged, 1000, 1000))

	cmd := tryCommand(t, path, Soft, "FILELOCK_TEST_STALE_AFTER="+staleAfter.String())
	runUnder(cmd, asNobody...)
	require.Equal(t, "busy", said(t, cmd), "broken at the first look on the word of another user's sighting")
}
