package proc

import (
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Identity names a process precisely enough to tell it from a later process
// that reuses its PID, and to tell whether it runs on this host.
type Identity struct {
	PID int
	// Host is the hostname; informational, and the same-host test where no
	// boot id is known.
	Host string
	// BootID changes at every boot of the host (Linux: the kernel's
	// random boot_id). Empty where unknown.
	BootID string
	// MachineID names the machine across boots (Linux: /etc/machine-id,
	// 32 lowercase hex digits). Empty where unknown, and on every system
	// but Linux for now (see machineID).
	MachineID string
	// PIDNS names the PID namespace the PID belongs to (Linux). Empty where
	// unknown.
	PIDNS string
	// Start is the process start time in an OS-specific unit (Linux: clock
	// ticks since boot, as the first time namespace sees it, whichever
	// namespace reads it). Zero where unknown.
	Start uint64
}

// State is the answer to "is this process alive?".
type State int

const (
	// Unknown means liveness could not be decided; treat it as alive.
	Unknown State = iota
	// Alive means the process exists and is the one named.
	Alive
	// Dead means the process provably no longer exists: no such PID, or the
	// PID now names another process (another start time), or a zombie.
	Dead
)

func (s State) String() string {
	switch s {
	case Alive:
		return "alive"
	case Dead:
		return "dead"
	}
	return "unknown"
}

var (
	selfOnce sync.Once
	self     Identity
)

// Self returns the identity of the calling process. It is computed once.
func Self() Identity {
	selfOnce.Do(func() {
		host, _ := os.Hostname()
		self = Identity{PID: os.Getpid(), Host: HostName(host), BootID: bootID(), MachineID: machineID(), PIDNS: pidNamespace()}
		self.Start, _ = startTime(self.PID)
	})
	return self
}

// HostName returns the name a host of the name host is known by in an
// identity: the name itself, or "unknown" where it is empty (not known)
// or cannot be written in a record (it is not UTF-8, or holds a control
// character), so that a record's host is always the one its writer knows
// itself by. Two hosts both known as "unknown" are still told apart by
// their boot ids.
func HostName(host string) string {
	if host == "" || !Printable(host) {
		return "unknown"
	}
	return host
}

// Printable reports whether s can be written as a value of an identity's
// record: UTF-8 without a control character.
func Printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// SameHost reports whether a process identity was recorded on this host,
// in this PID namespace, since this boot, so that its PID can be checked
// here. With no boot id on either side it is never the same host: a PID
// alone cannot be trusted.
func SameHost(id Identity) bool {
	me := Self()
	return me.BootID != "" && id.BootID == me.BootID && id.PIDNS == me.PIDNS && id.Host == me.Host
}

// EarlierBoot reports whether the process id, recorded at the time
// recorded, was on the machine of me, which booted at booted, in an
// earlier boot, so that it is provably gone: same host name, the same
// machine id (known on both sides), another boot id (known on both sides),
// and recorded more than bootSlack before the boot. The host
// name alone does not prove that: machines cloned from one image, or
// containers, may share a name and a network directory; the machine id
// tells them apart, and where a cloned image kept it, the time still tells
// a record of a clone made since this boot. Without a machine id on either
// side it is never an earlier boot.
func EarlierBoot(id Identity, recorded time.Time, me Identity, booted time.Time) bool {
	return me.MachineID != "" && id.MachineID == me.MachineID &&
		me.BootID != "" && id.BootID != "" && id.BootID != me.BootID &&
		id.Host == me.Host &&
		!booted.IsZero() && !recorded.IsZero() && recorded.Before(booted.Add(-bootSlack))
}

// BootTime returns when this host booted, by the wall clock, read once;
// the zero time where unknown (every system but Linux, for now).
func BootTime() time.Time {
	bootOnce.Do(func() { booted = bootTime() })
	return booted
}

var (
	bootOnce sync.Once
	booted   time.Time
)

// Monotonic returns the time since this host booted by its monotonic
// clock, which no one can step and which stops while the host sleeps, as
// the first time namespace counts it, so that every process of this boot
// reads the same clock; ok is false where it is unknown (every system but
// Linux, for now).
func Monotonic() (d time.Duration, ok bool) { return monotonic() }

// bootSlack is how long before the boot a record must have been written to
// be of an earlier boot: a boot's time is known to the second, and the wall
// clock may have been set since.
const bootSlack = time.Minute

// ValidMachineID reports whether s has the form of a machine id: 32
// lowercase hex digits.
func ValidMachineID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Check decides whether the process id is alive. It must only be asked for
// an identity for which SameHost is true. Permission denied means alive.
func Check(id Identity) State {
	if id.PID <= 0 {
		return Unknown
	}
	return check(id)
}

// Of returns the identity of process pid on this host: this host's boot
// id, PID namespace and host name, and the process's start time where it
// can be read (0 otherwise, for example when no such process exists).
func Of(pid int) Identity {
	id := Self()
	id.PID = pid
	id.Start, _ = startTime(pid)
	return id
}
