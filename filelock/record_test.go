package filelock

import (
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
