package detect

import (
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// State is the state of the ledger record.
type State byte

const (
	// Released means no worker is in the critical section.
	Released State = 'R'
	// Held means the worker named by the record is in it.
	Held State = 'H'
)

func (s State) String() string {
	switch s {
	case Released:
		return "released"
	case Held:
		return "held"
	}
	return fmt.Sprintf("State(%q)", byte(s))
}

// OwnerWidth is the width of the owner field of a Record. Longer owner
// names are cut, shorter ones padded with spaces.
const OwnerWidth = 32

// Record is the content of the ledger file. It is written whole, with one
// write at offset 0, in a fixed-size text form that a person can read:
//
//	lockstress-ledger v1 seq=00000000000000000042 state=H owner=build-7/w3                       nonce=9f86d081884c7d65 crc=03dc4b71
//
// followed by a newline. The checksum is the CRC-32 (Castagnoli) of every
// byte before " crc=". A record of another size, another layout, an unknown
// state or a wrong checksum is torn: ParseRecord rejects it with an error
// matching ErrTorn.
type Record struct {
	Seq   uint64
	State State
	// Owner names the worker, informational only: it is cut to OwnerWidth
	// bytes and characters outside [A-Za-z0-9._/:#-] become '_'.
	Owner string
	// Nonce is random per acquisition; it identifies the owner.
	Nonce uint64
}

const (
	recordMagic = "lockstress-ledger v1 "
	// RecordSize is the size of an encoded Record in bytes.
	RecordSize = len(recordMagic) + len("seq=") + 20 + len(" state=") + 1 + len(" owner=") + OwnerWidth +
		len(" nonce=") + 16 + len(" crc=") + 8 + 1
	crcOffset = RecordSize - len(" crc=") - 8 - 1
)

// ErrTorn reports a ledger record that is not one whole record.
var ErrTorn = errors.New("torn ledger record")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CleanOwner returns owner as a Record stores it.
func CleanOwner(owner string) string {
	b := []byte(owner)
	if len(b) > OwnerWidth {
		b = b[:OwnerWidth]
	}
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._/:#-", c) >= 0
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}

// AppendRecord appends the encoding of r to b; the encoding is exactly
// RecordSize bytes long.
func AppendRecord(b []byte, r Record) []byte {
	start := len(b)
	b = append(b, recordMagic...)
	b = append(b, "seq="...)
	b = appendPadded(b, strconv.FormatUint(r.Seq, 10), 20, '0', true)
	b = append(b, " state="...)
	b = append(b, byte(r.State))
	b = append(b, " owner="...)
	b = appendPadded(b, CleanOwner(r.Owner), OwnerWidth, ' ', false)
	b = append(b, " nonce="...)
	b = appendPadded(b, strconv.FormatUint(r.Nonce, 16), 16, '0', true)
	sum := crc32.Checksum(b[start:], castagnoli)
	b = append(b, " crc="...)
	b = appendPadded(b, strconv.FormatUint(uint64(sum), 16), 8, '0', true)
	return append(b, '\n')
}

func appendPadded(b []byte, s string, width int, pad byte, left bool) []byte {
	if !left {
		b = append(b, s...)
	}
	for i := len(s); i < width; i++ {
		b = append(b, pad)
	}
	if left {
		b = append(b, s...)
	}
	return b
}

// recordFields are the fields of a ledger record after its magic, in
// order: each one's name, and the width of its value.
var recordFields = [...]struct {
	name  string
	width int
}{{"seq=", 20}, {" state=", 1}, {" owner=", OwnerWidth}, {" nonce=", 16}, {" crc=", 8}}

// ParseRecord decodes a ledger record. Anything but exactly one record in
// the documented form is rejected with an error matching ErrTorn.
func ParseRecord(b []byte) (Record, error) {
	f, err := splitRecord(b)
	if err != nil {
		return Record{}, err
	}
	seq, state, owner, nonce, sum := f[0], f[1], f[2], f[3], f[4]
	want, err := strconv.ParseUint(sum, 16, 32)
	if err != nil {
		return Record{}, fmt.Errorf("%w: checksum %q: %v", ErrTorn, sum, err)
	}
	if got := crc32.Checksum(b[:crcOffset], castagnoli); uint64(got) != want {
		return Record{}, fmt.Errorf("%w: checksum %08x, record says %08x", ErrTorn, got, want)
	}
	// A record with the right checksum was written by AppendRecord; the
	// fields parse unless the writer was broken.
	var r Record
	if r.Seq, err = strconv.ParseUint(seq, 10, 64); err != nil {
		return r, fmt.Errorf("%w: seq %q: %v", ErrTorn, seq, err)
	}
	if r.Nonce, err = strconv.ParseUint(nonce, 16, 64); err != nil {
		return r, fmt.Errorf("%w: nonce %q: %v", ErrTorn, nonce, err)
	}
	r.State = State(state[0])
	if r.State != Released && r.State != Held {
		return r, fmt.Errorf("%w: unknown state %q", ErrTorn, state)
	}
	r.Owner = strings.TrimRight(owner, " ")
	return r, nil
}

// splitRecord returns the values of the fields of record b, in the order
// of recordFields, or an error matching ErrTorn.
func splitRecord(b []byte) (fields [len(recordFields)]string, err error) {
	if len(b) != RecordSize {
		return fields, fmt.Errorf("%w: %d bytes, want %d", ErrTorn, len(b), RecordSize)
	}
	s := string(b)
	if !strings.HasPrefix(s, recordMagic) {
		return fields, fmt.Errorf("%w: does not start with %q", ErrTorn, recordMagic)
	}
	off := len(recordMagic)
	for i, f := range recordFields {
		if !strings.HasPrefix(s[off:], f.name) {
			return fields, fmt.Errorf("%w: no %q at byte %d", ErrTorn, strings.TrimSpace(f.name), off)
		}
		off += len(f.name)
		fields[i] = s[off : off+f.width]
		off += f.width
	}
	if s[off:] != "\n" {
		return fields, fmt.Errorf("%w: no final newline", ErrTorn)
	}
	return fields, nil
}
