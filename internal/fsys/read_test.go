package fsys

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// TestReadUpTo: the contents, whole or cut at the limit, whatever size the
// file had when it was described (it may have grown or shrunk since) and
// however short the reads.
func TestReadUpTo(t *testing.T) {
	long := strings.Repeat("record\n", 100) // 700 bytes
	for _, tc := range []struct {
		name        string
		data        string
		size, limit int64
		want        string
	}{
		{"empty", "", 0, 10, ""},
		{"as described", "hello\n", 6, 100, "hello\n"},
		{"cut at the limit", "hello\n", 6, 3, "hel"},
		{"exactly the limit", "hello\n", 6, 6, "hello\n"},
		{"grew since", long, 7, 4096, long},
		{"grew past the limit", long, 7, 500, long[:500]},
		{"shrank since", "hi", 600, 4096, "hi"},
		{"size unknown", long, 0, 4096, long},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.data), iotest.OneByteReader(strings.NewReader(tc.data)), iotest.DataErrReader(strings.NewReader(tc.data))} {
				got, err := readUpTo(r, tc.size, tc.limit)
				require.NoError(t, err)
				require.Equal(t, tc.want, string(got))
			}
		})
	}
	boom := errors.New("boom")
	got, err := readUpTo(io.MultiReader(bytes.NewReader([]byte("ab")), iotest.ErrReader(boom)), 2, 10)
	require.ErrorIs(t, err, boom)
	require.Equal(t, "ab", string(got), "what was read before the error")
}
