//go:build linux

package proc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestZombieIsDead(t *testing.T) {
	cmd := child()
	require.NoError(t, cmd.Start())
	id := Self()
	id.PID = cmd.Process.Pid
	id.Start, _ = startTime(id.PID)
	defer cmd.Wait()
	// Not yet reaped: once it exits it is a zombie, which counts as dead.
	for Check(id) != Dead {
		time.Sleep(time.Millisecond)
	}
	state, _, err := stat(id.PID)
	require.NoError(t, err)
	require.Equal(t, byte('Z'), state)
}
