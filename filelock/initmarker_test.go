package filelock

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAtomicInitMarkerNeedsProof: a regular file at the marker path that
// holds no record (empty, or written by anyone) is not taken for proof
// that fn ran: fn runs and the marker replaces the file.
func TestAtomicInitMarkerNeedsProof(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"text", "done\n"},
		{"pid", "12345\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "done")
			require.NoError(t, os.WriteFile(marker, []byte(tc.data), 0o644))
			calls := 0
			ran, err := AtomicInit(marker, func() error { calls++; return nil })
			require.NoError(t, err)
			require.True(t, ran)
			require.Equal(t, 1, calls)
			data, err := os.ReadFile(marker)
			require.NoError(t, err)
			_, err = ParseRecord(data)
			require.NoError(t, err, "the marker now holds a record")

			ran, err = AtomicInit(marker, func() error { calls++; return nil })
			require.NoError(t, err)
			require.False(t, ran, "a real marker is proof")
			require.Equal(t, 1, calls)
		})
	}
}
