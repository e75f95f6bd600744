package filelock

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/proc"
)

func TestRecordRoundTrip(t *testing.T) {
	r := newRecord(proc.Self(), time.Date(2026, 11, 25, 21, 56, 25, 123456789, time.FixedZone("x", 3600)))
	data, err := r.MarshalText()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(data), "filelock v1\npid "), string(data))
	require.Contains(t, string(data), "acquired 2026-11-25T20:56:25.123456789Z\n")
	got, err := ParseRecord(data)
	require.NoError(t, err)
	again, err := got.MarshalText()
	require.NoError(t, err)
	require.Equal(t, string(data), string(again))
	require.True(t, r.Acquired.Equal(got.Acquired))
	require.Equal(t, r.Token, got.Token)
	require.NotEqual(t, r.Token, newRecord(proc.Self(), time.Now()).Token, "tokens are random")
}

// TestRecordMachine: the machine line is optional, comes right after boot,
// and a record without it reads exactly as before it existed.
func TestRecordMachine(t *testing.T) {
	const (
		machine = "3d1219c7c4c5404aaa1f6d2a48adfda4"
		boot    = "1f0e2c2a-6d7b-4b7e-9c3e-0a4f5d1c2b3a"
	)
	id := proc.Identity{PID: 4242, Host: "build-7", BootID: boot, PIDNS: "pid:[4026531836]", Start: 981245}
	at := time.Date(2026, 11, 25, 21, 56, 25, 123456789, time.UTC)
	for _, tc := range []struct {
		name    string
		machine string
		lines   string // the lines from host to pidns
	}{
		{"with machine", machine, "host build-7\nboot " + boot + "\nmachine " + machine + "\npidns pid:[4026531836]\n"},
		{"without machine", "", "host build-7\nboot " + boot + "\npidns pid:[4026531836]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := id
			id.MachineID = tc.machine
			r := newRecord(id, at)
			data, err := r.MarshalText()
			require.NoError(t, err)
			require.Equal(t, "filelock v1\npid 4242\n"+tc.lines+"start 981245\nacquired 2026-11-25T21:56:25.123456789Z\ntoken "+r.Token+"\n", string(data))
			got, err := ParseRecord(data)
			require.NoError(t, err)
			require.Equal(t, tc.machine, got.MachineID)
			require.Equal(t, id, got.identity())
			again, err := got.MarshalText()
			require.NoError(t, err)
			require.Equal(t, string(data), string(again))
		})
	}
}

// TestParseRecordRejectsMachine: a machine value must be 32 lowercase hex
// digits, once, right after boot (or host when there is no boot).
func TestParseRecordRejectsMachine(t *testing.T) {
	const machine = "machine 3d1219c7c4c5404aaa1f6d2a48adfda4\n"
	good := "filelock v1\npid 42\nhost h\nboot b\n" + machine + "pidns p\nacquired 2026-01-02T03:04:05.5Z\ntoken 0123456789abcdef0123456789abcdef\n"
	_, err := ParseRecord([]byte(good))
	require.NoError(t, err)
	noBoot := strings.Replace(good, "boot b\n", "", 1)
	_, err = ParseRecord([]byte(noBoot))
	require.NoError(t, err, "machine without boot")
	for _, tc := range []struct{ name, data string }{
		{"short", strings.Replace(good, "adfda4", "adfd", 1)},
		{"long", strings.Replace(good, "adfda4", "adfda40", 1)},
		{"upper case", strings.Replace(good, "adfda4", "ADFDA4", 1)},
		{"not hex", strings.Replace(good, "adfda4", "adfdg4", 1)},
		{"uuid form", strings.Replace(good, machine, "machine 3d1219c7-c4c5-404a-aa1f-6d2a48adfda4\n", 1)},
		{"empty", strings.Replace(good, machine, "machine \n", 1)},
		{"trailing space", strings.Replace(good, "adfda4\n", "adfda4 \n", 1)},
		{"before boot", strings.Replace(good, "boot b\n"+machine, machine+"boot b\n", 1)},
		{"before host", strings.Replace(noBoot, "host h\n"+machine, machine+"host h\n", 1)},
		{"after pidns", strings.Replace(good, machine+"pidns p\n", "pidns p\n"+machine, 1)},
		{"at the end", strings.Replace(good, machine, "", 1) + machine},
		{"twice", strings.Replace(good, machine, machine+machine, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRecord([]byte(tc.data))
			require.ErrorIs(t, err, ErrBadRecord)
		})
	}
}

// TestMarshalRejectsBadMachine: a record is never written with a machine
// id that does not have the documented form.
func TestMarshalRejectsBadMachine(t *testing.T) {
	for _, m := range []string{"x", "3D1219C7C4C5404AAA1F6D2A48ADFDA4", "3d1219c7c4c5404aaa1f6d2a48adfda4\n", "3d1219c7c4c5404aaa1f6d2a48adfda"} {
		r := newRecord(proc.Identity{PID: 1, Host: "h", MachineID: m}, time.Now())
		_, err := r.MarshalText()
		require.ErrorIs(t, err, ErrBadRecord, "machine %q", m)
	}
}

func TestParseRecordRejects(t *testing.T) {
	good := "filelock v1\npid 42\nhost h\nacquired 2026-01-02T03:04:05.5Z\ntoken 0123456789abcdef0123456789abcdef\n"
	_, err := ParseRecord([]byte(good))
	require.NoError(t, err)
	for _, tc := range []struct{ name, data string }{
		{"empty", ""},
		{"truncated", good[:len(good)-10]},
		{"no final newline", strings.TrimSuffix(good, "\n")},
		{"other version", strings.Replace(good, "v1", "v2", 1)},
		{"other format", strings.Replace(good, "filelock", "flock", 1)},
		{"zero pid", strings.Replace(good, "pid 42", "pid 0", 1)},
		{"negative pid", strings.Replace(good, "pid 42", "pid -1", 1)},
		{"huge pid", strings.Replace(good, "pid 42", "pid 99999999999999999999", 1)},
		{"leading zero pid", strings.Replace(good, "pid 42", "pid 042", 1)},
		{"missing host", strings.Replace(good, "host h\n", "", 1)},
		{"empty host", strings.Replace(good, "host h", "host ", 1)},
		{"duplicate key", strings.Replace(good, "host h\n", "host h\nhost h\n", 1)},
		{"unknown key", strings.Replace(good, "host h\n", "host h\ncolor red\n", 1)},
		{"fields out of order", "filelock v1\nhost h\npid 42\nacquired 2026-01-02T03:04:05.5Z\ntoken 0123456789abcdef0123456789abcdef\n"},
		{"local time", strings.Replace(good, "05.5Z", "05.5+01:00", 1)},
		{"bad time", strings.Replace(good, "2026-01-02", "2026-13-02", 1)},
		{"short token", strings.Replace(good, "0123456789abcdef0123456789abcdef", "0123", 1)},
		{"upper-case token", strings.Replace(good, "abcdef0123456789abcdef", "ABCDEF0123456789abcdef", 1)},
		{"control character", strings.Replace(good, "host h", "host h\x01", 1)},
		{"not UTF-8", strings.Replace(good, "host h", "host \xff", 1)},
		{"CRLF", strings.ReplaceAll(good, "\n", "\r\n")},
		{"too long", good + strings.Repeat("x", MaxRecordSize)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRecord([]byte(tc.data))
			require.ErrorIs(t, err, ErrBadRecord)
		})
	}
}

func TestRecordFromTheFutureParses(t *testing.T) {
	r := newRecord(proc.Self(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC))
	data, err := r.MarshalText()
	require.NoError(t, err)
	got, err := ParseRecord(data)
	require.NoError(t, err)
	require.Equal(t, 9999, got.Acquired.Year())
}

// recordOfSize returns a record of another host, of exactly size bytes: a
// valid one up to MaxRecordSize, and beyond it one whose only fault is its
// size (MarshalText refuses to make it, so its host is lengthened by hand).
func recordOfSize(t *testing.T, size int) []byte {
	t.Helper()
	r := newRecord(proc.Self(), time.Now())
	r.Host = "h"
	short, err := r.MarshalText()
	require.NoError(t, err)
	r.Host += strings.Repeat("h", min(size, MaxRecordSize)-len(short))
	data, err := r.MarshalText()
	require.NoError(t, err)
	if over := size - len(data); over > 0 {
		data = []byte(strings.Replace(string(data), "\nhost ", "\nhost "+strings.Repeat("h", over), 1))
	}
	require.Len(t, data, size)
	return data
}

// TestInspectRecordAtTheLimit shows every strategy's Inspect reading a
// record of MaxRecordSize bytes whole, and refusing one byte more, even
// where the first MaxRecordSize bytes alone would be a valid record.
func TestInspectRecordAtTheLimit(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		for _, tc := range []struct {
			name  string
			size  int
			after string // written after the record
			ok    bool
		}{
			{"largest", MaxRecordSize, "", true},
			{"one byte over", MaxRecordSize + 1, "", false},
			{"largest, and a byte after it", MaxRecordSize, "\n", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				path := t.TempDir() + "/x.lock"
				if s == OS || s == OFD {
					require.NoError(t, lockWithin(newLock(t, path, WithStrategy(s))))
				}
				data := append(recordOfSize(t, tc.size), tc.after...)
				require.NoError(t, os.WriteFile(path, data, 0o644))
				st, err := Inspect(path, WithStrategy(s))
				require.NoError(t, err)
				require.True(t, st.Held)
				if !tc.ok {
					require.ErrorIs(t, st.RecordErr, ErrBadRecord)
					require.Nil(t, st.Holder)
					return
				}
				require.NoError(t, st.RecordErr)
				require.NotNil(t, st.Holder)
				got, err := st.Holder.MarshalText()
				require.NoError(t, err)
				require.Equal(t, string(data), string(got))
			})
		}
	})
}

func TestInspectBadRecord(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/x.lock"
	for _, data := range []string{"", "garbage\n"} {
		require.NoError(t, writeFile(path, data))
		st, err := Inspect(path)
		require.NoError(t, err)
		require.True(t, st.Held)
		require.Nil(t, st.Holder)
		if data == "" {
			require.NoError(t, st.RecordErr, "a record not written yet is no error")
		} else {
			require.ErrorIs(t, st.RecordErr, ErrBadRecord)
		}
	}
}

// TestMarshalTextRejects: a record that could not be read back is refused
// when it is written, each field at the edge of what it may hold.
func TestMarshalTextRejects(t *testing.T) {
	pidPast31Bits := int64(1) << 31
	good := Record{
		PID: 42, Host: "h", BootID: "b", PIDNS: "pid:[1]",
		Acquired: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Token:    "0123456789abcdef0123456789abcdef",
	}
	for _, tc := range []struct {
		name   string
		change func(*Record)
		ok     bool
	}{
		{"as it is", func(*Record) {}, true},
		{"pid 1", func(r *Record) { r.PID = 1 }, true},
		{"pid 0", func(r *Record) { r.PID = 0 }, false},
		{"negative pid", func(r *Record) { r.PID = -1 }, false},
		{"largest pid", func(r *Record) { r.PID = 1<<31 - 1 }, true},
		{"pid past 31 bits", func(r *Record) { r.PID = int(pidPast31Bits) }, false}, // negative where int has 32 bits
		{"empty host", func(r *Record) { r.Host = "" }, false},
		{"host with a newline", func(r *Record) { r.Host = "h\nx" }, false},
		{"host not UTF-8", func(r *Record) { r.Host = "h\xff" }, false},
		{"boot id with a control character", func(r *Record) { r.BootID = "b\x01" }, false},
		{"pid namespace with a newline", func(r *Record) { r.PIDNS = "p\n" }, false},
		{"short token", func(r *Record) { r.Token = r.Token[1:] }, false},
		{"upper-case token", func(r *Record) { r.Token = strings.ToUpper(r.Token) }, false},
		{"token not hex", func(r *Record) { r.Token = strings.Replace(r.Token, "0", "g", 1) }, false},
		{"zero time", func(r *Record) { r.Acquired = time.Time{} }, false},
		{"year 1", func(r *Record) { r.Acquired = time.Date(1, 2, 1, 0, 0, 0, 0, time.UTC) }, true},
		{"year 0", func(r *Record) { r.Acquired = time.Date(0, 2, 1, 0, 0, 0, 0, time.UTC) }, false},
		{"year 9999", func(r *Record) { r.Acquired = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC) }, true},
		{"year 10000", func(r *Record) { r.Acquired = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.change(&r)
			data, err := r.MarshalText()
			if !tc.ok {
				require.ErrorIs(t, err, ErrBadRecord)
				require.Nil(t, data)
				return
			}
			require.NoError(t, err)
			back, err := ParseRecord(data)
			require.NoError(t, err, "what is written reads back")
			require.Equal(t, r.PID, back.PID)
			require.True(t, r.Acquired.Equal(back.Acquired))
		})
	}
}

// TestKernelLockRefusesALiveRecordAtTheLimit: an os or ofd acquisition
// that finds in the lock file a live holder's record of MaxRecordSize
// bytes (another strategy's lock, held) reads it whole and refuses the
// lock, as it does a shorter one, rather than taking the record for
// another program's content and locking over it.
func TestKernelLockRefusesALiveRecordAtTheLimit(t *testing.T) {
	for _, s := range []Strategy{OS, OFD} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			data := recordOfSize(t, MaxRecordSize)
			require.NoError(t, os.WriteFile(path, data, 0o644))
			alive := withProcess(proc.Self(), func(proc.Identity) proc.State { return proc.Alive })
			l := newLock(t, path, WithStrategy(s), alive)
			require.ErrorIs(t, l.TryLock(), ErrMixedStrategies)
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(data), string(got), "the record written over")
		})
	}
}
