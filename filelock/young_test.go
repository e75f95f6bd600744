package filelock

import (
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
)

// TestYoungByBothClocks: a lock is young only if both this host's
// monotonic clock and its wall clock say it was refreshed less than half
// the stale-after age ago. Each may be wrong alone: the wall clock when it
// is stepped (forward, others judge the lock by a clock that says it is
// old; back, by one that says it was refreshed in the future), the
// monotonic clock when the machine slept, during which the wall clock kept
// time. The times compared carry both readings, moved apart as they are
// after such an event.
func TestYoungByBothClocks(t *testing.T) {
	limit := DefaultStaleAfter / 2
	refreshed := time.Now()
	for _, tc := range []struct {
		name       string
		mono, wall time.Duration // since the refresh, by each clock
		want       bool
	}{
		{"both a second", time.Second, time.Second, true},
		{"both just under the limit", limit - time.Nanosecond, limit - time.Nanosecond, true},
		{"wall clock stepped past the limit", time.Second, limit, false},
		{"wall clock stepped back", time.Second, -time.Second, false},
		{"monotonic clock past the limit, wall clock not (stepped back)", limit, time.Second, false},
		{"both at the limit", limit, limit, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := timeWithReadings(t, refreshed.Add(tc.wall), refreshed.Add(tc.mono))
			h := &fileHeld{l: &Lock{cfg: config{staleAfter: DefaultStaleAfter, clock: fixedNow{clock.Real{}, now}}}, refreshed: refreshed}
			require.Equal(t, tc.want, h.young())
		})
	}
}

// fixedNow is a clock that is always at one time.
type fixedNow struct {
	clock.Real
	now time.Time
}

func (f fixedNow) Now() time.Time { return f.now }

// timeWithReadings returns a time whose wall-clock reading is wall's and
// whose monotonic reading is mono's, both of which must have one: what
// time.Now returns once the two clocks have moved apart (the wall clock
// stepped, the machine asleep). Package time makes no such value, so the
// words that hold the readings are copied; the result is checked, so that
// a change of time.Time's layout fails the test rather than its purpose.
func timeWithReadings(t *testing.T, wall, mono time.Time) time.Time {
	t.Helper()
	word, ok := reflect.TypeFor[time.Time]().FieldByName("wall")
	require.True(t, ok && word.Type.Kind() == reflect.Uint64, "time.Time has no field wall of 64 bits")
	got := mono
	*(*uint64)(unsafe.Add(unsafe.Pointer(&got), word.Offset)) = *(*uint64)(unsafe.Add(unsafe.Pointer(&wall), word.Offset))
	require.True(t, got.Round(0).Equal(wall.Round(0)) && got.Sub(mono) == 0,
		"time.Time's layout is not the one this test knows")
	return got
}
