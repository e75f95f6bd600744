//go:build linux

package stress

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A run marks each directory it makes and removes afterwards (its run
// directory and its scratch directory) with an owner file that names its
// process. A run killed by SIGKILL cannot remove them; the next run
// removes those whose owner has provably died (sweep). It trusts nothing
// in shared directories such as /tmp and /dev/shm: it touches only
// directories of the current user, follows no symbolic link, and leaves
// anything it cannot prove dead, such as the directories of another boot,
// host or PID namespace, whose process it cannot look at.

// ownerFile is the name of the owner file in a directory a run made.
const ownerFile = ".lockstress-owner"

// ownerMagic is the first line of an owner file.
const ownerMagic = "lockstress-owner v1"

// owner identifies a process across PID reuse and reboots.
type owner struct {
	pid   int
	start uint64 // its start time in clock ticks after boot (/proc/PID/stat)
	boot  string // the boot id of the kernel
	pidNS string // its PID namespace
}

func (o owner) encode() []byte {
	return fmt.Appendf(nil, "%s\npid %d\nstart %d\nboot %s\npidns %s\n", ownerMagic, o.pid, o.start, o.boot, o.pidNS)
}

// parseOwner parses an owner file; it rejects anything but what encode
// writes.
func parseOwner(b []byte) (owner, error) {
	var o owner
	lines := strings.Split(string(b), "\n")
	if len(lines) != 6 || lines[0] != ownerMagic || lines[5] != "" {
		return o, errBadOwner
	}
	var err1, err2 error
	o.pid, err1 = strconv.Atoi(strings.TrimPrefix(lines[1], "pid "))
	o.start, err2 = strconv.ParseUint(strings.TrimPrefix(lines[2], "start "), 10, 64)
	o.boot, _ = strings.CutPrefix(lines[3], "boot ")
	o.pidNS, _ = strings.CutPrefix(lines[4], "pidns ")
	if err1 != nil || err2 != nil || o.pid <= 0 || !strings.HasPrefix(lines[1], "pid ") || !strings.HasPrefix(lines[2], "start ") ||
		!strings.HasPrefix(lines[3], "boot ") || !strings.HasPrefix(lines[4], "pidns ") || o.boot == "" || o.pidNS == "" {
		return owner{}, errBadOwner
	}
	return o, nil
}

var errBadOwner = errors.New("not an owner file")

// self returns the owner record of this process.
func self() (owner, error) {
	start, err := processStart(os.Getpid())
	if err != nil {
		return owner{}, err
	}
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return owner{}, err
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return owner{}, err
	}
	return owner{pid: os.Getpid(), start: start, boot: string(bytes.TrimSpace(boot)), pidNS: ns}, nil
}

// processStart returns the start time of a process, in clock ticks after
// boot (field 22 of /proc/PID/stat).
func processStart(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return strconv.ParseUint(string(f[19]), 10, 64)
}

// markOwned writes the owner file of this process into dir, which the run
// has just made. An owner file it could not write whole (a full disk) is
// removed, so that dir can be removed too: left, it would be no owner
// file that a sweep could judge, and dir would stay for good.
func markOwned(dir string) error {
	me, err := self()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, ownerFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(me.encode())
	if err = errors.Join(err, f.Close()); err != nil {
		return errors.Join(err, os.Remove(path))
	}
	return nil
}

// dead reports whether o's process has provably died: same boot and PID
// namespace as this process, and its PID is gone, a zombie, or another
// process's.
func (o owner) dead(me owner) bool {
	if o.boot != me.boot || o.pidNS != me.pidNS {
		return false
	}
	start, err := processStart(o.pid)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	return start != o.start || processGone(o.pid)
}
