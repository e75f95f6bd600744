//go:build windows

package fsys

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

func TestAccessOf(t *testing.T) {
	for flags, want := range map[int]uint32{
		os.O_RDONLY:               windows.GENERIC_READ,
		os.O_WRONLY:               windows.GENERIC_WRITE,
		os.O_RDWR:                 windows.GENERIC_READ | windows.GENERIC_WRITE,
		os.O_WRONLY | os.O_CREATE: windows.GENERIC_WRITE,
	} {
		require.Equal(t, want, accessOf(flags), "flags %#x", flags)
	}
}

// TestOpenWriteOnlyWrites: a file opened write-only can be written.
func TestOpenWriteOnlyWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	f, err := OpenWriteOnly(path)
	require.NoError(t, err)
	_, err = f.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "x", string(data))
}
