package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody owns the other user's files of the sticky-directory test.
const nobody = 65534

// TestReportRefusedWhereAShellIs: a report file that another user made in
// a shared sticky directory, as /tmp, is opened only where a shell's >>
// may open it, so that the kernel's fs.protected_regular and
// fs.protected_fifos refuse it to lockstress as they refuse it to the
// shell; a refused file is left as it was, and nothing is made beside it.
// The refusal is checked only where the system turns those checks on
// (fs.protected_regular=2 on Ubuntu); where they are off, both open the
// file, and the test checks that it is opened in place and left as it was.
func TestReportRefusedWhereAShellIs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give a file in a sticky directory another user")
	}
	earlier := []byte("another user's file")
	for _, tc := range []struct {
		name, sysctl string
		make         func(path string) error
	}{
		{"a regular file", "protected_regular", func(p string) error { return os.WriteFile(p, earlier, 0o666) }},
		{"a named pipe", "protected_fifos", func(p string) error { return syscall.Mkfifo(p, 0o666) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.Chmod(dir, 0o777|os.ModeSticky))
			path := filepath.Join(dir, "report")
			must(t, tc.make(path))
			must(t, os.Chmod(path, 0o666))
			if err := os.Chown(path, nobody, nobody); errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EPERM) {
				t.Skipf("no user %d to give the file (a user namespace without it mapped?): %v", nobody, err)
			} else {
				must(t, err)
			}
			if tc.sysctl == "protected_fifos" {
				// A reader, so that neither open waits for one.
				reader, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
				must(t, err)
				defer reader.Close()
			}
			refused := protectionOn(t, tc.sysctl)
			shellErr := exec.Command("sh", "-c", `: >> "$1"`, "sh", path).Run()
			if (shellErr != nil) != refused {
				t.Fatalf("fs.%s says refused=%v, but the shell's open gave %v", tc.sysctl, refused, shellErr)
			}
			t.Logf("fs.%s: the shell refused: %v", tc.sysctl, refused)

			r, err := openReport(context.Background(), path, nil, nil)
			switch {
			case refused && err == nil:
				r.discard()
				t.Errorf("openReport(%s) opened another user's file that the shell may not open", path)
			case refused && (!errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path)):
				t.Errorf("openReport(%s): %v, want a permission error naming the path", path, err)
			case !refused && err != nil:
				t.Errorf("openReport(%s): %v, where the shell opened it", path, err)
			case !refused:
				r.discard()
			}
			assertUntouched(t, path, tc.sysctl == "protected_regular", earlier)
		})
	}
}

// protectionOn reports whether the kernel's fs.name (protected_regular,
// protected_fifos) refuses an open with O_CREAT of another user's file in
// a world-writable sticky directory.
func protectionOn(t *testing.T, name string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/fs/" + name)
	if err != nil {
		t.Skipf("this kernel has no fs.%s: %v", name, err)
	}
	return strings.TrimSpace(string(b)) != "0"
}

// assertUntouched fails unless path is still nobody's and, when it is a
// regular file, holds data, and is the only file of its directory.
func assertUntouched(t *testing.T, path string, regular bool, data []byte) {
	t.Helper()
	fi, err := os.Lstat(path)
	must(t, err)
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody {
		t.Errorf("%s is now owned by %d", path, st.Uid)
	}
	if regular { // a named pipe's read would wait for a writer
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s holds %q (%v), want %q", path, got, err, data)
		}
	}
	if entries, err := os.ReadDir(filepath.Dir(path)); err != nil || len(entries) != 1 {
		t.Errorf("%s holds %d entries (%v), want only %s", filepath.Dir(path), len(entries), err, filepath.Base(path))
	}
}
