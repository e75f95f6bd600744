//go:build linux

package stress

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/lockstress/lockstress/stress/detect"
)

// monotime returns the host's CLOCK_MONOTONIC in nanoseconds: one clock
// that every process of the host reads alike.
func monotime() int64 {
	if vdsoClock {
		return nanotime()
	}
	return clockGettime()
}

func clockGettime() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic("clock_gettime(CLOCK_MONOTONIC): " + err.Error()) // cannot fail on Linux
	}
	return ts.Nano()
}

// nanotime is the Go runtime's clock. On Linux it is CLOCK_MONOTONIC read
// through the vDSO, which costs tens of nanoseconds where the system call
// of unix.ClockGettime can cost microseconds (under some hypervisors).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// vdsoClock reports whether nanotime is CLOCK_MONOTONIC: a system call's
// reading must fall between two readings of nanotime. Otherwise monotime
// uses the system call.
var vdsoClock = func() bool {
	for range 5 {
		a := nanotime()
		b := clockGettime()
		c := nanotime()
		if a <= b && b <= c {
			return true
		}
	}
	return false
}()

// mapFile maps size bytes of the file at path, shared between processes.
// With create the file is created (it must not exist) and sized.
func mapFile(path string, size int, create bool) ([]byte, error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if create {
		if err := f.Truncate(int64(size)); err != nil {
			return nil, err
		}
	} else if info, err := f.Stat(); err != nil {
		return nil, err
	} else if info.Size() < int64(size) {
		return nil, &os.PathError{Op: "map", Path: path, Err: fmt.Errorf("file has %d bytes, want %d", info.Size(), size)}
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: path, Err: err}
	}
	return mem, nil
}

func unmapFile(mem []byte) error { return unix.Munmap(mem) }

// sleepPrecise sleeps for d. time.Sleep of a process with one P wakes on
// the network poller's millisecond ticks, far too coarse for holds of
// microseconds, so the end of every sleep is a nanosleep(2), made as a raw
// system call, which the scheduler does not see: a sleep it sees as a
// system call makes its monitor hand the P to another thread and back
// around every sleep, tripling the worker's processor time and context
// switches at a 1 ms hold, all of it counted against the lock. A raw
// sleep keeps the P busy, though, and the monitor then preempts it every
// 10 ms or so (the call returns EINTR, and the worker yields so that its
// timers, the heartbeat, and the collector run); so a long sleep is mostly
// a time.Sleep, which leaves the process idle, and only its last
// milliseconds are raw.
func sleepPrecise(d time.Duration) {
	end := monotime() + int64(d)
	if d > coarseSleepMin {
		time.Sleep(d - coarseSleepMin/2)
	}
	left := end - monotime()
	if left <= 0 {
		return
	}
	ts := unix.NsecToTimespec(left)
	for {
		var rem unix.Timespec
		_, _, errno := unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), uintptr(unsafe.Pointer(&rem)), 0)
		if errno != unix.EINTR {
			return
		}
		runtime.Gosched()
		ts = rem
	}
}

// coarseSleepMin is the length above which sleepPrecise sleeps with
// time.Sleep first: well above the millisecond by which it may overshoot.
const coarseSleepMin = 10 * time.Millisecond

// processState returns the state letter of /proc/PID/stat ('R', 'S', 'T',
// ...).
func processState(pid int) (byte, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: the state is the
	// first field after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return b[i+2], nil
}

// processGone reports whether the process has died or is dying: it no
// longer exists, is a zombie, or is exiting (PF_EXITING, set before the
// kernel closes its files and so drops its locks).
func processGone(pid int) bool {
	if pid <= 0 {
		return false
	}
	return statGone(os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"))
}

// statGone is processGone's verdict on a read of /proc/PID/stat.
func statGone(b []byte, err error) bool {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		// ESRCH: the process was reaped between the open and the read.
		return true
	}
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false
	}
	// Fields after the command: state ppid pgrp session tty_nr tpgid flags.
	f := bytes.Fields(b[i+1:])
	if len(f) < 7 {
		return false
	}
	if f[0][0] == 'Z' || f[0][0] == 'X' || f[0][0] == 'x' {
		return true
	}
	flags, err := strconv.ParseUint(string(f[6]), 10, 64)
	const pfExiting = 0x4
	return err == nil && flags&pfExiting != 0
}

// workerAttr makes a worker its own process group, so that a terminal's
// ^C reaches the parent alone, and kills it if the parent dies.
func workerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills what is left of the process group of the worker pid, who
// has exited: processes its adapter started and left behind. While any is
// left, the group keeps the number pid from being given to a new process,
// so the signal reaches those alone; with none left, the number is free
// only since the worker was reaped, microseconds before, which a new
// group leader would have to take in between.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// adapterAttr kills an adapter process when its worker dies, so that a
// killed worker's lock is not held on by its adapter.
func adapterAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

var (
	sigStop = syscall.SIGSTOP
	sigCont = syscall.SIGCONT
	sigQuit = syscall.SIGQUIT
)

// ledgerFile is the ledger read and written with pread and pwrite.
type ledgerFile int

// ledgerMap is the ledger mapped into memory (MAP_SHARED).
type ledgerMap []byte

// openLedger opens the ledger: mapped into memory when mapped is true (on
// local filesystems, whose page cache all processes share, this reads and
// writes the same bytes as pread and pwrite without a system call), else
// as a file.
func openLedger(path string, mapped bool) (ledgerIO, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	for errors.Is(err, unix.EINTR) { // a signal, on a filesystem that lets one cut an open short (FUSE)
		fd, err = unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if !mapped {
		return ledgerFile(fd), nil
	}
	mem, err := unix.Mmap(fd, 0, detect.RecordSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	unix.Close(fd)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: path, Err: err}
	}
	return ledgerMap(mem), nil
}

func (f ledgerFile) readAt(b []byte) (int, error) {
	for {
		n, err := unix.Pread(int(f), b, 0)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

func (f ledgerFile) writeAt(b []byte) error {
	for {
		n, err := unix.Pwrite(int(f), b, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err == nil && n != len(b) {
			err = fmt.Errorf("short write: %d of %d bytes", n, len(b))
		}
		return err
	}
}

func (f ledgerFile) close() error { return unix.Close(int(f)) }

func (m ledgerMap) readAt(b []byte) (int, error) { return copy(b, m), nil }

func (m ledgerMap) writeAt(b []byte) error {
	if len(b) > len(m) {
		return fmt.Errorf("record of %d bytes does not fit the ledger's %d", len(b), len(m))
	}
	copyToMap(m, b)
	return nil
}

// copyToMap copies a record into the mapped ledger: a plain copy, made of
// several stores, so that a writer stopped in it leaves a record half
// written. A variable for tests, which make that moment long.
var copyToMap = func(m, b []byte) { copy(m, b) }

func (m ledgerMap) close() error { return unix.Munmap(m) }

// statfsMagic returns the f_type of the filesystem holding path.
func statfsMagic(path string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	return int64(st.Type), nil
}

const platformSupported = true

// processCPU returns the CPU time, user and system, that process pid and
// the children it has waited for have used; each of the four times is
// rounded down to a tick (10 ms), so the sum may be short by up to four.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return statCPU(b)
}

// userHZ is the unit of the times in /proc/PID/stat: USER_HZ, 100 on
// every common port of Linux whatever the kernel's own tick.
const userHZ = 100

// statCPU sums utime, stime, cutime and cstime (fields 14 to 17) of a
// /proc/PID/stat line.
func statCPU(b []byte) (time.Duration, error) {
	// The command name may hold spaces and parentheses: the fields are
	// counted from the last ')', after which the state is field 3.
	i := bytes.LastIndexByte(b, ')')
	var f [][]byte
	if i >= 0 {
		f = bytes.Fields(b[i+1:])
	}
	if len(f) < 15 {
		return 0, fmt.Errorf("/proc stat line %q: too few fields", b)
	}
	var ticks int64
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("/proc stat line %q: bad CPU time %q", b, s)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// cpuTime returns the CPU time, user and system, that this process has used.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
