package filelock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/fsys/memfs"
)

// TestMarkerTouchedEveryTidyEvery: a waiter that keeps the turn marker
// touches it once tidyEvery has passed since it last did, and in between
// only looks that it is there, making it again if it is not; so the marker
// never ages past turnMarkerLife while its waiter waits, and is not
// written more often than that needs. (On an in-memory filesystem whose
// times come from the fake clock, so that they are exact.)
func TestMarkerTouchedEveryTidyEvery(t *testing.T) {
	fake := clock.NewFake(time.Unix(1_000_000, 0))
	m := memfs.New(fake)
	l := newLock(t, "/locks/x.lock", withFS(m), withClock(fake))
	q := newQueue(l)
	require.NoError(t, m.MkdirAll(q.dir, 0o755))
	dir, err := fsys.OpenDir(m, q.dir)
	require.NoError(t, err)
	defer dir.Close()
	markerTime := func() time.Time {
		t.Helper()
		info, err := dir.Lstat(turnName)
		require.NoError(t, err)
		return info.ModTime
	}

	touched, made := q.keepMarker(dir, time.Time{})
	require.True(t, made, "no marker made")
	require.Equal(t, fake.Now(), touched)

	fake.Advance(tidyEvery - time.Nanosecond)
	again, made := q.keepMarker(dir, touched)
	require.False(t, made)
	require.Equal(t, touched, again, "touched before tidyEvery had passed")
	require.Equal(t, touched, markerTime())

	fake.Advance(time.Nanosecond)
	again, made = q.keepMarker(dir, touched)
	require.False(t, made)
	require.Equal(t, fake.Now(), again, "not touched once tidyEvery had passed")
	require.Equal(t, fake.Now(), markerTime())

	require.NoError(t, dir.Remove(turnName))
	fake.Advance(time.Millisecond)
	again, made = q.keepMarker(dir, again)
	require.True(t, made, "a marker removed between touches not made again")
	require.Equal(t, fake.Now(), again)
	require.Equal(t, fake.Now(), markerTime())
}
