package proc

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// ticksPerSecond is USER_HZ, the unit of start times in /proc/PID/stat:
// 100 on every Linux architecture (it is part of the kernel's ABI).
const ticksPerSecond = 100

// StartedAt returns when process pid started, by this host's wall clock,
// to within about a second (the boot time is kept in whole seconds). It
// reports false if that cannot be read.
func StartedAt(pid int) (time.Time, bool) {
	ticks, err := startTime(pid)
	if err != nil {
		return time.Time{}, false
	}
	boot, ok := bootTime()
	if !ok {
		return time.Time{}, false
	}
	return boot.Add(time.Duration(ticks) * (time.Second / ticksPerSecond)), true
}

// bootTime reads the btime line of /proc/stat: when this host booted.
func bootTime() (time.Time, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			secs, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			return time.Unix(secs, 0), err == nil
		}
	}
	return time.Time{}, false
}
