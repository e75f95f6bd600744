package filelock

import (
	"io/fs"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestInspectReportsAFailedRead: an os or ofd Inspect that finds the lock
// held and cannot read the lock file reports the read's error, naming the
// path, never a holder that left no record. /proc/self/mem is a regular
// file of a real filesystem whose read at offset 0 fails (EIO: nothing is
// mapped at address 0), held here with a shared kernel lock of the
// strategy's kind.
func TestInspectReportsAFailedRead(t *testing.T) {
	const path = "/proc/self/mem"
	for _, s := range []Strategy{OS, OFD} {
		t.Run(s.String(), func(t *testing.T) {
			fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			require.NoError(t, err)
			t.Cleanup(func() { unix.Close(fd) })
			locker, ok := lockerFor(s)
			require.True(t, ok)
			require.NoError(t, locker.lock(uintptr(fd), true))

			l, err := New(path, WithStrategy(s))
			require.NoError(t, err)
			st, err := l.Inspect()
			require.ErrorIs(t, err, syscall.EIO, "the failed read not reported; the status was %v", st)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, path, pe.Path)
			require.False(t, st.Held, "a status beside the error")
		})
	}
}
