//go:build linux

package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func mkfifo(path string) error { return unix.Mkfifo(path, 0o644) }

func init() {
	// unwritable: as an unprivileged user, acquire a lock in a directory
	// that user cannot write; every acquisition must fail at once with
	// permission denied and leave nothing behind.
	childRoles["unwritable"] = func() error {
		path := envOf("FILELOCK_TEST_LOCK")
		l, err := New(path, WithStrategy(childStrategy()))
		if err != nil {
			return err
		}
		for _, acquire := range []func() error{l.TryLock, l.Lock} {
			err := acquire()
			var pe *fs.PathError
			if !errors.Is(err, fs.ErrPermission) || errors.Is(err, ErrWouldBlock) || !errors.As(err, &pe) || pe.Path != path {
				return fmt.Errorf("want permission denied naming %s, got %v", path, err)
			}
		}
		return nil
	}
}

func TestUnwritableDirectory(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		if os.Geteuid() != 0 {
			dir := t.TempDir()
			require.NoError(t, os.Chmod(dir, 0o555))
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			requireImmediateError(t, s, filepath.Join(dir, "x.lock"), dir, fs.ErrPermission)
			return
		}
		// Root may write anywhere: run the check as the unprivileged user
		// nobody, from a copy of the test binary that user can execute.
		dir, err := os.MkdirTemp("", "unwritable")
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(dir) })
		require.NoError(t, os.Chmod(dir, 0o755))
		exe, err := os.Executable()
		require.NoError(t, err)
		data, err := os.ReadFile(exe)
		require.NoError(t, err)
		copyExe := filepath.Join(dir, "filelock.test")
		require.NoError(t, os.WriteFile(copyExe, data, 0o755))
		lockDir := filepath.Join(dir, "locks")
		require.NoError(t, os.Mkdir(lockDir, 0o755)) // owned by root: nobody cannot write

		cmd := childCommand(t, "unwritable", "FILELOCK_TEST_LOCK="+filepath.Join(lockDir, "x.lock"),
			"FILELOCK_TEST_STRATEGY="+s.String())
		cmd.Path = copyExe
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Empty(t, dirEntries(t, lockDir))
	})
}

func TestReadOnlyFilesystem(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("mounting a read-only tmpfs needs root (CI runs the suite as root)")
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_RDONLY, "size=64k"); err != nil {
		t.Fatalf("mounting a read-only tmpfs as root: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		requireImmediateError(t, s, filepath.Join(dir, "x.lock"), dir, syscall.EROFS)
	})
}

// TestFullDiskKernelLock: on a full filesystem, where no holder record can
// be written, an os or ofd lock is still taken, since the kernel's lock
// needs no space: it is held without a record, and the file stays empty.
// A default waiter whose ticket cannot be written waits without the queue
// instead of failing. (A soft or link lock is a file with its record, and
// needs the space.)
func TestFullDiskKernelLock(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs the suite as root)")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("mounting a tmpfs as root: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	kernel := []Strategy{OS, OFD}
	for _, s := range kernel {
		require.NoError(t, os.WriteFile(filepath.Join(dir, s.String()+".lock"), nil, 0o644))
	}
	fillDisk(t, filepath.Join(dir, "filler"))
	for _, s := range kernel {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(dir, s.String()+".lock")
			h := newLock(t, path, WithStrategy(s), withFS(otherFS{}))
			require.NoError(t, h.TryLock(), "the kernel's lock needs no space")
			st, err := h.Inspect()
			require.NoError(t, err)
			require.True(t, st.Held)
			require.Nil(t, st.Holder, "held without a record")

			w := newLock(t, path, WithStrategy(s))
			got := lockInBackground(t, w)
			select {
			case err := <-got:
				t.Fatalf("the waiter did not wait: %v", err)
			case <-time.After(10 * w.bargeBound()): // past its bound: it tried to queue
			}
			require.NoError(t, h.Unlock())
			require.NoError(t, recv(t, got))
			require.NoError(t, w.Unlock())
			info, err := os.Stat(path)
			require.NoError(t, err)
			require.Zero(t, info.Size(), "the lock file stays empty")
		})
	}
	require.Equal(t, "filler,ofd.lock,os.lock", dirEntries(t, dir), "no queue or ticket left behind")
}

// fillDisk writes path until its filesystem is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return
		}
	}
}

// TestKernelLockOnAReadOnlyFilesystem: a lock file that exists on a
// read-only filesystem is locked as one this user may only read: opened
// read-only, locked where the kernel allows it on such a descriptor (any
// flock; a shared OFD lock), with no record written; an exclusive OFD
// lock, which needs write access, fails at once saying so.
func TestKernelLockOnAReadOnlyFilesystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs the suite as root)")
	}
	dir := t.TempDir()
	require.NoError(t, unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"))
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	const foreign = "another program's content\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty.lock"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "foreign.lock"), []byte(foreign), 0o644))
	require.NoError(t, unix.Mount("tmpfs", dir, "tmpfs", unix.MS_REMOUNT|unix.MS_RDONLY, "size=64k"))
	for _, tc := range readOnlyLocks {
		for _, content := range []string{"", foreign} {
			name := map[string]string{"": "empty", foreign: "foreign"}[content]
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				path := filepath.Join(dir, name+".lock")
				opts := []Option{WithStrategy(tc.strategy)}
				if tc.shared {
					opts = append(opts, WithShared())
				}
				if tc.denied {
					requireImmediateError(t, tc.strategy, path, dir, syscall.EROFS, opts...)
					return
				}
				l := newLock(t, path, opts...)
				require.NoError(t, l.TryLock())
				st, err := Inspect(path, WithStrategy(tc.strategy))
				require.NoError(t, err)
				require.True(t, st.Held, "the kernel lock is taken")
				require.NoError(t, l.Unlock())
				got, err := os.ReadFile(path)
				require.NoError(t, err)
				require.Equal(t, content, string(got))
			})
		}
	}
}

// TestReadOnlyHolderFindsTheOtherFamily: a holder that opens the lock file
// read-only (here through a read-only bind mount) writes no record, but
// still finds the live record of a holder of the other kernel family
// (ofd, whose locks flock does not see) and gives the lock up with
// ErrMixedStrategies rather than hold it beside it.
func TestReadOnlyHolderFindsTheOtherFamily(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root (CI runs the suite as root)")
	}
	dir, ro := t.TempDir(), t.TempDir()
	require.NoError(t, unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"))
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	require.NoError(t, unix.Mount(dir, ro, "", unix.MS_BIND, ""))
	t.Cleanup(func() { unix.Unmount(ro, 0) })
	require.NoError(t, unix.Mount("", ro, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""))
	_, stop := startHolder(t, OFD, filepath.Join(dir, "x.lock"))
	defer stop()
	l := newLock(t, filepath.Join(ro, "x.lock"), WithStrategy(OS))
	require.ErrorIs(t, l.TryLock(), ErrMixedStrategies)
	require.Zero(t, l.Depth())
}
