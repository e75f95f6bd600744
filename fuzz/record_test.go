package fuzz

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lockstress/lockstress/filelock"
)

func FuzzRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, pid int64, host, boot, pidns string, start uint64, sec, nsec int64, zone int32, token string) {
		checkParse(t, data)
		dir := t.TempDir()
		for _, s := range filelock.Strategies() {
			checkInspectRecord(t, s, filepath.Join(dir, s.String()), data)
		}
		checkMarshal(t, filelock.Record{
			PID: int(pid), Host: host, BootID: boot, PIDNS: pidns, Start: start,
			Acquired: time.Unix(sec, nsec).In(time.FixedZone("fuzz", int(zone))),
			Token:    token,
		})
	})
}

// checkParse feeds data to ParseRecord: a record out must be one whose
// fields are valid and whose encoding is data itself; an error must match
// ErrBadRecord.
func checkParse(t *testing.T, data []byte) {
	t.Helper()
	r, err := filelock.ParseRecord(data)
	if err != nil {
		if !errors.Is(err, filelock.ErrBadRecord) {
			t.Fatalf("ParseRecord(%s): error %q does not match ErrBadRecord", quoteShort(string(data)), err)
		}
		return
	}
	if msg := invalidField(r); msg != "" {
		t.Fatalf("ParseRecord(%s) accepted a record whose %s", quoteShort(string(data)), msg)
	}
	if out := marshal(t, r); !bytes.Equal(out, data) {
		t.Fatalf("ParseRecord(%s) then MarshalText gives %s", quoteShort(string(data)), quoteShort(string(out)))
	}
}

// checkMarshal encodes r: it must fail with ErrBadRecord exactly when a
// field breaks the documented form or the encoding would be longer than
// MaxRecordSize, and otherwise parse back to the same record and the same
// bytes.
func checkMarshal(t *testing.T, r filelock.Record) {
	t.Helper()
	bad := invalidField(r)
	out, err := r.MarshalText()
	if err != nil {
		if !errors.Is(err, filelock.ErrBadRecord) {
			t.Fatalf("MarshalText(%s): error %q does not match ErrBadRecord", show(r), err)
		}
		if bad == "" && len(r.Host)+len(r.BootID)+len(r.PIDNS) < filelock.MaxRecordSize/2 {
			t.Fatalf("MarshalText(%s) rejected a valid record: %v", show(r), err)
		}
		return
	}
	if bad != "" {
		t.Fatalf("MarshalText accepted a record whose %s: %s", bad, show(r))
	}
	back, err := filelock.ParseRecord(out)
	if err != nil {
		t.Fatalf("MarshalText(%s) = %s, which ParseRecord rejects: %v", show(r), quoteShort(string(out)), err)
	}
	if !sameRecord(back, r) {
		t.Fatalf("record %s came back as %s", show(r), show(back))
	}
	if again := marshal(t, back); !bytes.Equal(again, out) {
		t.Fatalf("record encodes as %s, parsed and encoded again as %s", quoteShort(string(out)), quoteShort(string(again)))
	}
}

// invalidField names the first field of r that breaks the documented form
// of a record, or returns "" if there is none.
func invalidField(r filelock.Record) string {
	utc := r.Acquired.UTC()
	switch {
	case r.PID <= 0 || r.PID > 1<<31-1:
		return "pid is out of range"
	case r.Host == "" || !plainValue(r.Host):
		return "host is empty or not plain text"
	case !plainValue(r.BootID):
		return "boot id is not plain text"
	case !plainValue(r.PIDNS):
		return "pid namespace is not plain text"
	case r.MachineID != "" && (len(r.MachineID) != 32 || !isLowerHex(r.MachineID)):
		return "machine id is neither empty nor 32 lowercase hex digits"
	case r.Acquired.IsZero() || utc.Year() < 1 || utc.Year() > 9999:
		return "acquisition time is unset or not a four-digit year in UTC"
	case len(r.Token) != 32 || !isLowerHex(r.Token):
		return "token is not 32 lowercase hex digits"
	}
	return ""
}

// plainValue reports whether s is valid UTF-8 without control characters,
// as the record's values must be.
func plainValue(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkInspectRecord holds the lock at path with strategy s, puts data in
// the lock file as its holder would have written it, and checks what
// Inspect makes of it: held, and either the record that data is, or an
// error matching ErrBadRecord when data is not a record, or neither when
// the file is empty.
func checkInspectRecord(t *testing.T, s filelock.Strategy, path string, data []byte) {
	t.Helper()
	if fileBased(s) {
		// The soft lock is the file: writing it is holding the lock.
		requireNoError(t, "writing the lock file", os.WriteFile(path, data, 0o644))
		defer func() { requireNoError(t, "removing the lock file", os.Remove(path)) }()
	} else {
		l, err := filelock.New(path, filelock.WithStrategy(s))
		requireNoError(t, "New", err)
		requireNoError(t, "TryLock", l.TryLock())
		own, err := os.ReadFile(path)
		requireNoError(t, "reading the lock file", err)
		// Another descriptor replaces the content; the kernel lock stays.
		// The holder's own record is put back before it releases.
		requireNoError(t, "writing the lock file", os.WriteFile(path, data, 0o644))
		defer func() {
			requireNoError(t, "restoring the lock file", os.WriteFile(path, own, 0o644))
			requireNoError(t, "Unlock", l.Unlock())
		}()
	}
	var st filelock.Status
	var err error
	within(t, s.String()+" Inspect", func() { st, err = filelock.Inspect(path, filelock.WithStrategy(s)) })
	requireNoError(t, s.String()+" Inspect", err)
	what := s.String() + " Inspect of a lock file holding " + quoteShort(string(data))
	parsed, perr := filelock.ParseRecord(data)
	switch {
	case !st.Held:
		t.Fatalf("%s: not held", what)
	case len(data) == 0:
		if st.Holder != nil || st.RecordErr != nil {
			t.Fatalf("%s: empty file, yet holder %v, record error %v", what, st.Holder != nil, st.RecordErr)
		}
	case (st.Holder == nil) == (st.RecordErr == nil):
		t.Fatalf("%s: want one of holder and record error, got holder %v and error %v", what, st.Holder != nil, st.RecordErr)
	case st.Holder != nil && perr != nil:
		t.Fatalf("%s: reports holder %s, but ParseRecord of the file rejects it: %v", what, show(*st.Holder), perr)
	case st.Holder != nil && !sameRecord(*st.Holder, parsed):
		t.Fatalf("%s: reports holder %s, ParseRecord gives %s", what, show(*st.Holder), show(parsed))
	case st.RecordErr != nil && !errors.Is(st.RecordErr, filelock.ErrBadRecord):
		t.Fatalf("%s: record error %q does not match ErrBadRecord", what, st.RecordErr)
	case st.RecordErr != nil && perr == nil:
		t.Fatalf("%s: record error %v, but ParseRecord accepts the file", what, st.RecordErr)
	}
}
