package filelock

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/fsys/memfs"
	"github.com/lockstress/lockstress/internal/proc"
)

// TestSweepDebrisAgeBoundary: a claim left by a killed process is debris
// once it is older than debrisAge by the filesystem's clock, and not at
// exactly that age; so is a file moved aside, by the time its name gives.
// The filesystem is in memory, on a fake clock, so that its times and the
// lock's are exact.
func TestSweepDebrisAgeBoundary(t *testing.T) {
	for _, tc := range []struct {
		age  time.Duration
		kept bool
	}{
		{debrisAge, true},
		{debrisAge + time.Nanosecond, false},
	} {
		t.Run(tc.age.String(), func(t *testing.T) {
			fake := clock.NewFake(time.Unix(1e9, 0))
			m := memfs.New(fake)
			require.NoError(t, m.MkdirAll("/locks", 0o755))
			path := filepath.Join("/locks", "x.lock")
			claim := path + ".claim.h.1.00"
			aside := fmt.Sprintf("%s.aside.%d.00", path, fake.Now().Unix())
			memWrite(t, m, claim, nil)
			memWrite(t, m, aside, nil)
			fake.Advance(tc.age)
			dead := otherHost()
			memWrite(t, m, path, forgedRecord(t, dead))
			l := newLock(t, path, withFS(m), withClock(fake), withProcess(proc.Self(), func(id proc.Identity) proc.State {
				if id.PID == dead.PID {
					return proc.Dead
				}
				return proc.Alive
			}))
			require.NoError(t, l.TryLock()) // breaks the dead holder's lock, and sweeps
			require.NoError(t, l.Unlock())
			for _, debris := range []string{claim, aside} {
				_, err := m.Lstat(debris)
				require.Equal(t, tc.kept, err == nil, "%s, %v old: kept %v (%v)", debris, tc.age, err == nil, err)
			}
		})
	}
}

// memWrite makes the file name in m, holding data.
func memWrite(t *testing.T, m fsys.FS, name string, data []byte) {
	t.Helper()
	f, err := m.CreateExcl(name, 0o644)
	require.NoError(t, err)
	if len(data) > 0 {
		_, err = f.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
}
