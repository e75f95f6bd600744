//go:build linux

package proc

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Time namespaces: their offsets, and what each serves (start times, the
// monotonic clock, the boot time).

// TestParseBootOffset: the boot-time offset of a time namespace, in clock
// ticks, from /proc/PID/timens_offsets, whose clocks are named (or, on
// some kernels, numbered) and whose negative offsets have seconds below
// zero and nanoseconds above.
func TestParseBootOffset(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want int64
		ok   bool
	}{
		{"none", "monotonic           0         0\nboottime            0         0\n", 0, true},
		{"a day and more", "monotonic           0         0\nboottime       100000         0\n", 100000 * userHZ, true},
		{"fraction", "boottime 2 250000000\n", 2*userHZ + 25, true},
		{"negative", "boottime -5 500000000\n", -450, true},
		{"numbered", "1 0 0\n7 3 0\n", 3 * userHZ, true},
		{"monotonic only", "monotonic 7 0\n", 0, false},
		{"empty", "", 0, false},
		{"malformed", "boottime x 0\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := parseOffset([]byte(tc.in), "boottime", unix.CLOCK_BOOTTIME)
			require.Equal(t, tc.want, toTicks(d))
			require.Equal(t, tc.ok, ok)
		})
	}
}

// TestOffsetsOfWholeTicks: a time namespace's offsets serve start times
// only when its boot-time offset is a whole number of clock ticks, forward
// or back: otherwise a live process's start time read inside it and
// outside it differs by a tick, and it would be taken for one that reused
// its PID. The clocks (the monotonic clock, the boot time) are known all
// the same.
func TestOffsetsOfWholeTicks(t *testing.T) {
	for _, tc := range []struct {
		name               string
		in                 string
		clocks, startTimes bool
	}{
		{"none", "monotonic 0 0\nboottime 0 0\n", true, true},
		{"whole seconds", "monotonic 5 0\nboottime 100000 0\n", true, true},
		{"whole ticks", "monotonic 0 3\nboottime 2 250000000\n", true, true},
		{"whole ticks back", "monotonic 0 0\nboottime -5 500000000\n", true, true},
		{"half a tick", "monotonic 0 0\nboottime 0 5000000\n", true, false},
		{"a nanosecond", "monotonic 0 0\nboottime 1 1\n", true, false},
		{"half a tick back", "monotonic 0 0\nboottime -1 995000000\n", true, false},
		{"no boot time", "monotonic 0 0\n", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := parseOffsets([]byte(tc.in))
			require.Equal(t, tc.clocks, o.known, "known for the clocks")
			require.Equal(t, tc.startTimes, o.known && o.wholeTicks, "known for start times")
		})
	}
}

// In a time namespace whose boot-time offset is a tick less a nanosecond,
// the start time /proc shows of a process, cut to ticks after the offset
// is added, is a tick later than the one seen from outside (unless the
// process started within a nanosecond after a tick).
const partTickOffsets = "monotonic 0 0\nboottime 0 9999999\n"

func init() {
	switch {
	case os.Getenv("PROC_TEST_PART_TICK") != "":
		// Make the namespace, start the process that says its start time
		// in it, and wait for it; on the first thread, whose view
		// /proc/self is, and from which the child is forked.
		runtime.LockOSThread()
		err := unix.Unshare(unix.CLONE_NEWTIME)
		if err == nil {
			err = os.WriteFile("/proc/self/timens_offsets", []byte(partTickOffsets), 0)
		}
		if err == nil {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "PROC_TEST_PART_TICK=", "PROC_TEST_SAY_START=1")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
			err = cmd.Run()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case os.Getenv("PROC_TEST_SAY_BOOT") != "":
		fmt.Println(BootTime().Unix())
		os.Exit(0)
	case os.Getenv("PROC_TEST_SAY_START") != "":
		_, monoKnown := Monotonic()
		fmt.Printf("%d %d %v %d\n", Self().PID, Self().Start, monoKnown, BootTime().Unix())
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
}

// TestStartTimeInANamespaceOfPartTicks: a live process in a time namespace
// whose boot-time offset is not a whole number of ticks is alive to a
// process outside it, which reads its start time without the offset: it
// records none (0) rather than one a tick off, which the PID-reuse rule
// would take for another process's. Its clocks, which need no whole ticks,
// it still reads. (Run in a child, as root.)
func TestStartTimeInANamespaceOfPartTicks(t *testing.T) {
	needTimeNamespaces(t)
	cmd := child()
	cmd.Env = append(cmd.Env, "PROC_TEST_PART_TICK=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	var (
		id        Identity
		monoKnown bool
		boot      int64
	)
	_, err = fmt.Fscanf(stdout, "%d %d %t %d\n", &id.PID, &id.Start, &monoKnown, &boot)
	require.NoError(t, err)
	outside, err := startTime(id.PID)
	require.NoError(t, err)
	require.Equal(t, Alive, Check(id), "a live process judged by its own start time, %d (from outside: %d)", id.Start, outside)
	require.True(t, monoKnown, "the monotonic clock, whose offset is exact, unknown")
	require.InDelta(t, BootTime().Unix(), boot, 1, "the boot time, known to the second")
	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait())
}

// TestBootTimeInATimeNamespace: a process in a time namespace whose boot
// time is a day ahead reads the host's boot time as one outside does:
// /proc/stat shows it a day earlier there, and its offset is taken back.
// (As root: unshare -T.)
func TestBootTimeInATimeNamespace(t *testing.T) {
	needTimeNamespaces(t)
	unshare, err := exec.LookPath("unshare")
	require.NoError(t, err, "unshare (util-linux) runs a child in a new time namespace")
	cmd := child()
	cmd.Path = unshare
	cmd.Args = []string{unshare, "-T", "--fork", "--boottime", "86400", os.Args[0], "-test.run=^$"}
	cmd.Env = append(cmd.Env, "PROC_TEST_SAY_BOOT=1")
	out, err := cmd.Output()
	require.NoError(t, err)
	var inside int64
	_, err = fmt.Sscanf(string(out), "%d\n", &inside)
	require.NoError(t, err, "%q", out)
	outside := BootTime().Unix()
	require.NotZero(t, outside)
	require.InDelta(t, outside, inside, 1, "boot time read inside a namespace a day ahead, against outside")
}

// TestMonotonicOffset: the monotonic clock's offset is read from its own
// line, and Monotonic reads the clock less it: outside any time namespace,
// CLOCK_MONOTONIC itself.
func TestMonotonicOffset(t *testing.T) {
	in := []byte("monotonic      -3 250000000\nboottime       100000         0\n")
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{string(in), -3*time.Second + 250*time.Millisecond, true},
		{"1 5 0\n", 5 * time.Second, true}, // numbered
		{"boottime 7 0\n", 0, false},       // no monotonic line
		{"monotonic x 0\n", 0, false},
	} {
		d, ok := parseOffset([]byte(c.in), "monotonic", unix.CLOCK_MONOTONIC)
		require.Equal(t, c.want, d, "%q", c.in)
		require.Equal(t, c.ok, ok, "%q", c.in)
	}

	var ts unix.Timespec
	require.NoError(t, unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts))
	got, ok := Monotonic()
	require.True(t, ok)
	want := time.Duration(ts.Nano()) - clockOffsets().mono
	require.GreaterOrEqual(t, got, want)
	require.Less(t, got, want+time.Minute, "Monotonic is not the monotonic clock less the offset")
}

// unshared is what making a time namespace for the children, a day and
// more ahead, did to a child of TestOffsetsOfAProcessThatUnsharedTime:
// made in init, which runs on the main thread, whose view /proc/self is
// (the namespace for children is a thread's).
var unshared = func() error {
	if os.Getenv("PROC_TEST_UNSHARED") == "" {
		return nil
	}
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
		return err
	}
	return os.WriteFile("/proc/self/timens_offsets", []byte("monotonic 100000 0\nboottime 100000 0\n"), 0)
}()

// TestOffsetsOfAProcessThatUnsharedTime: a process that made a time
// namespace for its children stays in its own, while
// /proc/self/timens_offsets shows the children's offsets; its own are
// then unknown, so it reads neither the monotonic clock nor start times,
// rather than reading them shifted by offsets that are not its own (a
// zombie, whose state needs no start time, is still dead).
// (Run in a child process, as root: the namespace stays the process's.)
func TestOffsetsOfAProcessThatUnsharedTime(t *testing.T) {
	if os.Getenv("PROC_TEST_UNSHARED") != "" {
		require.NoError(t, unshared, "unshare on the main thread")
		_, ok := Monotonic()
		require.False(t, ok, "the monotonic clock read with the children's offset")
		_, err := startTime(os.Getpid())
		require.ErrorIs(t, err, errOffsetUnknown)
		require.Equal(t, Unknown, check(Self()), "a start time read with the children's offset")
		zombie := exec.Command("true")
		require.NoError(t, zombie.Start())
		defer zombie.Wait()
		require.Eventually(t, func() bool { return check(Identity{PID: zombie.Process.Pid}) == Dead }, time.Minute, time.Millisecond,
			"a zombie not taken for dead without the start time")
		return
	}
	needTimeNamespaces(t)
	cmd := child()
	cmd.Args = []string{os.Args[0], "-test.run=^TestOffsetsOfAProcessThatUnsharedTime$", "-test.count=1"}
	cmd.Env = append(cmd.Env, "PROC_TEST_UNSHARED=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "PASS")
}

// needTimeNamespaces skips a test that makes a time namespace where it
// cannot: without root, or on a kernel without them.
func needTimeNamespaces(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a new time namespace needs root (CI runs the suite as root)")
	}
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skipf("no time namespaces here (Linux 5.6 and later): %v", err)
	}
}
