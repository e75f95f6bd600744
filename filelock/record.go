package filelock

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/lockstress/lockstress/internal/proc"
)

// RecordVersion is the version of the holder record format this package
// writes, and the only one it reads.
const RecordVersion = 1

// MaxRecordSize is the largest holder record, in bytes, that is read.
const MaxRecordSize = 4096

const recordMagic = "filelock"

// Record describes the holder of a lock. It is stored in the lock file as a
// few lines of text that a person can read with cat:
//
//	filelock v1
//	pid 4242
//	host build-7
//	boot 1f0e2c2a-6d7b-4b7e-9c3e-0a4f5d1c2b3a
//	machine 3d1219c7c4c5404aaa1f6d2a48adfda4
//	pidns pid:[4026531836]
//	start 981245
//	acquired 2026-11-25T21:56:25.123456789Z
//	token 9f86d081884c7d659a2feaa0c55ad015
//
// The first line names the format and its version. Then come, in this order,
// one per line as "key value": pid (decimal, 1 to 2³¹−1), host (hostname, or
// "unknown" where it is unknown or holds a control character), boot
// (boot id; line omitted where unknown), machine (machine id, 32 lowercase
// hex digits, Linux's /etc/machine-id; line omitted where unknown, and
// absent from records of earlier versions), pidns (PID namespace; omitted where
// unknown), start (process start time, clock ticks since boot on Linux;
// omitted where unknown), acquired (wall-clock acquisition time, RFC 3339
// with nanoseconds, UTC) and token (32 lowercase hex digits, random per
// acquisition). Values hold no control characters and are valid UTF-8.
// Every line ends with a newline. Only this exact form is accepted, so that
// a record read back is byte for byte the record written.
type Record struct {
	PID       int
	Host      string
	BootID    string
	MachineID string
	PIDNS     string
	Start     uint64
	Acquired  time.Time
	Token     string
}

// newRecord returns the record of the process me for an acquisition at
// now, with a fresh random token.
func newRecord(me proc.Identity, now time.Time) Record {
	return Record{
		PID: me.PID, Host: proc.HostName(me.Host), BootID: me.BootID, MachineID: me.MachineID, PIDNS: me.PIDNS, Start: me.Start,
		Acquired: now.UTC(), Token: newToken(),
	}
}

// tokenBytes is the size of a token: 128 bits, written in hex.
const tokenBytes = 16

// newToken returns 128 random bits in hex. The token tells one acquisition
// from another; it is not a secret, so the runtime's generator (seeded from
// the operating system) serves without a system call per acquisition.
func newToken() string {
	var b [tokenBytes]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

// MarshalText encodes the record in the documented text form. It fails if
// a field cannot be represented.
func (r Record) MarshalText() ([]byte, error) {
	return r.appendText(make([]byte, 0, 256))
}

// appendText appends the record's text form to b.
func (r Record) appendText(b []byte) ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	start := len(b)
	b = append(b, recordMagic+" v"...)
	b = strconv.AppendInt(b, RecordVersion, 10)
	b = append(b, "\npid "...)
	b = strconv.AppendInt(b, int64(r.PID), 10)
	b = append(b, "\nhost "...)
	b = append(b, r.Host...)
	if r.BootID != "" {
		b = append(b, "\nboot "...)
		b = append(b, r.BootID...)
	}
	if r.MachineID != "" {
		b = append(b, "\nmachine "...)
		b = append(b, r.MachineID...)
	}
	if r.PIDNS != "" {
		b = append(b, "\npidns "...)
		b = append(b, r.PIDNS...)
	}
	if r.Start != 0 {
		b = append(b, "\nstart "...)
		b = strconv.AppendUint(b, r.Start, 10)
	}
	b = append(b, "\nacquired "...)
	b = r.Acquired.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, "\ntoken "...)
	b = append(b, r.Token...)
	b = append(b, '\n')
	if n := len(b) - start; n > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrBadRecord, n, MaxRecordSize)
	}
	return b, nil
}

func (r Record) validate() error {
	switch {
	case r.PID <= 0 || r.PID > 1<<31-1:
		return fmt.Errorf("%w: pid %d out of range", ErrBadRecord, r.PID)
	case r.Host == "" || !proc.Printable(r.Host):
		return fmt.Errorf("%w: bad host %q", ErrBadRecord, r.Host)
	case !proc.Printable(r.BootID) || !proc.Printable(r.PIDNS):
		return fmt.Errorf("%w: bad boot id or pid namespace", ErrBadRecord)
	case r.MachineID != "" && !proc.ValidMachineID(r.MachineID):
		return fmt.Errorf("%w: bad machine id %q (not 32 lowercase hex digits)", ErrBadRecord, r.MachineID)
	case !validToken(r.Token):
		return fmt.Errorf("%w: bad token %q", ErrBadRecord, r.Token)
	case r.Acquired.IsZero() || r.Acquired.UTC().Year() < 1 || r.Acquired.UTC().Year() > 9999:
		return fmt.Errorf("%w: bad acquisition time", ErrBadRecord)
	}
	return nil
}

func validToken[T string | []byte](s T) bool {
	if len(s) != 2*tokenBytes {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// identity is the recorded holder as a process identity.
func (r Record) identity() proc.Identity {
	return proc.Identity{PID: r.PID, Host: r.Host, BootID: r.BootID, MachineID: r.MachineID, PIDNS: r.PIDNS, Start: r.Start}
}

// newRecord returns a fresh record of this handle's process.
func (l *Lock) newRecord() ([]byte, error) {
	return newRecord(l.cfg.self, l.cfg.clock.Now()).MarshalText()
}
