package filelock

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/proc"
)

// TestRelativePathSurvivesChdir: a handle made with a relative path keeps
// naming the same file after the process changes directory.
func TestRelativePathSurvivesChdir(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		t.Chdir(dir)
		l := newLock(t, "x.lock", WithStrategy(s))
		require.Equal(t, "x.lock", l.Path())
		require.NoError(t, lockWithin(l))
		require.NoError(t, os.Chdir(elsewhere))
		require.NoError(t, l.Unlock())
		select {
		case <-l.Lost():
			t.Fatal("Lost fired")
		default:
		}
		if s.fileBased() {
			require.NoFileExists(t, filepath.Join(dir, "x.lock"))
		}
		require.NoFileExists(t, filepath.Join(elsewhere, "x.lock"))
	})
}

// TestDotDotAfterALinkMeansTheKernelsFile: "l/../x.lock", with l a
// symbolic link, names x.lock beside l's target, as it does for every
// program that opens it; the lock excludes a handle given that file's own
// path and makes nothing beside l (fair queue included).
func TestDotDotAfterALinkMeansTheKernelsFile(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		here, there := t.TempDir(), t.TempDir()
		require.NoError(t, os.Mkdir(filepath.Join(there, "sub"), 0o755))
		require.NoError(t, os.Symlink(filepath.Join(there, "sub"), filepath.Join(here, "l")))
		for _, fair := range []bool{false, true} {
			opts := []Option{WithStrategy(s)}
			if fair {
				opts = append(opts, WithFair())
			}
			l := newLock(t, here+"/l/../x.lock", opts...)
			require.NoError(t, lockWithin(l))
			other := newLock(t, filepath.Join(there, "x.lock"), opts...)
			require.ErrorIs(t, other.TryLock(), ErrWouldBlock)
			names, err := os.ReadDir(here)
			require.NoError(t, err)
			require.Len(t, names, 1, "only the link is beside it")
			require.NoError(t, l.Unlock())
			require.NoError(t, lockWithin(other))
			require.NoError(t, other.Unlock())
		}
	})
}

// TestNameTooLongRejectedByNew: a name that leaves no room for the names
// made beside the lock file is refused at New, with the limit; the longest
// name accepted serves, a break of a stale lock included, whose guard's
// claim is the longest name made beside it (with its host name at the
// longest kept, and a PID of ten digits).
func TestNameTooLongRejectedByNew(t *testing.T) {
	dir := t.TempDir()
	self := proc.Self()
	self.Host, self.PID = strings.Repeat("h", 64), 1<<31-1 // the widest claim name
	deadOthers := withProcess(self, func(id proc.Identity) proc.State {
		if id == otherHost() {
			return proc.Dead
		}
		return proc.Alive
	})
	for _, tc := range []struct {
		name  string
		opts  []Option
		stale bool // a stale lock is there, to break
	}{
		{"soft", []Option{WithStrategy(Soft)}, false},
		{"link", []Option{WithStrategy(Link)}, false},
		{"os fair", []Option{WithStrategy(OS), WithFair()}, false},
		{"soft, long host, break", []Option{WithStrategy(Soft), deadOthers}, true},
		{"link, long host, break", []Option{WithStrategy(Link), deadOthers}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig()
			for _, o := range tc.opts {
				o(&cfg)
			}
			limit := nameMax - longestSuffix(&cfg)
			ok := filepath.Join(dir, strings.Repeat("a", limit))
			if tc.stale {
				require.NoError(t, os.WriteFile(ok, forgedRecord(t, otherHost()), 0o644))
			}
			l := newLock(t, ok, tc.opts...)
			require.NoError(t, l.TryLock())
			require.NoError(t, l.Unlock())
			for _, n := range []int{limit + 1, nameMax} {
				path := filepath.Join(dir, strings.Repeat("b", n))
				_, err := New(path, tc.opts...)
				require.ErrorIs(t, err, ErrInvalidPath)
				var pe *fs.PathError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, path, pe.Path)
				require.Contains(t, err.Error(), "255")
			}
		})
	}
}
