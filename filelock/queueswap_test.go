//go:build unix

package filelock

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/proc"
)

// The fair queue swapped under a waiter, between its check of the queue
// directory and its use: someone who may write the lock's directory moves
// the queue aside and puts a symbolic link to a directory of their choice
// in its place. A waiter that opened the queue keeps working in the
// directory it opened and judged, which is still the lock users' own: it
// neither makes, reads nor removes anything in the other directory, and
// its acquisition goes on. (Refusing it instead would buy nothing: the
// queue only orders, and newcomers refuse the link anyway.)

// onQueueDirChecked makes every check of an open queue directory call f,
// until the test ends.
func onQueueDirChecked(t *testing.T, f func()) {
	queueDirCheckedHook = func(string) { f() }
	t.Cleanup(func() { queueDirCheckedHook = nil })
}

// asideOf is where swapQueue moves the queue of the lock at path.
func asideOf(path string) string { return path + ".aside" }

// swapAtFirstCheck makes the first check of an open queue directory swap
// the queue of the lock at path for a link to attacker (swapQueue), and
// returns where the real queue will then be.
func swapAtFirstCheck(t *testing.T, path, attacker string) string {
	t.Helper()
	var once sync.Once
	onQueueDirChecked(t, func() { once.Do(func() { swapQueue(t, path, attacker) }) })
	return asideOf(path)
}

// swapQueue moves the queue of the lock at path aside, returning where
// to, and puts a symbolic link to attacker in its place.
func swapQueue(t *testing.T, path, attacker string) string {
	t.Helper()
	aside := asideOf(path)
	require.NoError(t, os.Rename(path+queueSuffix, aside))
	require.NoError(t, os.Symlink(attacker, path+queueSuffix))
	return aside
}

// attackerDir is a directory of the attacker's holding the given names,
// and a check that nothing was made or removed in it since: its contents
// and its modification time, set far back so that any change moves it.
func attackerDir(t *testing.T, names ...string) (dir string, untouched func()) {
	t.Helper()
	dir = t.TempDir()
	for _, n := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), forgedRecord(t, otherHost()), 0o644))
	}
	old := time.Unix(1e9, 0)
	require.NoError(t, os.Chtimes(dir, old, old))
	want := dirEntries(t, dir)
	return dir, func() {
		t.Helper()
		require.Equal(t, want, dirEntries(t, dir), "nothing made or removed in the attacker's directory")
		info, err := os.Lstat(dir)
		require.NoError(t, err)
		require.True(t, info.ModTime().Equal(old), "the attacker's directory changed at %v", info.ModTime())
	}
}

// TestFairQueueSwappedBeforeTicket: the queue swapped right after the
// waiter opened and checked it, before it lists it and makes its ticket.
func TestFairQueueSwappedBeforeTicket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	attacker, untouched := attackerDir(t, ticketName(0))
	aside := swapAtFirstCheck(t, path, attacker)
	l := newLock(t, path, WithFair(), WithTimeout(10*time.Second))
	require.NoError(t, lockWithin(l), "the waiter keeps to the queue it opened")
	require.DirExists(t, aside, "the queue was swapped")
	require.Len(t, listTickets(t, aside), 1, "its ticket is in the real queue")
	require.NoError(t, l.Unlock())
	require.Equal(t, "", dirEntries(t, aside), "its ticket is removed from the real queue")
	untouched()
}

// TestFairQueueSwappedBeforeLeave: the queue swapped while its waiter
// holds the lock, with a file named like its ticket in the other
// directory: the release removes the real ticket, not that file.
func TestFairQueueSwappedBeforeLeave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	l := newLock(t, path, WithFair(), WithTimeout(10*time.Second))
	require.NoError(t, lockWithin(l))
	names := listTickets(t, path+queueSuffix)
	require.Len(t, names, 1)
	attacker, untouched := attackerDir(t, names...)
	aside := swapQueue(t, path, attacker)
	require.NoError(t, l.Unlock())
	require.Equal(t, "", dirEntries(t, aside), "the real ticket is removed")
	untouched()
}

// TestFairQueueSwappedBeforeListing: the queue swapped between a fair
// TryLock's check and its listing, with a dead waiter's ticket in each
// directory: the dead ticket of the real queue is removed, the other
// directory's is left alone, and the lock is taken.
func TestFairQueueSwappedBeforeListing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	require.NoError(t, os.Mkdir(path+queueSuffix, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(path+queueSuffix, ticketName(1)), forgedRecord(t, otherHost()), 0o644))
	attacker, untouched := attackerDir(t, ticketName(0))
	aside := swapAtFirstCheck(t, path, attacker)
	everyoneDead := withProcess(proc.Self(), func(proc.Identity) proc.State { return proc.Dead })
	l := newLock(t, path, WithFair(), everyoneDead)
	require.NoError(t, l.TryLock(), "only a dead waiter was queued")
	require.NoError(t, l.Unlock())
	require.DirExists(t, aside, "the queue was swapped")
	require.Equal(t, "", dirEntries(t, aside), "the dead ticket of the real queue is removed")
	untouched()
}

// listTickets returns the names of the tickets in the queue directory dir.
func listTickets(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		if _, ok := parseTicketName(e.Name()); ok {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestFairQueueSwappedDeadAhead: the queue swapped after its waiter opened
// it, with a dead waiter's ticket ahead: the path no longer leads to that
// ticket, so the waiter cannot watch it, and it judges and removes it
// through the open directory instead of waiting for an event that cannot
// come.
func TestFairQueueSwappedDeadAhead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	r := newRecord(proc.Self(), time.Now())
	r.PID = deadPID(t)
	data, err := r.MarshalText()
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(path+queueSuffix, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(path+queueSuffix, ticketName(1)), data, 0o644))
	attacker, untouched := attackerDir(t)
	aside := swapAtFirstCheck(t, path, attacker)
	l := newLock(t, path, WithFair(), WithTimeout(10*time.Second))
	require.NoError(t, lockWithin(l), "the dead waiter's ticket is judged through the open directory")
	require.DirExists(t, aside, "the queue was swapped")
	require.Len(t, listTickets(t, aside), 1, "only the waiter's own ticket is left")
	require.NoError(t, l.Unlock())
	untouched()
}
