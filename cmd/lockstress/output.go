package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lockstress/lockstress/stress"
	"github.com/lockstress/lockstress/stress/htmlreport"
)

// A report file (-json, -html, html -o, verify -json) is opened before the
// run, so that a path that cannot be written fails at once, and is emptied
// and written only after it: a run that fails (a mistyped flag, a failed
// set-up) leaves a file already there as it was, and a file made for it is
// removed. A file already there is opened as a shell's > opens it, with
// O_CREAT, so that the kernel's rules for a shared sticky directory such as
// /tmp (fs.protected_regular, fs.protected_fifos) refuse another user's
// file there as they refuse the shell (a file removed by another program
// between lockstress's two opens is then made again, and kept). It is
// written in place, through whatever is at the path, as a shell's
// redirection writes: a symbolic link is followed (its target made if
// missing), a hard link, a named pipe (whose open waits for a reader), a
// device or a bind-mounted file is written into, and the file keeps its
// mode and owner. Standard output or error named by path (/dev/stdout) is
// written after what is there, not over it. An open that waits for a pipe's
// reader ends when lockstress is interrupted (pipeopen.go). A report file
// is not swept by a later run: one made by a run killed (SIGKILL, a second
// signal) before it wrote is left empty.

// reportFile is a report's file, opened before the run.
type reportFile struct {
	path    string
	f       *os.File  // nil for standard output
	stdout  io.Writer // where "-" writes
	created bool      // made by openReport: removed if never written
}

// openReport opens path, or stdout when path is "-", for a report written
// after the run; a named pipe without a reader is waited for until ctx is
// done, saying so to stderr if it is not nil.
func openReport(ctx context.Context, path string, stdout, stderr io.Writer) (*reportFile, error) {
	if path == "-" {
		return &reportFile{path: path, stdout: stdout}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err == nil {
		return &reportFile{path: path, f: f, created: true}, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if target, ok := danglingLink(path); ok {
		// A symbolic link to nothing yet (O_EXCL follows no link): its
		// target is made, as a shell's > makes it, and removed if never
		// written.
		r, err := openReport(ctx, target, stdout, stderr)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return r, nil
	}
	if f, err = openWriting(ctx, path, stderr); err != nil {
		return nil, err
	}
	return &reportFile{path: path, f: f}, nil
}

// danglingLink returns the target of the symbolic link path, a relative
// one taken from the directory the link is in (its links followed, as the
// kernel follows them), if path is one and its target is missing.
func danglingLink(path string) (string, bool) {
	target, err := os.Readlink(path)
	if err != nil {
		return "", false
	}
	if !filepath.IsAbs(target) {
		dir, err := filepath.EvalSymlinks(filepath.Dir(path))
		if err != nil {
			return "", false
		}
		target = filepath.Join(dir, target)
	}
	_, err = os.Stat(path)
	return target, errors.Is(err, fs.ErrNotExist)
}

// write empties the file (a regular one) and writes data into it, and
// closes it. A report not written whole (a full disk) is no report: a file
// openReport made is removed, as that of a run that fails.
func (r *reportFile) write(data []byte) error {
	if r.f == nil {
		_, err := r.stdout.Write(data)
		return err
	}
	var err error
	if fi, serr := r.f.Stat(); serr != nil {
		err = serr
	} else if std := stdStream(fi); std != nil {
		// Standard output or error opened again (-json /dev/stdout):
		// written after what is there, through the stream's own offset,
		// which the new descriptor does not share.
		_, err = std.Write(data)
		return errors.Join(err, r.f.Close())
	} else if fi.Mode().IsRegular() {
		err = r.f.Truncate(0)
	}
	if err == nil {
		_, err = r.f.Write(data)
	}
	if err != nil {
		r.discard()
		return err
	}
	return r.f.Close()
}

// discard closes the file of a report that will not be written, and
// removes it if openReport made it and it is still at its path.
func (r *reportFile) discard() {
	if r == nil || r.f == nil {
		return
	}
	defer r.f.Close() // open until then, so that its inode is not reused meanwhile
	fi, err := r.f.Stat()
	if now, lerr := os.Lstat(r.path); r.created && err == nil && lerr == nil && os.SameFile(fi, now) {
		os.Remove(r.path)
	}
}

// stdStream returns os.Stdout or os.Stderr if fi is its file.
func stdStream(fi os.FileInfo) *os.File {
	for _, s := range []*os.File{os.Stdout, os.Stderr} {
		if sfi, err := s.Stat(); err == nil && os.SameFile(fi, sfi) {
			return s
		}
	}
	return nil
}

// sameFile reports whether two report files are one regular file, where
// the second would overwrite the first; into one pipe or device, or
// standard output, both are written one after the other.
func sameFile(a, b *reportFile) bool {
	if a == nil || b == nil || a.f == nil || b.f == nil {
		return false
	}
	fa, erra := a.f.Stat()
	fb, errb := b.f.Stat()
	return erra == nil && errb == nil && fa.Mode().IsRegular() && os.SameFile(fa, fb) && stdStream(fa) == nil
}

// writeJSON writes the document as indented JSON to the report file.
func writeJSON(r *reportFile, doc *stress.Document) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		r.discard()
		return err
	}
	return r.write(b.Bytes())
}

// runReports are the report files of a run: -json and -html.
type runReports struct{ json, html *reportFile }

// openReports opens the report files a run asks for; on failure it says
// why and returns the exit code.
func openReports(ctx context.Context, stderr, stdout io.Writer, sub string, o options) (*runReports, int, bool) {
	var r runReports
	var err error
	if o.json != "" {
		if r.json, err = openReport(ctx, o.json, stdout, stderr); err != nil {
			return nil, reportOpenFailed(stderr, sub, "-json", err), false
		}
	}
	if o.html != "" {
		if r.html, err = openReport(ctx, o.html, nil, stderr); err != nil {
			r.discard()
			return nil, reportOpenFailed(stderr, sub, "-html", err), false
		}
	}
	if sameFile(r.json, r.html) {
		r.discard()
		return nil, usageError(stderr, sub, "-json %s and -html %s are one file", o.json, o.html), false
	}
	return &r, 0, true
}

// write writes the document to the report files; it returns false, having
// said why, when it could not.
func (r *runReports) write(stderr io.Writer, doc *stress.Document) bool {
	ok := true
	if r.json != nil {
		if err := writeJSON(r.json, doc); err != nil {
			fmt.Fprintf(stderr, "lockstress: -json: %v\n", err)
			ok = false
		}
		r.json = nil
	}
	if r.html != nil {
		if err := writeHTML(r.html, htmlreport.Source{Doc: doc}); err != nil {
			fmt.Fprintf(stderr, "lockstress: -html: %v\n", err)
			ok = false
		}
		r.html = nil
	}
	return ok
}

// discard discards the report files not written.
func (r *runReports) discard() {
	r.json.discard()
	r.html.discard()
}
