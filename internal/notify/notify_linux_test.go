//go:build linux

package notify

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// woken reports whether w.C() has received, waiting at most a generous
// bound for an event that must come.
func woken(w *Watcher) bool {
	select {
	case <-w.C():
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

// quiet reports whether w.C() has nothing pending. Events are queued by the
// kernel before the system call that raised them returns; the reader is
// given a moment to pass them on.
func quiet(w *Watcher) bool {
	select {
	case <-w.C():
		return false
	case <-time.After(50 * time.Millisecond):
		return true
	}
}

func TestWatchEntry(t *testing.T) {
	dir := t.TempDir()
	lock, other := filepath.Join(dir, "x.lock"), filepath.Join(dir, "other")
	for _, p := range []string{lock, other} {
		require.NoError(t, os.WriteFile(p, nil, 0o644))
	}
	w, err := New()
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.WatchEntry(dir, "x.lock"))

	require.NoError(t, os.WriteFile(other+"2", []byte("x"), 0o644))
	require.NoError(t, os.Remove(other))
	require.True(t, quiet(w), "another entry changed: no wake-up")

	require.NoError(t, os.Remove(lock))
	require.True(t, woken(w), "the entry was removed")

	f, err := os.OpenFile(lock, os.O_RDONLY|os.O_CREATE, 0o644)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.True(t, quiet(w), "creation is not watched")
	f, err = os.OpenFile(lock, os.O_WRONLY, 0)
	require.NoError(t, err)
	require.True(t, quiet(w), "opening for writing is not watched")
	require.NoError(t, f.Close())
	require.True(t, woken(w), "closing after opening for writing is (a holder that kept it open died)")
	require.NoError(t, os.Rename(lock, other))
	require.True(t, quiet(w), "renaming away (a breaker looking at the lock) is not a release")
	require.NoError(t, os.Remove(other))
	require.True(t, quiet(w), "removing it under another name neither")
}

func TestWatchFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	w, err := New()
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.WatchFile(path))

	r, err := os.Open(path)
	require.NoError(t, err)
	require.True(t, quiet(w), "opening for reading is not watched")
	require.NoError(t, r.Close())
	require.True(t, woken(w), "closed after opening for reading (flock(1)'s release)")

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	require.True(t, quiet(w), "opening is not watched")
	require.NoError(t, f.Close())
	require.True(t, woken(w), "closed after opening for writing")

	require.NoError(t, os.Remove(path))
	require.True(t, woken(w), "removed")

	err = w.WatchFile(path)
	require.ErrorIs(t, err, fs.ErrNotExist)
	var pe *fs.PathError
	require.True(t, errors.As(err, &pe))
	require.Equal(t, path, pe.Path)
}

func TestWatchReplacesTheWatch(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		require.NoError(t, os.WriteFile(p, nil, 0o644))
	}
	w, err := New()
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.WatchFile(a))
	require.NoError(t, w.WatchFile(b))
	require.NoError(t, os.Remove(a))
	require.True(t, quiet(w), "a is no longer watched")
	require.NoError(t, os.Remove(b))
	require.True(t, woken(w))
}

func TestCloseReleasesTheDescriptor(t *testing.T) {
	count := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(ents)
	}
	Settle() // the Watchers of the tests before, closed in the background
	before := count()
	for range 20 {
		w, err := New()
		require.NoError(t, err)
		require.NoError(t, w.WatchEntry(t.TempDir(), "x"))
		require.NoError(t, w.Close())
		w.Wait() // returns: the reading goroutine has ended
	}
	require.Equal(t, before, count())
}
