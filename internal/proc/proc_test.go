package proc

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

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

	// A process of another boot, another PID namespace (a container that
	// shares the boot id and host name) or another host name is not one
	// whose PID Check may judge here.
	for name, change := range map[string]func(*Identity){
		"boot":          func(o *Identity) { o.BootID = "another-boot" },
		"PID namespace": func(o *Identity) { o.PIDNS = "pid:[1]" },
		"host name":     func(o *Identity) { o.Host = "elsewhere" },
	} {
		other := id
		change(&other)
		require.False(t, SameHost(other), "another %s", name)
	}
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

func TestEarlierBoot(t *testing.T) {
	const (
		machine = "3d1219c7c4c5404aaa1f6d2a48adfda4"
		other   = "0123456789abcdef0123456789abcdef"
	)
	booted := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	me := Identity{PID: 1, Host: "h", BootID: "boot-now", MachineID: machine, PIDNS: "ns"}
	for _, tc := range []struct {
		name   string
		edit   func(id *Identity)
		noMine bool // our own machine id unknown
		noBoot bool // our own boot id unknown
		// our own boot time unknown
		noBootTime bool
		// when the identity was recorded: an hour before the boot unless
		// set, or unknown with recordedZero
		recorded     time.Time
		recordedZero bool
		earlier      bool
	}{
		{name: "this machine, another boot", edit: func(id *Identity) { id.BootID = "boot-then" }, earlier: true},
		{name: "another PID namespace too", edit: func(id *Identity) { id.BootID, id.PIDNS = "boot-then", "other" }, earlier: true},
		{name: "this boot", edit: func(*Identity) {}},
		{name: "another machine", edit: func(id *Identity) { id.BootID, id.MachineID = "boot-then", other }},
		{name: "no machine recorded", edit: func(id *Identity) { id.BootID, id.MachineID = "boot-then", "" }},
		{name: "our machine unknown", edit: func(id *Identity) { id.BootID = "boot-then" }, noMine: true},
		{name: "no boot recorded", edit: func(id *Identity) { id.BootID = "" }},
		{name: "our boot unknown", edit: func(id *Identity) { id.BootID = "boot-then" }, noBoot: true},
		{name: "another host name", edit: func(id *Identity) { id.BootID, id.Host = "boot-then", "h2" }},
		{name: "recorded since this boot (a clone)", edit: func(id *Identity) { id.BootID = "boot-then" }, recorded: booted.Add(time.Hour)},
		{name: "recorded just before this boot", edit: func(id *Identity) { id.BootID = "boot-then" }, recorded: booted.Add(-bootSlack / 2)},
		{name: "recorded at no known time", edit: func(id *Identity) { id.BootID = "boot-then" }, recordedZero: true},
		{name: "our boot time unknown", edit: func(id *Identity) { id.BootID = "boot-then" }, noBootTime: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, mine := me, me
			id.PID = 7
			tc.edit(&id)
			recorded, bootedAt := booted.Add(-time.Hour), booted
			if !tc.recorded.IsZero() {
				recorded = tc.recorded
			}
			if tc.recordedZero {
				recorded = time.Time{}
			}
			if tc.noBootTime {
				bootedAt = time.Time{}
			}
			if tc.noMine {
				mine.MachineID = ""
			}
			if tc.noBoot {
				mine.BootID = ""
			}
			require.Equal(t, tc.earlier, EarlierBoot(id, recorded, mine, bootedAt))
		})
	}
}

func TestSelfMachineID(t *testing.T) {
	m := Self().MachineID
	require.True(t, m == "" || ValidMachineID(m), "machine id %q", m)
	if runtime.GOOS != "linux" {
		require.Empty(t, m, "no machine id is read on %s yet", runtime.GOOS)
	}
}

func TestHostName(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"build-7.example.org", "build-7.example.org"},
		{"ünïcode", "ünïcode"},
		{"", "unknown"},
		{"bad\tname", "unknown"},
		{"bad\nname", "unknown"},
		{"del\x7f", "unknown"},
		{"\xff\xfe", "unknown"},
	} {
		require.Equal(t, tc.want, HostName(tc.host), "%q", tc.host)
	}
}
