//go:build linux

package proc

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// bootTime returns when this host booted (the btime line of /proc/stat,
// which follows the wall clock if it is set), or the zero time.
func bootTime() time.Time {
	b, err := os.ReadFile("/proc/stat")
	o := ownOffsets()
	if err != nil || !o.known {
		return time.Time{}
	}
	// In a time namespace, btime is the wall clock less the namespace's
	// boot-time clock: its offset is taken back, so that every process
	// of the host reads the same boot.
	if t := parseBootTime(b); !t.IsZero() {
		return t.Add(o.boot)
	}
	return time.Time{}
}

// parseBootTime returns the boot time that the contents b of /proc/stat
// give, or the zero time.
func parseBootTime(b []byte) time.Time {
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			secs, err := strconv.ParseInt(string(bytes.TrimSpace(rest)), 10, 64)
			if err != nil || secs <= 0 {
				return time.Time{}
			}
			return time.Unix(secs, 0)
		}
	}
	return time.Time{}
}

// machineFiles are where the machine id is kept, in the order they are
// read: systemd's, then D-Bus's older place.
var machineFiles = []string{"/etc/machine-id", "/var/lib/dbus/machine-id"}

// machineID returns the machine id (machine-id(5)): the first of
// machineFiles that can be read, if it holds 32 lowercase hex digits (and
// a final newline); "" otherwise, for example "uninitialized" during a
// first boot.
func machineID() string {
	for _, name := range machineFiles {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		return parseMachineID(b)
	}
	return ""
}

// parseMachineID returns the machine id that the contents b of a
// machine-id file hold, or "" if they hold none.
func parseMachineID(b []byte) string {
	s := strings.TrimSuffix(string(b), "\n")
	if !ValidMachineID(s) {
		return ""
	}
	return s
}

func pidNamespace() string {
	s, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return s
}

// stat returns a process's state letter and start time (field 22 of
// /proc/PID/stat, clock ticks since boot). It allocates only the file's
// name and its copy for the system call: a fair waiter checks the waiter
// ahead at every turn.
func stat(pid int) (byte, uint64, error) {
	if !procShowsSelf() {
		return 0, 0, errForeignProc
	}
	bp := statBufs.Get().(*[]byte)
	defer statBufs.Put(bp)
	b, err := readProcFile("/proc/"+strconv.Itoa(pid)+"/stat", (*bp)[:0])
	if err != nil {
		return 0, 0, err
	}
	*bp = b[:0] // it may have grown
	state, start, err := parseStat(b)
	if err != nil {
		return 0, 0, err
	}
	offset, ok := bootOffset()
	if !ok {
		return state, 0, errOffsetUnknown
	}
	return state, uint64(int64(start) - offset), nil
}

// errOffsetUnknown is stat's error, with the state, where this process's
// time namespace's offset is unknown: a start time read then could be
// shifted from another process's reading of it, which would make a live
// process look like one that reused its PID.
var errOffsetUnknown = errors.New("this process's time namespace offsets are unknown")

// errForeignProc is stat's error where the /proc mounted here is not of
// this process's PID namespace: what it shows of a PID is another
// process's.
var errForeignProc = errors.New("/proc is not of this process's PID namespace")

// procShowsSelf reports whether the /proc mounted here is of this process's
// PID namespace: /proc/self names this process's PID. It is not in a
// container that kept the host's /proc (unshare --pid without
// --mount-proc), nor after nsenter --mount into a container's, nor
// without /proc.
var procShowsSelf = sync.OnceValue(func() bool {
	self, err := os.Readlink("/proc/self")
	if err != nil || self != strconv.Itoa(os.Getpid()) {
		return false
	}
	status, err := os.ReadFile("/proc/self/status")
	return err == nil && oneNamespaceDeep(status)
})

// oneNamespaceDeep reports whether the status file of a process, read
// through a /proc, shows it in that /proc's own PID namespace: its NSpid
// line lists its PID in each namespace from the /proc's down to its own,
// one number when they are the same. Its PID in an ancestor's /proc may be
// the number it has in its own namespace (chance, or a restore that chose
// it), which the look at /proc/self alone would take for a match. A kernel
// older than 4.1 writes no such line, and is taken at its /proc/self.
func oneNamespaceDeep(status []byte) bool {
	_, rest, ok := bytes.Cut(append([]byte("\n"), status...), []byte("\nNSpid:"))
	if !ok {
		return true
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	return len(bytes.Fields(line)) == 1
}

// userHZ is the unit of the times in /proc/PID/stat: clock ticks of a
// hundredth of a second on every port Go supports.
const userHZ = 100

// bootOffset is the offset of CLOCK_BOOTTIME in this process's time
// namespace, in clock ticks (0 outside any). The start times /proc shows a
// process are shifted by the reader's offset, so a process of another
// time namespace would record another start time for the same process;
// stat takes it off, so that every start time is the first namespace's.
// ok is false where the offset is unknown.
func bootOffset() (ticks int64, ok bool) {
	o := clockOffsets()
	return toTicks(o.boot), o.known && o.wholeTicks
}

// toTicks returns d in clock ticks, the unit of /proc/PID/stat's times.
func toTicks(d time.Duration) int64 { return int64(d / (time.Second / userHZ)) }

// offsets are the offsets of this process's time namespace. wholeTicks
// says whether the boot-time offset is a whole number of clock ticks, which
// start times need and nothing else does (see parseOffsets).
type offsets struct {
	mono, boot time.Duration
	known      bool
	wholeTicks bool
}

// clockOffsets returns the offsets of CLOCK_MONOTONIC and CLOCK_BOOTTIME in
// this process's time namespace (0 outside any), read once. They are
// unknown where /proc does not show this process (procShowsSelf), and in
// a process that made a time namespace for its children and has not
// entered it: /proc/self/timens_offsets then shows the children's offsets,
// not its own. (/proc/self is the main thread's view, and every thread of
// a process stays in one time namespace; only a thread that unshared one
// for its children sees another in time_for_children.)
func clockOffsets() offsets {
	if !procShowsSelf() {
		return offsets{}
	}
	return ownOffsets()
}

// ownOffsets returns this process's offsets as /proc/self shows them, read
// once. The boot time takes them as they are, also through a /proc of an
// ancestor PID namespace (where procShowsSelf is false): /proc/self there
// is still this process, and the boot is the host's.
var ownOffsets = sync.OnceValue(func() offsets {
	own, err1 := os.Readlink("/proc/self/ns/time")
	children, err2 := os.Readlink("/proc/self/ns/time_for_children")
	b, err := os.ReadFile("/proc/self/timens_offsets")
	switch {
	case errors.Is(err1, fs.ErrNotExist) && errors.Is(err, fs.ErrNotExist):
		return offsets{known: true, wholeTicks: true} // a kernel without time namespaces
	case err1 != nil || err2 != nil || err != nil || own != children:
		return offsets{}
	}
	return parseOffsets(b)
})

// parseOffsets returns the offsets that the contents b of a
// /proc/PID/timens_offsets file give. A boot-time offset that is not a
// whole number of clock ticks (a restore from a checkpoint sets such
// offsets) serves no start time: /proc/PID/stat shows a start time with
// the offset added before it is cut to ticks, so that no reader can take
// the offset back off exactly, and a live process's start time, read from
// outside its namespace and from inside, would differ by a tick, which is
// what a process that reused the PID shows.
func parseOffsets(b []byte) offsets {
	mono, ok1 := parseOffset(b, "monotonic", unix.CLOCK_MONOTONIC)
	boot, ok2 := parseOffset(b, "boottime", unix.CLOCK_BOOTTIME)
	return offsets{mono: mono, boot: boot, known: ok1 && ok2, wholeTicks: boot%(time.Second/userHZ) == 0}
}

// parseOffset returns the offset of the clock named name (or numbered
// number) in the contents of a /proc/PID/timens_offsets file: lines of a
// clock's name (or number), seconds and nanoseconds; ok is false if there
// is no such line, or it is malformed.
func parseOffset(b []byte, name string, number int) (d time.Duration, ok bool) {
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != name && f[0] != strconv.Itoa(number) {
			continue
		}
		sec, err1 := strconv.ParseInt(f[1], 10, 64)
		nsec, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return time.Duration(sec)*time.Second + time.Duration(nsec), true
	}
	return 0, false
}

// monotonic reads CLOCK_MONOTONIC, less this time namespace's offset.
func monotonic() (time.Duration, bool) {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0, false
	}
	o := clockOffsets()
	return time.Duration(ts.Nano()) - o.mono, o.known
}

// pfExiting is PF_EXITING in the flags of /proc/PID/stat (field 9): the
// thread (there, the process's first) has begun to exit. The kernel sets
// it first, before it closes the process's files (which drops its file
// locks and raises the close events that wake waiters), and the thread
// never runs its own code again; but it is not a zombie until its exit is
// done.
const pfExiting = 0x4

// parseStat returns the state letter and the start time of the contents of
// a /proc/PID/stat file. A process that has begun to exit (pfExiting) has
// the state 'X', dead, unless it is a zombie already.
func parseStat(b []byte) (byte, uint64, error) {
	// The command name (field 2) may hold spaces and parentheses: the
	// fields after it start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed stat")
	}
	// Field 3 (the state) is the first after it, field 22 the 20th.
	var state, flags, start []byte
	rest := b[i+1:]
	for n := 3; n <= 22; n++ {
		rest = bytes.TrimLeft(rest, " \n")
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		field := rest[:end]
		rest = rest[end:]
		if len(field) == 0 {
			return 0, 0, errors.New("malformed stat")
		}
		switch n {
		case 3:
			state = field
		case 9:
			flags = field
		case 22:
			start = field
		}
	}
	startTicks, ok1 := parseDecimal(start)
	flagBits, ok2 := parseDecimal(flags)
	if len(state) != 1 || !ok1 || !ok2 {
		return 0, 0, errors.New("malformed stat")
	}
	if flagBits&pfExiting != 0 && state[0] != 'Z' {
		return 'X', startTicks, nil
	}
	return state[0], startTicks, nil
}

// parseDecimal parses an unsigned decimal number of at most 19 digits.
func parseDecimal(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// statBufs holds the buffers of stat.
var statBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func startTime(pid int) (uint64, error) {
	_, start, err := stat(pid)
	return start, err
}

// statOf and signal are the looks check takes, variables so that a test
// can play a /proc that hides other users' processes (hidepid) or refuses
// to show them.
var (
	statOf = stat
	signal = unix.Kill
)

func check(id Identity) State {
	state, start, err := statOf(id.PID)
	known := err == nil || errors.Is(err, errOffsetUnknown) // the state, at least
	switch {
	case known && (state == 'Z' || state == 'X') && groupGone(id.PID):
		return Dead // a zombie holds nothing
	case err == nil:
		if id.Start != 0 && start != id.Start {
			return Dead
		}
		return Alive
	case errors.Is(err, errOffsetUnknown):
		// The start time is not known: any live process may be the
		// holder.
		return Unknown
	case errors.Is(err, unix.ESRCH):
		// Its stat file was opened, and the process it named has been
		// reaped since: whichever process that was, the holder (of that
		// PID then or before) is gone.
		return Dead
	case errors.Is(err, fs.ErrNotExist):
		// /proc may hide other users' processes (hidepid): ask the kernel.
		if errors.Is(signal(id.PID, 0), unix.ESRCH) {
			return Dead
		}
		return Unknown
	case errors.Is(err, fs.ErrPermission):
		return Alive
	}
	return Unknown
}

// groupGone reports whether every thread of process pid has exited or will
// run no more code: it is exiting, or has SIGKILL pending, as every thread
// has once any thread ends the process. The state /proc/PID/stat shows is
// the first thread's, which may have exited alone (pthread_exit) while the
// others run on, holding the process's files and locks: a C program that
// embeds Go does this. Unsure, it says no.
func groupGone(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/"
	return threadsGone(func() ([]string, error) { return listDir(dir) }, func(tid string) bool { return threadGone(dir + tid) })
}

// threadsGone reports whether every thread that list names is gone, and
// no other has appeared meanwhile. A thread that was listed and is gone
// when looked at may have started another first, which the listing did
// not show; only a live thread starts one, so a second listing that shows
// no thread the first did not proves that none ran on.
func threadsGone(list func() ([]string, error), gone func(tid string) bool) bool {
	tids, err := list()
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	for _, tid := range tids {
		if !gone(tid) {
			return false
		}
	}
	again, err := list()
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	for _, tid := range again {
		if !slices.Contains(tids, tid) {
			return false
		}
	}
	return true
}

// listDir returns the names in the directory dir.
func listDir(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// threadGone reports whether the thread of /proc/PID/task/TID is gone or
// exitingThread.
func threadGone(dir string) bool {
	stat, err := readProcFile(dir+"/stat", nil)
	var status []byte
	if err == nil {
		status, err = readProcFile(dir+"/status", nil)
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return true // released since the listing, or since the open
	}
	return err == nil && exitingThread(stat, status)
}

// exitingThread reports, from a thread's stat and status files, whether it
// has exited, is exiting, or has SIGKILL pending, for it or for its
// process (SigPnd, ShdPnd: masks in hexadecimal whose bit N-1 is signal N).
func exitingThread(stat, status []byte) bool {
	state, _, err := parseStat(stat)
	if err != nil {
		return false
	}
	if state == 'Z' || state == 'X' {
		return true
	}
	for _, field := range []string{"\nSigPnd:", "\nShdPnd:"} {
		_, rest, ok := bytes.Cut(status, []byte(field))
		line, _, _ := bytes.Cut(rest, []byte("\n"))
		mask, err := strconv.ParseUint(string(bytes.TrimSpace(line)), 16, 64)
		if ok && err == nil && mask&(1<<(unix.SIGKILL-1)) != 0 {
			return true
		}
	}
	return false
}

// procFileOpened, if set, is called by readProcFile between its open and
// its read: a test's way to reap a process in between.
var procFileOpened func(name string)

// readProcFile reads a small file of /proc with plain system calls,
// appending it to b: the waiters of a fair queue check a process on every
// turn, and os.ReadFile would also register the descriptor with the
// runtime's poller and set its flags, four system calls more each time.
func readProcFile(name string, b []byte) ([]byte, error) {
	var fd int
	var err error
	for {
		if fd, err = unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	if procFileOpened != nil {
		procFileOpened(name)
	}
	if cap(b)-len(b) < 512 {
		b = append(b, make([]byte, 1024)...)[:len(b)]
	}
	for {
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}
