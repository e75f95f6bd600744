//go:build unix

package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestReportWrittenThroughWhatIsThere: a report file is written in place,
// through whatever is at its path, as a shell's redirection writes: a
// symbolic link's target gets it and the link stays; both names of a hard
// link see it; the file keeps its mode; a named pipe's reader reads it.
func TestReportWrittenThroughWhatIsThere(t *testing.T) {
	report := []byte(`{"new": true}`)
	earlier := []byte("an earlier report, longer than the new one")
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) (path, target string)
	}{
		{"a symbolic link", func(t *testing.T, dir string) (string, string) {
			target := filepath.Join(dir, "target")
			mustWrite(t, target, earlier, 0o644)
			must(t, os.Symlink(target, filepath.Join(dir, "link")))
			return filepath.Join(dir, "link"), target
		}},
		{"a hard link", func(t *testing.T, dir string) (string, string) {
			other := filepath.Join(dir, "other")
			mustWrite(t, other, earlier, 0o644)
			must(t, os.Link(other, filepath.Join(dir, "report")))
			return filepath.Join(dir, "report"), other
		}},
		{"a private file", func(t *testing.T, dir string) (string, string) {
			path := filepath.Join(dir, "report")
			mustWrite(t, path, earlier, 0o600)
			return path, path
		}},
		{"no file", func(t *testing.T, dir string) (string, string) {
			path := filepath.Join(dir, "report")
			return path, path
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, target := tc.setup(t, t.TempDir())
			before, _ := os.Lstat(path)
			r, err := openReport(path, nil)
			must(t, err)
			must(t, r.write(report))
			if got, err := os.ReadFile(target); err != nil || !bytes.Equal(got, report) {
				t.Errorf("%s holds %q (%v), want %q", target, got, err, report)
			}
			after, err := os.Lstat(path)
			must(t, err)
			if before != nil && (after.Mode() != before.Mode() || !os.SameFile(before, after)) {
				t.Errorf("%s was %v, is now %v, another file", path, before.Mode(), after.Mode())
			}
		})
	}
	t.Run("a named pipe", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "pipe")
		must(t, syscall.Mkfifo(path, 0o600))
		got := make(chan []byte, 1)
		go func() {
			f, err := os.Open(path) // waits for the writer, as a reader of a pipe does
			if err != nil {
				got <- []byte(err.Error())
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- b
		}()
		r, err := openReport(path, nil)
		must(t, err)
		must(t, r.write(report))
		select {
		case b := <-got:
			if !bytes.Equal(b, report) {
				t.Errorf("the pipe's reader read %q, want %q", b, report)
			}
		case <-time.After(time.Minute):
			t.Fatal("the pipe's reader read no end")
		}
	})
}

// TestReportNotWrittenIsDiscarded: the file of a report that is not
// written is left as it was if it was there, removed if it was made for
// it, and left if something else has taken its path since.
func TestReportNotWrittenIsDiscarded(t *testing.T) {
	dir := t.TempDir()
	there := filepath.Join(dir, "there")
	mustWrite(t, there, []byte("earlier"), 0o644)
	r, err := openReport(there, nil)
	must(t, err)
	r.discard()
	if got, err := os.ReadFile(there); err != nil || string(got) != "earlier" {
		t.Errorf("%s became %q (%v)", there, got, err)
	}
	made := filepath.Join(dir, "made")
	r, err = openReport(made, nil)
	must(t, err)
	r.discard()
	if _, err := os.Lstat(made); err == nil {
		t.Errorf("%s, made for a report not written, left", made)
	}
	r, err = openReport(made, nil)
	must(t, err)
	must(t, os.Remove(made))
	mustWrite(t, made, []byte("another's"), 0o644)
	r.discard()
	if got, err := os.ReadFile(made); err != nil || string(got) != "another's" {
		t.Errorf("another file at %s removed or changed: %q (%v)", made, got, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path string, data []byte, perm os.FileMode) {
	t.Helper()
	must(t, os.WriteFile(path, data, perm))
	must(t, os.Chmod(path, perm)) // whatever the umask
}
