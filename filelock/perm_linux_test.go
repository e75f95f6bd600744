package filelock

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQueueModes: a fair waiter's ticket, which other users' waiters read
// to judge the waiter ahead, gets exactly WithPerm's mode, and the queue
// directory, in which they make their own tickets, the mode that lets
// whoever may write the lock write it, whatever the umask of the waiter
// that made them (here the holder's process, which inherits it).
func TestQueueModes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		umask       int
		perm        fs.FileMode
		ticket, dir fs.FileMode
	}{
		{"umask 077", 0o077, DefaultPerm, DefaultPerm, 0o755},
		{"a group's lock, umask 022", 0o022, 0o664, 0o664, 0o775},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			var release func()
			withUmask(t, tc.umask, func() {
				release = startReleasingHolder(t, Soft, path, "FILELOCK_TEST_FAIR=1", fmt.Sprintf("FILELOCK_TEST_PERM=%o", tc.perm))
			})
			defer release()
			waitQueueLen(t, path, 1)
			names, err := os.ReadDir(path + queueSuffix)
			require.NoError(t, err)
			info, err := os.Lstat(filepath.Join(path+queueSuffix, names[0].Name()))
			require.NoError(t, err)
			require.Equal(t, tc.ticket, info.Mode().Perm(), "the ticket")
			info, err = os.Lstat(path + queueSuffix)
			require.NoError(t, err)
			require.Equal(t, tc.dir, info.Mode().Perm(), "the queue directory")
		})
	}
}
