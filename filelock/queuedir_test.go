//go:build unix

package filelock

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/fsys"
)

// TestFairQueueDirectoryChecked: the fair queue is used only if it is a
// real directory that no one but the lock's users can change; a symbolic
// link in its place, or a queue others may write or another user owns, is
// refused with ErrUnsafeDirectory, and nothing is made through it.
func TestFairQueueDirectoryChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		perm fs.FileMode // the lock's permission
		make func(t *testing.T, queue, elsewhere string)
		root bool // needs root, to give the queue to another user
		safe bool
	}{
		{"own", 0o644, func(t *testing.T, q, _ string) { mkdirMode(t, q, 0o755) }, false, true},
		{"symlink", 0o644, func(t *testing.T, q, e string) { require.NoError(t, os.Symlink(e, q)) }, false, false},
		{"symlink, group lock", 0o664, func(t *testing.T, q, e string) { require.NoError(t, os.Symlink(e, q)) }, false, false},
		{"writable by all", 0o664, func(t *testing.T, q, _ string) { mkdirMode(t, q, 0o777) }, false, false},
		{"writable by group", 0o644, func(t *testing.T, q, _ string) { mkdirMode(t, q, 0o775) }, false, false},
		{"writable by group, group lock", 0o664, func(t *testing.T, q, _ string) { mkdirMode(t, q, 0o775) }, false, true},
		{"another user's", 0o644, func(t *testing.T, q, _ string) {
			mkdirMode(t, q, 0o755)
			require.NoError(t, os.Chown(q, 65534, 65534))
		}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("giving the queue to another user (nobody) needs root")
			}
			dir, elsewhere := t.TempDir(), t.TempDir()
			path := filepath.Join(dir, "x.lock")
			tc.make(t, path+queueSuffix, elsewhere)
			l := newLock(t, path, WithFair(), WithPerm(tc.perm), WithTimeout(10*time.Second))
			for name, acquire := range map[string]func() error{"TryLock": l.TryLock, "Lock": l.Lock} {
				if err := acquire(); !takenOrUnsafe(t, l, path, name, err, tc.safe) {
					require.Contains(t, err.Error(), path+queueSuffix)
				}
			}
			require.Equal(t, "", dirEntries(t, elsewhere), "nothing made through the link")
		})
	}
}

// takenOrUnsafe checks the result err of an acquisition of l, made as
// how says: taken, and then released, if safe, and else refused with
// ErrUnsafeDirectory in an *fs.PathError of path. It reports safe.
func takenOrUnsafe(t *testing.T, l *Lock, path, how string, err error, safe bool) bool {
	t.Helper()
	if safe {
		require.NoError(t, err, how)
		require.NoError(t, l.Unlock(), how)
		return true
	}
	require.ErrorIs(t, err, ErrUnsafeDirectory, how)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe, how)
	require.Equal(t, path, pe.Path, how)
	return false
}

// mkdirOwned makes dir of mode and gives it to the user and group owner,
// keeping the mode (chown may clear bits of it).
func mkdirOwned(t *testing.T, dir string, mode fs.FileMode, owner int) {
	t.Helper()
	mkdirMode(t, dir, mode)
	require.NoError(t, os.Chown(dir, owner, owner))
	require.NoError(t, os.Chmod(dir, mode))
}

func mkdirMode(t *testing.T, dir string, mode fs.FileMode) {
	t.Helper()
	require.NoError(t, os.Mkdir(dir, mode))
	require.NoError(t, os.Chmod(dir, mode))
}

// TestFairQueuePlantedByOtherUser: the attacker (users_test.go) makes the
// fair queue <lock>.queue before the victim's fair lock: a symbolic link
// to a directory of the victim's, or a directory of the attacker's. The
// victim refuses it with ErrUnsafeDirectory and makes nothing through the
// link; with nothing planted it takes the lock.
func TestFairQueuePlantedByOtherUser(t *testing.T) {
	us := multiUser(t)
	for _, tc := range []struct {
		name  string
		team  bool   // in the team directory, else the sticky shared one
		perm  string // the lock's permission; "" the default
		plant string // what the attacker makes at the queue's path; "" nothing
		mode  string // the mode of a directory planted
		want  string
	}{
		{"nothing planted", false, "", "", "", "taken"},
		{"symlink", false, "", "symlink", "", "unsafe"},
		{"symlink, group lock", true, "664", "symlink", "", "unsafe"},
		{"attacker's directory", false, "", "dir", "755", "unsafe"},
		{"attacker's directory writable by all", true, "664", "dir", "777", "unsafe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := us.shared
			if tc.team {
				dir = us.team
			}
			name := freshName(t, dir)
			path, elsewhere := name+".lock", name+".elsewhere"
			us.victimDir(t, elsewhere)
			if tc.plant != "" {
				require.Equal(t, "planted", us.run(t, us.attacker, "plant", "FILELOCK_TEST_PLANT="+tc.plant,
					"FILELOCK_TEST_AT="+path+queueSuffix, "FILELOCK_TEST_TO="+elsewhere, "FILELOCK_TEST_MODE="+tc.mode))
			}
			for _, blocking := range []string{"", "1"} {
				got := us.run(t, us.victim, "lockas", "FILELOCK_TEST_LOCK="+path, "FILELOCK_TEST_STRATEGY=soft",
					"FILELOCK_TEST_FAIR=1", "FILELOCK_TEST_PERM="+tc.perm, "FILELOCK_TEST_BLOCKING="+blocking)
				require.Equal(t, tc.want, got, "blocking %q", blocking)
			}
			require.Equal(t, "", dirEntries(t, elsewhere), "nothing made through the link")
		})
	}
}

// TestVanished: a queue file that is not there, or whose directory another
// NFS client removed while it was open here, is gone; other errors are not.
func TestVanished(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&fs.PathError{Op: "open", Path: "q/t", Err: syscall.ENOENT}, true},
		{&fs.PathError{Op: "open", Path: "q/t", Err: syscall.ESTALE}, true},
		{&fs.PathError{Op: "open", Path: "q/t", Err: syscall.EACCES}, false},
		{&fs.PathError{Op: "open", Path: "q/t", Err: syscall.EIO}, false},
		{nil, false},
	} {
		require.Equal(t, tc.want, vanished(tc.err), "%v", tc.err)
	}
}

// TestFairQueueSharedByAGroup: a group's fair lock (WithPerm(0o664), in a
// set-group-ID directory of the group) queues a user of the group behind
// another whose umask is 077: the queue directory that user made, and the
// ticket in it, are given the lock's modes, which the umask would have
// made that user's alone.
func TestFairQueueSharedByAGroup(t *testing.T) {
	us := multiUser(t)
	path := freshName(t, us.team) + ".lock"
	common := []string{"FILELOCK_TEST_LOCK=" + path, "FILELOCK_TEST_STRATEGY=soft", "FILELOCK_TEST_FAIR=1", "FILELOCK_TEST_PERM=664", "FILELOCK_TEST_HOLD=1"}
	holder := us.start(t, us.victim, "lockas", common...)
	require.Equal(t, "taken", holder.line(t))
	first := us.start(t, us.victim, "lockas", append(common, "FILELOCK_TEST_UMASK=077", "FILELOCK_TEST_BLOCKING=1")...)
	waitQueueLen(t, path, 1) // the queue directory made by a waiter of umask 077
	second := us.start(t, us.attacker, "lockas", append(common, "FILELOCK_TEST_BLOCKING=1")...)
	waitQueueLen(t, path, 2)
	holder.stop(t)
	require.Equal(t, "taken", first.line(t))
	first.stop(t)
	require.Equal(t, "taken", second.line(t), "the other user of the group")
	second.stop(t)
}

// Something that is not a regular file at a ticket's name in the queue (a
// FIFO or a directory that someone who may write the queue directory put
// there) makes the queue unsafe: a fair acquisition fails with
// ErrUnsafeDirectory, and a default one waits for the lock without the
// queue, as it does beside any queue it cannot use.
func TestNotATicketAtATicketsName(t *testing.T) {
	for _, kind := range []string{"fifo", "directory"} {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			_, release := startHolder(t, Soft, path) // another process: a handle of this one would wait in the process
			queue := path + ".queue"
			require.NoError(t, os.Mkdir(queue, 0o755))
			name := filepath.Join(queue, "00000000000000000001-0123456789abcdef0123456789abcdef")
			if kind == "fifo" {
				require.NoError(t, syscall.Mkfifo(name, 0o644))
			} else {
				require.NoError(t, os.Mkdir(name, 0o755))
			}

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			fair := newLock(t, path, WithFair())
			err := fair.LockContext(ctx)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, path, pe.Path)
			require.ErrorIs(t, err, ErrUnsafeDirectory)

			// The default handle queues after a millisecond of tries.
			l := newLock(t, path, WithBackoff(time.Millisecond, time.Millisecond))
			done := make(chan error, 1)
			go func() { done <- l.LockContext(ctx) }()
			select {
			case err := <-done:
				t.Fatalf("the default acquisition ended while the lock was held: %v", err)
			case <-time.After(500 * time.Millisecond):
			}
			release()
			require.NoError(t, <-done)
			require.NoError(t, l.Unlock())
		})
	}
}

// strangerMkdirFS makes the queue directory as another user (nobody),
// mode 0700, just before this process's own attempt to make it: the race
// of an outsider with a waiter that found the queue missing.
type strangerMkdirFS struct{ fsys.OS }

func (s strangerMkdirFS) stranger(name string) {
	if strings.HasSuffix(name, queueSuffix) {
		if os.Mkdir(name, 0o700) == nil {
			_ = os.Chown(name, nobody, nobody)
		}
	}
}

func (s strangerMkdirFS) Mkdir(name string, perm fs.FileMode) error {
	s.stranger(name)
	return s.OS.Mkdir(name, perm)
}

func (s strangerMkdirFS) MkdirAll(name string, perm fs.FileMode) error {
	s.stranger(name)
	return s.OS.MkdirAll(name, perm)
}

// A queue directory another user made just before this waiter's own
// attempt is not taken for this waiter's: it is neither given the lock's
// mode nor removed when the queue cannot be used in it.
func TestQueueDirectoryMadeByAnotherFirst(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a directory as another user (nobody) needs root")
	}
	path := filepath.Join(tempDirMode(t, 0o777|fs.ModeSticky), "x.lock")
	l := newLock(t, path, WithFair(), withFS(strangerMkdirFS{}))
	ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
	defer cancel()
	require.ErrorIs(t, l.LockContext(ctx), ErrUnsafeDirectory)
	info, err := (fsys.OS{}).Lstat(path + queueSuffix)
	require.NoError(t, err, "the other user's directory removed")
	require.Equal(t, fs.FileMode(0o700), info.Mode.Perm(), "the other user's directory given the lock's mode")
	require.Equal(t, uint32(nobody), info.Uid)
}

// A default wait that ends (its deadline) in the queue, whose ticket then
// cannot be removed, says both, and is not begun again without the queue.
func TestDefaultWaitEndedInTheQueueSaysWhatStays(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	_, release := startHolder(t, Soft, path)
	defer release()
	ffs := &faultFS{remove: func(name string) error {
		if filepath.Base(filepath.Dir(name)) == "x.lock.queue" && filepath.Base(name) != turnName {
			return &fs.PathError{Op: "remove", Path: name, Err: syscall.EACCES}
		}
		return nil
	}}
	l := newLock(t, path, WithBackoff(time.Millisecond, time.Millisecond), withFS(ffs))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := l.LockContext(ctx)
	ffs.remove = nil
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, fs.ErrPermission, "the ticket that could not be removed")
}
