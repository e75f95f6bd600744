//go:build linux

package stress

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// checkProcessLimit returns an error matching ErrProcessLimit if starting
// procs more processes would exceed the user's process limit (RLIMIT_NPROC,
// "ulimit -u"), counting the tasks the user runs already. The kernel does
// not hold root, nor a process with CAP_SYS_ADMIN or CAP_SYS_RESOURCE, to
// the limit, and neither does the check.
func checkProcessLimit(procs int) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &lim); err != nil || lim.Cur == unix.RLIM_INFINITY || exemptFromNPROC() {
		return nil
	}
	return processLimitError(procs, lim.Cur, userTasks(os.Getuid()))
}

// processLimitError returns the error of checkProcessLimit for a limit
// and the user's running tasks, or nil if procs more fit.
func processLimitError(procs int, limit uint64, running int) error {
	if uint64(procs)+uint64(running) <= limit {
		return nil
	}
	return fmt.Errorf("%d worker processes and the %d tasks this user runs already exceed its limit of %d (ulimit -u): %w",
		procs, running, limit, ErrProcessLimit)
}

// exemptFromNPROC reports whether the kernel exempts this process from
// RLIMIT_NPROC: its real user is root, or it has CAP_SYS_ADMIN or
// CAP_SYS_RESOURCE.
func exemptFromNPROC() bool {
	if os.Getuid() == 0 {
		return true
	}
	eff, err := strconv.ParseUint(procStatus(os.Getpid())["CapEff"], 16, 64)
	return err == nil && eff&(1<<unix.CAP_SYS_ADMIN|1<<unix.CAP_SYS_RESOURCE) != 0
}

// userTasks returns the number of tasks (threads) whose real user is uid:
// what RLIMIT_NPROC counts.
func userTasks(uid int) int {
	statuses, _ := filepath.Glob("/proc/[0-9]*/status")
	n := 0
	for _, s := range statuses {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
		st := procStatus(pid)
		if ids := strings.Fields(st["Uid"]); len(ids) == 0 || ids[0] != strconv.Itoa(uid) {
			continue
		}
		threads, _ := strconv.Atoi(st["Threads"])
		n += max(threads, 1)
	}
	return n
}

// procStatus returns the fields of /proc/PID/status by name; none if the
// process is gone.
func procStatus(pid int) map[string]string {
	fields := map[string]string{}
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for line := range strings.Lines(string(b)) {
		if name, v, ok := strings.Cut(line, ":"); ok {
			fields[name] = strings.TrimSpace(v)
		}
	}
	return fields
}
