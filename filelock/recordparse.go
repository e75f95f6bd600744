package filelock

// Parsing a holder record: only the exact documented form (record.go) is
// accepted, so that a record read back is byte for byte the record
// written. The fields are substrings of the text: one copy of the data in
// all.

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ParseRecord decodes a holder record. Any input that is not exactly a
// record in the documented form is rejected with an error matching
// ErrBadRecord.
func ParseRecord(data []byte) (Record, error) {
	var r Record
	text, err := recordText(data)
	if err != nil {
		return r, err
	}
	rest, err := cutRecordHeader(text)
	if err != nil {
		return r, err
	}
	if err := r.parseFields(rest); err != nil {
		return r, err
	}
	if err := r.checkCanonical(data); err != nil {
		return Record{}, err
	}
	return r, nil
}

// recordText returns data as text if its size, encoding and final newline
// may be those of a record.
func recordText(data []byte) (string, error) {
	if len(data) > MaxRecordSize {
		return "", fmt.Errorf("%w: %d bytes, more than %d", ErrBadRecord, len(data), MaxRecordSize)
	}
	if len(data) == 0 {
		return "", fmt.Errorf("%w: empty", ErrBadRecord)
	}
	if !utf8.Valid(data) {
		return "", fmt.Errorf("%w: not UTF-8", ErrBadRecord)
	}
	text := string(data)
	if !strings.HasSuffix(text, "\n") {
		return "", fmt.Errorf("%w: truncated (no final newline)", ErrBadRecord)
	}
	return text, nil
}

// cutRecordHeader returns the lines of text after its first, which must
// name the format and the version this package reads.
func cutRecordHeader(text string) (string, error) {
	header, rest, _ := strings.Cut(text, "\n")
	if v, ok := strings.CutPrefix(header, recordMagic+" v"); !ok {
		return "", fmt.Errorf("%w: first line %q is not %q", ErrBadRecord, header, fmt.Sprintf("%s v%d", recordMagic, RecordVersion))
	} else if v != strconv.Itoa(RecordVersion) {
		return "", fmt.Errorf("%w: unsupported version %q", ErrBadRecord, v)
	}
	return rest, nil
}

// parseFields sets r's fields from lines, "key value" each, and requires
// every key at most once and the keys no record is without.
func (r *Record) parseFields(lines string) error {
	seen := map[string]bool{}
	for rest := lines; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		key, val, ok := strings.Cut(line, " ")
		if !ok {
			return fmt.Errorf("%w: line %q has no value", ErrBadRecord, line)
		}
		if seen[key] {
			return fmt.Errorf("%w: duplicate %q", ErrBadRecord, key)
		}
		seen[key] = true
		if err := r.setField(key, val); err != nil {
			return err
		}
	}
	for _, key := range []string{"pid", "host", "acquired", "token"} {
		if !seen[key] {
			return fmt.Errorf("%w: missing %q", ErrBadRecord, key)
		}
	}
	return nil
}

// setField sets the field that key names from its text val.
func (r *Record) setField(key, val string) error {
	var err error
	switch key {
	case "pid":
		var n int64
		n, err = strconv.ParseInt(val, 10, 32)
		r.PID = int(n)
	case "host":
		r.Host = val
	case "boot":
		r.BootID = val
	case "machine":
		r.MachineID = val
	case "pidns":
		r.PIDNS = val
	case "start":
		r.Start, err = strconv.ParseUint(val, 10, 64)
	case "acquired":
		r.Acquired, err = time.Parse(time.RFC3339Nano, val)
	case "token":
		r.Token = val
	default:
		return fmt.Errorf("%w: unknown key %q", ErrBadRecord, key)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadRecord, key, err)
	}
	return nil
}

// checkCanonical returns an error matching ErrBadRecord unless data is
// exactly r's encoding.
func (r Record) checkCanonical(data []byte) error {
	var buf [512]byte
	out, err := r.appendText(buf[:0])
	if err != nil {
		return err
	}
	if !bytes.Equal(out, data) {
		return fmt.Errorf("%w: not in canonical form (field order, number or time format)", ErrBadRecord)
	}
	return nil
}
