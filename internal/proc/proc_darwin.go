package proc

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// On macOS the kernel keeps a random UUID per boot (kern.bootsessionuuid),
// and a process's start time to the microsecond (kern.proc.pid): together
// with the PID they tell a process from a later one that reuses its PID, as
// on Linux. macOS has no PID namespaces.

func bootID() string {
	s, err := unix.Sysctl("kern.bootsessionuuid")
	if err != nil {
		return ""
	}
	return s
}

func pidNamespace() string { return "" }

// machineID is empty on macOS for now: the machine's identity
// (IOPlatformUUID) is not read, so a record of an earlier boot waits for
// the age rule.
func machineID() string { return "" }

// bootTime is unknown here: the rule it serves (EarlierBoot) needs a
// machine id too.
func bootTime() time.Time { return time.Time{} }

// sZOMB is the state of a zombie process (p_stat, sys/proc.h).
const sZOMB = 5

// kinfo returns a process's state and start time (microseconds since the
// epoch). For no such process the kernel returns nothing, which x/sys
// reports as EIO.
func kinfo(pid int) (int8, time.Time, error) {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return 0, time.Time{}, err
	}
	if int(k.Proc.P_pid) != pid {
		return 0, time.Time{}, unix.ESRCH
	}
	tv := k.Proc.P_starttime
	return k.Proc.P_stat, time.Unix(int64(tv.Sec), int64(tv.Usec)*1000), nil
}

func startTime(pid int) (uint64, error) {
	_, t, err := kinfo(pid)
	if err != nil {
		return 0, err
	}
	return uint64(t.UnixMicro()), nil
}

func check(id Identity) State {
	state, t, err := kinfo(id.PID)
	if err == nil {
		if state == sZOMB || id.Start != 0 && uint64(t.UnixMicro()) != id.Start {
			return Dead
		}
		return Alive
	}
	switch err := unix.Kill(id.PID, 0); {
	case errors.Is(err, unix.ESRCH):
		return Dead
	case err == nil, errors.Is(err, unix.EPERM):
		return Alive
	}
	return Unknown
}

// monotonic is unknown here for now.
func monotonic() (time.Duration, bool) { return 0, false }
