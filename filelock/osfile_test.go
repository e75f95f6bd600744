//go:build unix

package filelock

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// An OS or OFD lock file removed or replaced while held no longer excludes
// anyone who comes by the path: Unlock says the lock was lost.
func TestOSLockFileGoneWhileHeld(t *testing.T) {
	cases := []struct {
		name string
		do   func(t *testing.T, path string)
		undo func(t *testing.T, path string) // before the path is locked again
	}{
		{"removed", func(t *testing.T, path string) { require.NoError(t, os.Remove(path)) }, nil},
		{"renamed away", func(t *testing.T, path string) { require.NoError(t, os.Rename(path, path+".old")) }, nil},
		{"replaced", func(t *testing.T, path string) {
			require.NoError(t, os.Remove(path))
			require.NoError(t, os.WriteFile(path, nil, 0o644))
		}, nil},
		{"moved aside, another file in its place", func(t *testing.T, path string) {
			require.NoError(t, os.Rename(path, path+".old"))
			require.NoError(t, os.WriteFile(path, nil, 0o644))
		}, nil},
		// The path cannot be looked at (ENOTDIR): the file's own link
		// count tells.
		{"removed, its directory moved aside and a file in its place", func(t *testing.T, path string) {
			dir := filepath.Dir(path)
			require.NoError(t, os.Remove(path))
			require.NoError(t, os.Rename(dir, dir+".old"))
			require.NoError(t, os.WriteFile(dir, nil, 0o644))
		}, func(t *testing.T, path string) {
			dir := filepath.Dir(path)
			require.NoError(t, os.Remove(dir))
			require.NoError(t, os.Rename(dir+".old", dir))
		}},
	}
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "d")
				require.NoError(t, os.Mkdir(dir, 0o755))
				path := filepath.Join(dir, "x.lock")
				l := newLock(t, path, WithStrategy(s))
				require.NoError(t, l.TryLock())
				tc.do(t, path)
				requireLockPathError(t, l.Unlock(), path, ErrLockLost)
				require.Zero(t, l.Depth())
				if tc.undo != nil {
					tc.undo(t, path)
				}
				require.NoError(t, l.TryLock(), "the handle is released")
				require.NoError(t, l.Unlock())
			})
		}
	})
}

// An OS or OFD lock file whose path can no longer be looked at (ENOTDIR),
// but which still has its name, is not lost: its release takes its record
// back as usual, unless something was written after the record meanwhile
// (its size then unknown, the release reads past the record to tell).
func TestOSLockFileOutOfSightNotLost(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		for _, more := range []string{"", "x"} {
			t.Run(map[string]string{"": "record alone", "x": "record and more"}[more], func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "d")
				require.NoError(t, os.Mkdir(dir, 0o755))
				path := filepath.Join(dir, "x.lock")
				l := newLock(t, path, WithStrategy(s))
				require.NoError(t, l.TryLock())
				record, err := os.ReadFile(path)
				require.NoError(t, err)
				require.NotEmpty(t, record)
				appendTo(t, path, more)
				require.NoError(t, os.Rename(dir, dir+".old"))
				require.NoError(t, os.WriteFile(dir, nil, 0o644))
				require.NoError(t, l.Unlock())
				data, err := os.ReadFile(filepath.Join(dir+".old", "x.lock"))
				require.NoError(t, err)
				if more == "" {
					require.Empty(t, data, "the holder's record was taken back")
					return
				}
				require.Equal(t, string(record)+more, string(data), "what followed the record was lost")
			})
		}
	})
}

// appendTo appends data to the file at path.
func appendTo(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(data)
	require.NoError(t, errors.Join(err, f.Close()))
}

// A hard link planted at an OS or OFD lock path is refused, and the file
// it names is left as it was.
func TestOSLockFileHardLinked(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		victim, path := filepath.Join(dir, "data"), filepath.Join(dir, "x.lock")
		require.NoError(t, os.WriteFile(victim, []byte("precious\n"), 0o644))
		require.NoError(t, os.Link(victim, path))
		l := newLock(t, path, WithStrategy(s))
		for name, acquire := range map[string]func() error{"TryLock": l.TryLock, "Lock": l.Lock} {
			err := acquire()
			requireLockPathError(t, err, path, ErrHardLinked)
			require.NotErrorIs(t, err, ErrWouldBlock, name)
		}
		data, err := os.ReadFile(victim)
		require.NoError(t, err)
		require.Equal(t, "precious\n", string(data))
	})
}

// An OS or OFD lock file is written only if it holds nothing or a record of
// ours: other content is locked as it is and left alone.
func TestOSLockFileContent(t *testing.T) {
	stale := mustRecord(t)
	longer := otherHost()
	longer.Host = strings.Repeat("h", 200)
	cases := []struct {
		name       string
		content    string
		wantRecord bool // a record of ours is written while held
		after      string
	}{
		{"empty", "", true, ""},
		{"record of ours", stale, true, ""},
		{"longer record of ours", string(forgedRecord(t, longer)), true, ""}, // emptied before the new one is written
		{"data", "precious\n", false, "precious\n"},
		{"record and more", stale + "x", false, stale + "x"},
		{"large", string(make([]byte, MaxRecordSize+1)), false, string(make([]byte, MaxRecordSize+1))},
	}
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "x.lock")
				require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o644))
				l := newLock(t, path, WithStrategy(s))
				require.NoError(t, lockWithin(l))
				st, err := l.Inspect()
				require.NoError(t, err)
				require.True(t, st.Held)
				require.Equal(t, tc.wantRecord, st.Holder != nil, "holder %v", st.Holder)
				if !tc.wantRecord {
					data, err := os.ReadFile(path)
					require.NoError(t, err)
					require.Equal(t, tc.content, string(data), "content while held")
				}
				require.NoError(t, l.Unlock())
				data, err := os.ReadFile(path)
				require.NoError(t, err)
				require.Equal(t, tc.after, string(data), "content after Unlock")
			})
		}
	})
}

// An OS or OFD release empties the lock file only if it still holds this
// holder's record and nothing more: what another program wrote into it
// while held, after the record or in its place, is left as it is.
func TestOSReleaseLeavesOthersWrites(t *testing.T) {
	cases := []struct {
		name  string
		write func(record string) string // the file's content written while held
	}{
		{"appended", func(r string) string { return r + "x" }},
		{"replaced, same size", func(r string) string { return strings.Repeat("y", len(r)) }},
		{"cut short", func(r string) string { return r[:len(r)-1] }},
	}
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "x.lock")
				l := newLock(t, path, WithStrategy(s))
				require.NoError(t, lockWithin(l))
				record, err := os.ReadFile(path)
				require.NoError(t, err)
				require.NotEmpty(t, record, "the holder's record")
				want := tc.write(string(record))
				require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
				require.NoError(t, l.Unlock())
				data, err := os.ReadFile(path)
				require.NoError(t, err)
				require.Equal(t, want, string(data), "content after Unlock")
			})
		}
	})
}

// mustRecord returns a valid record of this package, as a holder that
// died would have left it.
func mustRecord(t *testing.T) string {
	t.Helper()
	l := newLock(t, filepath.Join(t.TempDir(), "r.lock"))
	data, err := l.newRecord()
	require.NoError(t, err)
	return string(data)
}

// TestOSLockOnAReplacedFileGivenUp: a kernel lock taken on a file that the
// lock path no longer names (removed or replaced between the open and the
// lock, as a waiter blocked in the kernel finds it when the file it waits
// on was replaced) excludes nobody who comes by the path: it is given up
// at once, the lock reported busy, and the replaced file left unlocked.
func TestOSLockOnAReplacedFileGivenUp(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		for _, replace := range []bool{false, true} {
			dir := t.TempDir()
			path, aside := filepath.Join(dir, "x.lock"), filepath.Join(dir, "aside")
			l := newLock(t, path, WithStrategy(s))
			m := l.mech.(osMechanism)
			f, err := m.openLockFile(l)
			require.NoError(t, err)
			require.NoError(t, os.Rename(path, aside))
			if replace {
				require.NoError(t, os.WriteFile(path, nil, 0o644))
			}
			h, err := m.lockOpen(l, f)
			require.ErrorIs(t, err, errBusy, "replaced=%v: the lock on a file out of the path was kept", replace)
			require.Nil(t, h)
			// Asked while the descriptor is still open, whose close
			// would release the lock anyway.
			other, err := os.OpenFile(aside, os.O_RDWR, 0)
			require.NoError(t, err)
			held, err := m.locker.probe(other.Fd())
			require.NoError(t, err)
			require.False(t, held, "replaced=%v: the file out of the path is still locked", replace)
			require.NoError(t, other.Close())
			require.NoError(t, f.Close())
		}
	})
}

// TestOSRecordNotWrittenOverWhatCameBeforeTheLock: content another program
// wrote into the lock file after it was opened, up to the moment the lock
// was taken (its last holder, say), is never written over: the record's
// writer asks the file's size once locked. The write is forced between
// the open and the lock.
func TestOSRecordNotWrittenOverWhatCameBeforeTheLock(t *testing.T) {
	forEachKernelStrategy(t, func(t *testing.T, s Strategy) {
		path := filepath.Join(t.TempDir(), "x.lock")
		const theirs = "another program's data\n"
		l := newLock(t, path, WithStrategy(s))
		m := l.mech.(osMechanism)
		f, err := m.openLockFile(l)
		require.NoError(t, err)
		late := osMechanism{locker: writeBeforeLock{osLocker: m.locker, write: func() {
			require.NoError(t, os.WriteFile(path, []byte(theirs), 0o644))
		}}}
		h, err := late.lockOpen(l, f)
		require.NoError(t, err)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, theirs, string(data), "written over while held")
		require.NoError(t, h.release())
		data, err = os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, theirs, string(data), "written over at the release")
	})
}

// writeBeforeLock is an osLocker that calls write just before it locks.
type writeBeforeLock struct {
	osLocker
	write func()
}

func (w writeBeforeLock) lock(fd uintptr, shared bool) error {
	w.write()
	return w.osLocker.lock(fd, shared)
}
