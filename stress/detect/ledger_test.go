package detect

import (
	"errors"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []Record{
		{Seq: 0, State: Released, Owner: "-"},
		{Seq: 42, State: Held, Owner: "build-7/w3", Nonce: 0x9f86d081884c7d65},
		{Seq: 1<<64 - 1, State: Held, Owner: strings.Repeat("x", OwnerWidth), Nonce: 1<<64 - 1},
	} {
		b := AppendRecord(nil, r)
		if len(b) != RecordSize {
			t.Fatalf("%+v: encoded in %d bytes, want %d", r, len(b), RecordSize)
		}
		got, err := ParseRecord(b)
		if err != nil {
			t.Fatalf("ParseRecord(%q): %v", b, err)
		}
		if got != r {
			t.Errorf("round trip of %+v gave %+v", r, got)
		}
	}
}

func TestCleanOwner(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"w3", "w3"},
		{"host name/w3", "host_name/w3"},
		{"h\n\x00é", "h____"}, // é is two bytes
		{strings.Repeat("a", OwnerWidth+5), strings.Repeat("a", OwnerWidth)},
	} {
		if got := CleanOwner(tc.in); got != tc.want {
			t.Errorf("CleanOwner(%q) = %q, want %q", tc.in, got, tc.want)
		}
		r, err := ParseRecord(AppendRecord(nil, Record{State: Held, Owner: tc.in}))
		if err != nil || r.Owner != tc.want {
			t.Errorf("owner %q stored as %q (%v), want %q", tc.in, r.Owner, err, tc.want)
		}
	}
}

// Every change of one byte, every truncation and every extension of a
// record is seen as torn.
func TestTornRecords(t *testing.T) {
	good := AppendRecord(nil, Record{Seq: 7, State: Held, Owner: "w1", Nonce: 0xabcdef})
	check := func(name string, b []byte) {
		t.Helper()
		if _, err := ParseRecord(b); !errors.Is(err, ErrTorn) {
			t.Errorf("%s: ParseRecord(%q) = %v, want ErrTorn", name, b, err)
		}
	}
	for i := range good {
		for _, c := range []byte{'0', 'H', 'R', ' ', 'x', 0, '\n'} {
			if good[i] == c {
				continue
			}
			b := append([]byte(nil), good...)
			b[i] = c
			check("byte "+string(rune('0'+i%10)), b)
		}
	}
	for n := range len(good) {
		check("truncated", good[:n])
	}
	check("extended", append(append([]byte(nil), good...), 'x'))
	// Two records mixed: the start of one, the end of another.
	other := AppendRecord(nil, Record{Seq: 8, State: Released, Owner: "w2", Nonce: 0x123})
	check("mixed", append(append([]byte(nil), good[:56]...), other[56:]...))
	// A record with a good checksum but an unknown state.
	bad := []byte(strings.Replace(string(good), "state=H", "state=X", 1))
	check("unknown state", bad)
}

func TestEntryRoundTrip(t *testing.T) {
	e := Entry{Seq: 3, Nonce: 0xfeed, Acquired: -5, Released: 1 << 62, Seen: 9, Flags: FlagHeld | FlagKilled}
	b := AppendEntry(nil, e)
	if len(b) != EntrySize {
		t.Fatalf("entry of %d bytes, want %d", len(b), EntrySize)
	}
	got, err := ParseEntry(b)
	if err != nil || got != e {
		t.Fatalf("ParseEntry = %+v, %v; want %+v", got, err, e)
	}
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x40
		if _, err := ParseEntry(c); !errors.Is(err, ErrBadLog) {
			t.Errorf("entry with byte %d changed: err = %v, want ErrBadLog", i, err)
		}
	}
}
