package filelock

import (
	"os"
	"path/filepath"
	"strings"
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
			info, err := os.Stat(path)
			require.NoError(t, err)
			time.Sleep(time.Until(info.ModTime().Add(staleAfter + 100*time.Millisecond))) // stale by age

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
	cmd := childCommand(t, "try", "FILELOCK_TEST_LOCK="+path, "FILELOCK_TEST_STRATEGY=soft",
		"FILELOCK_TEST_STALE_AFTER="+staleAfter.String())
	if inNS {
		inTimeNamespace(t, cmd)
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s", exitStderr(err))
	return strings.TrimSpace(string(out))
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
	info, err := os.Stat(path)
	require.NoError(t, err)
	time.Sleep(time.Until(info.ModTime().Add(staleAfter + 100*time.Millisecond)))

	env := []string{"FILELOCK_TEST_LOCK=" + path, "FILELOCK_TEST_STRATEGY=soft", "FILELOCK_TEST_STALE_AFTER=" + staleAfter.String()}
	require.Equal(t, "busy", us.run(t, victim, "try", env...), "broken at the first sighting")
	time.Sleep(watchNeed(staleAfter) + 50*time.Millisecond)
	_, err = us.command(t, victim, "try", env...).Output()
	require.Error(t, err, "another user's file in a sticky directory broken")
	stderr := exitStderr(err)
	require.Contains(t, stderr, "stale, but user 65534's")
	require.Contains(t, stderr, "operation not permitted")

	seen, err := filepath.Glob(path + "." + kindSeen + ".*.65533")
	require.NoError(t, err)
	require.Len(t, seen, 1, "the sighting of a lock that was not broken swept away")
	require.FileExists(t, path)
}
