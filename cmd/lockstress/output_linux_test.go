package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// fsImmutable is the inode flag (chattr +i) that makes a directory take no
// new file, even from root, while the files in it stay writable.
const fsImmutable = 0x10

// immutable makes dir immutable until the test ends, or skips the test
// where that cannot be done (no CAP_LINUX_IMMUTABLE, or a filesystem
// without inode flags).
func immutable(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.IoctlGetInt(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err == nil {
		err = unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, flags|fsImmutable)
	}
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOTTY) || errors.Is(err, syscall.EOPNOTSUPP) {
		t.Skipf("cannot make %s immutable (needs root and a filesystem with inode flags): %v", dir, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f, err := os.Open(dir)
		if err == nil {
			err = errors.Join(unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, flags), f.Close())
		}
		if err != nil {
			t.Errorf("making %s mutable again: %v", dir, err)
		}
	})
}

// TestReportWrittenInPlaceWhereTheDirectoryTakesNoFile: a report file that
// is writable in a directory that takes no new file (so no temporary file
// beside it) passes the check before the run and is written in place
// after it, where a report would otherwise be lost at the end of the run.
func TestReportWrittenInPlaceWhereTheDirectoryTakesNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := os.WriteFile(path, []byte("an earlier report, longer than the new one"), 0o644); err != nil {
		t.Fatal(err)
	}
	immutable(t, dir)
	if err := checkWritable(path); err != nil {
		t.Fatalf("checkWritable: %v", err)
	}
	report := []byte(`{"new": true}`)
	if err := writeOutput(path, nil, report); err != nil {
		t.Fatalf("writeOutput: %v", err)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, report) {
		t.Errorf("the report file holds %q (%v), want %q", got, err, report)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("left in %s: %v", dir, left)
	}
	missing := filepath.Join(dir, "new.json")
	if err := checkWritable(missing); !errors.Is(err, os.ErrPermission) {
		t.Errorf("checkWritable of a new file there: %v, want a permission error", err)
	}
}
