package filelock

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTicketMode: a fair waiter's ticket, which other users' waiters read
// to judge the waiter ahead, gets exactly WithPerm's mode whatever the
// umask (077 here, inherited by the holder's process, whose ticket it is).
func TestTicketMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	old := syscall.Umask(0o077)
	release := startReleasingHolder(t, Soft, path, "FILELOCK_TEST_FAIR=1")
	syscall.Umask(old)
	defer release()
	waitQueueLen(t, path, 1)
	names, err := os.ReadDir(path + queueSuffix)
	require.NoError(t, err)
	info, err := os.Lstat(filepath.Join(path+queueSuffix, names[0].Name()))
	require.NoError(t, err)
	require.Equal(t, DefaultPerm, info.Mode().Perm())
}
