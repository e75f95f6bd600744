package proc

import (
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSelf(t *testing.T) {
	me := Self()
	require.Equal(t, os.Getpid(), me.PID)
	host, _ := os.Hostname()
	require.Equal(t, host, me.Host)
	if checksLiveness() {
		require.NotEmpty(t, me.BootID)
		if runtime.GOOS == "linux" {
			require.NotEmpty(t, me.PIDNS)
		}
		require.NotZero(t, me.Start)
		require.True(t, SameHost(me))
		require.Equal(t, Alive, Check(me))
	}
}

func TestCheck(t *testing.T) {
	if !checksLiveness() {
		t.Skip("liveness is decided on Linux, macOS and Windows; elsewhere it is always Unknown")
	}
	cmd := child()
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	start, err := startTime(pid)
	require.NoError(t, err)
	id := Self()
	id.PID, id.Start = pid, start
	require.NoError(t, cmd.Wait()) // reaped: the PID is gone
	require.Equal(t, Dead, Check(id))

	reused := Self()
	reused.Start++ // the same PID with another start time: a later process
	require.Equal(t, Dead, Check(reused))

	other := Self()
	other.BootID = "another-boot"
	require.False(t, SameHost(other))
	require.Equal(t, Unknown, Check(Identity{PID: 0}))
}

// checksLiveness reports whether this system decides liveness.
func checksLiveness() bool {
	switch runtime.GOOS {
	case "linux", "darwin", "windows":
		return true
	}
	return false
}

// child returns a command that runs this test binary with no tests: a
// process that exits at once.
func child() *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	return cmd
}
