package filelock

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStrategiesByPlatform pins which strategies each platform provides:
// the kernel mechanisms are selected by build constraints alone.
func TestStrategiesByPlatform(t *testing.T) {
	var want []Strategy
	switch runtime.GOOS {
	case "linux", "android":
		want = []Strategy{Soft, OS, OFD, Link}
	case "darwin", "ios", "dragonfly", "freebsd", "illumos", "netbsd", "openbsd", "windows":
		want = []Strategy{Soft, OS, Link}
	default:
		want = []Strategy{Soft, Link}
	}
	require.Equal(t, want, Strategies())
	for _, s := range want {
		if s.fileBased() {
			continue
		}
		locker, ok := lockerFor(s)
		require.True(t, ok, "%v", s)
		require.NotNil(t, locker, "%v", s)
	}
}
