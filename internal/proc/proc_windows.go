package proc

import (
	"errors"
	"strconv"
	"time"

	"golang.org/x/sys/windows"
)

// On Windows a process is named by its PID and its creation time (in 100 ns
// units since 1601), which together tell it from a later process that
// reuses the PID. Windows keeps no boot id: the boot is named by the time
// it happened, to the minute, read as now less the time since boot. Two
// processes that round it differently see two hosts, which is safe: a
// holder that is not on "this host" is judged by age alone.

var getTickCount64 = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetTickCount64")

func bootID() string {
	ms, _, _ := getTickCount64.Call()
	if ms == 0 {
		return ""
	}
	boot := time.Now().Add(-time.Duration(ms) * time.Millisecond).Round(time.Minute)
	return "boot@" + strconv.FormatInt(boot.Unix(), 10)
}

func pidNamespace() string { return "" }

// machineID is empty on Windows for now. A machine id (MachineGuid) would
// not be enough there: the boot id above is rounded, so two processes of
// one boot may record different ones, and "another boot id" would not
// prove an earlier boot.
func machineID() string { return "" }

// bootTime is unknown here: the rule it serves (EarlierBoot) needs a
// machine id too.
func bootTime() time.Time { return time.Time{} }

// stillActive is the exit code GetExitCodeProcess reports for a process
// that has not exited (STILL_ACTIVE).
const stillActive = 259

// created returns the creation time of an open process.
func created(h windows.Handle) (windows.Filetime, error) {
	var creation, exit, kernel, user windows.Filetime
	err := windows.GetProcessTimes(h, &creation, &exit, &kernel, &user)
	return creation, err
}

// open opens process pid for queries.
func open(pid int) (windows.Handle, error) {
	return windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
}

func startTime(pid int) (uint64, error) {
	h, err := open(pid)
	if err != nil {
		return 0, err
	}
	defer windows.CloseHandle(h)
	c, err := created(h)
	return uint64(c.HighDateTime)<<32 | uint64(c.LowDateTime), err
}

func check(id Identity) State {
	h, err := open(id.PID)
	switch {
	case errors.Is(err, windows.ERROR_INVALID_PARAMETER):
		return Dead // no process has that PID
	case errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return Alive
	case err != nil:
		return Unknown
	}
	defer windows.CloseHandle(h)
	var code uint32
	if windows.GetExitCodeProcess(h, &code) == nil && code != stillActive {
		return Dead // exited; only a handle keeps it known
	}
	c, err := created(h)
	if err == nil && id.Start != 0 && uint64(c.HighDateTime)<<32|uint64(c.LowDateTime) != id.Start {
		return Dead
	}
	return Alive
}

// monotonic is unknown here for now.
func monotonic() (time.Duration, bool) { return 0, false }
