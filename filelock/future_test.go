package filelock

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
)

// TestFutureDatesDoNotBlock: a lock file, guard or fair ticket dated far
// in the future (touch -d 2100) is aged from when it was last changed, or,
// where the filesystem keeps no change time, from when it was first seen
// unchanged: it holds the lock up for the stale-after age, not until 2100.
func TestFutureDatesDoNotBlock(t *testing.T) {
	const staleAfter = 2 * time.Second
	future := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		fs    fsys.FS
		dated string // the suffix of the file dated in the future
		fair  bool
		// real: the real clock, since a ticket's age is read from the
		// filesystem's clock alone, which a fake clock does not move.
		real bool
	}{
		{"guard", fsys.OS{}, guardSuffix, false, false},
		{"guard without ctime", noCtimeFS{}, guardSuffix, false, false},
		{"lock file without ctime", noCtimeFS{}, "", false, false},
		{"ticket", fsys.OS{}, "ticket", true, true},
		{"ticket without ctime", noCtimeFS{}, "ticket", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			if tc.dated != "ticket" {
				require.NoError(t, os.WriteFile(path, forgedRecord(t, otherHost()), 0o644))
			}
			var dated string
			switch tc.dated {
			case "ticket":
				dated = writeTicket(t, path, 1, future)
			case guardSuffix:
				dated = path + guardSuffix
				require.NoError(t, os.WriteFile(dated, forgedRecord(t, otherHost()), 0o644))
			default:
				dated = path
			}
			require.NoError(t, os.Chtimes(dated, future, future))
			opts := []Option{withFS(tc.fs), WithStaleAfter(staleAfter), WithPolling()}
			if tc.fair {
				opts = append(opts, WithFair())
			}
			if tc.real {
				l := newLock(t, path, append(opts, WithTimeout(10*staleAfter))...)
				require.NoError(t, l.Lock())
				require.NoError(t, l.Unlock())
				return
			}
			fake := clock.NewFake(time.Now())
			l := newLock(t, path, append(opts, withClock(fake))...)
			done := make(chan error, 1)
			go func() { done <- lockWithin(l) }()
			require.NoError(t, driveUntil(t, fake, 100*time.Millisecond, 10*staleAfter, done))
			require.NoError(t, l.Unlock())
		})
	}
}
