//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
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
		{"a symbolic link to nothing yet", func(t *testing.T, dir string) (string, string) {
			must(t, os.Symlink("later", filepath.Join(dir, "link")))
			return filepath.Join(dir, "link"), filepath.Join(dir, "later")
		}},
		{"a symbolic link to nothing, through a linked directory", func(t *testing.T, dir string) (string, string) {
			// The link's target is taken from where the link is (real/sub),
			// as a shell's > takes it, not from the path's text (a).
			must(t, os.MkdirAll(filepath.Join(dir, "real", "sub"), 0o755))
			must(t, os.Symlink(filepath.Join("real", "sub"), filepath.Join(dir, "a")))
			must(t, os.Symlink(filepath.Join("..", "later"), filepath.Join(dir, "real", "sub", "link")))
			return filepath.Join(dir, "a", "link"), filepath.Join(dir, "real", "later")
		}},
		{"no file", func(t *testing.T, dir string) (string, string) {
			path := filepath.Join(dir, "report")
			return path, path
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, target := tc.setup(t, t.TempDir())
			before, _ := os.Lstat(path)
			r, err := openReport(context.Background(), path, nil, nil)
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
		// The reader first, without waiting for a writer; then the
		// report's open, which a reader lets through at once.
		reader, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		must(t, err)
		defer reader.Close()
		r, err := openReport(context.Background(), path, nil, nil)
		must(t, err)
		must(t, r.write(report))
		if got, err := io.ReadAll(reader); err != nil || !bytes.Equal(got, report) {
			t.Errorf("the pipe's reader read %q (%v), want %q", got, err, report)
		}
	})
	t.Run("standard output", func(t *testing.T) {
		// Standard output is a log with a line in it, opened to append.
		log := filepath.Join(t.TempDir(), "log")
		mustWrite(t, log, []byte("a line already there\n"), 0o644)
		out, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
		must(t, err)
		defer out.Close()
		saved := os.Stdout
		os.Stdout = out
		defer func() { os.Stdout = saved }()
		named := fmt.Sprintf("/dev/fd/%d", out.Fd())
		if _, err := os.Stat(named); err != nil {
			t.Skipf("no %s here: %v", named, err)
		}
		r, err := openReport(context.Background(), named, nil, nil)
		must(t, err)
		must(t, r.write(report))
		want := append([]byte("a line already there\n"), report...)
		if got, err := os.ReadFile(log); err != nil || !bytes.Equal(got, want) {
			t.Errorf("standard output holds %q (%v), want %q", got, err, want)
		}
	})
}

// TestReportNotWrittenIsDiscarded: the file of a report that is not
// written is left as it was if it was there, removed if it was made for
// it (also through a symbolic link to nothing, which stays), and left if
// something else has taken its path since.
func TestReportNotWrittenIsDiscarded(t *testing.T) {
	dir := t.TempDir()
	there := filepath.Join(dir, "there")
	mustWrite(t, there, []byte("earlier"), 0o644)
	r, err := openReport(context.Background(), there, nil, nil)
	must(t, err)
	r.discard()
	if got, err := os.ReadFile(there); err != nil || string(got) != "earlier" {
		t.Errorf("%s became %q (%v)", there, got, err)
	}
	made := filepath.Join(dir, "made")
	r, err = openReport(context.Background(), made, nil, nil)
	must(t, err)
	r.discard()
	if _, err := os.Lstat(made); err == nil {
		t.Errorf("%s, made for a report not written, left", made)
	}
	link, later := filepath.Join(dir, "link"), filepath.Join(dir, "later")
	must(t, os.Symlink("later", link))
	r, err = openReport(context.Background(), link, nil, nil)
	must(t, err)
	r.discard()
	if _, err := os.Lstat(later); err == nil {
		t.Errorf("%s, made through %s for a report not written, left", later, link)
	}
	if _, err := os.Readlink(link); err != nil {
		t.Errorf("the link %s itself removed: %v", link, err)
	}
	r, err = openReport(context.Background(), made, nil, nil)
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
