package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lockstress/lockstress/stress"
)

// The files lockstress writes (-json, -html, html -o, -hgrm) are checked before
// a run and written whole after it, through a temporary file renamed into
// place: a mistyped flag, a failed set-up or a failed write leaves a file
// that was already there as it was, and no partial one. (Only where the
// directory takes no new file, and the file there is writable, is it
// written in place.)

// checkWritable fails early, naming the path and the cause, when path
// cannot be written, so that no run is made whose report is lost. It
// leaves no file behind, and a file already there unchanged.
func checkWritable(path string) error {
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return &fs.PathError{Op: "write", Path: path, Err: errors.New("is a directory")}
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return f.Close()
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	return errors.Join(f.Close(), os.Remove(path))
}

// writeOutput writes data to path, or to stdout when path is "-", through
// a temporary file beside path, so that a failure leaves no partial file.
// Where the directory takes no new file from this user but the file is
// writable (checkWritable allows that), it writes the file in place.
// An error names path, not the temporary file.
func writeOutput(path string, stdout io.Writer, data []byte) error {
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	err := replaceWhole(path, data)
	if errors.Is(err, fs.ErrPermission) {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		return &fs.PathError{Op: "write", Path: path, Err: cause(err)}
	}
	return nil
}

// replaceWhole puts a file holding data at path, through a temporary file
// beside it renamed into place.
func replaceWhole(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".lockstress-*"+filepath.Ext(path))
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err = errors.Join(err, tmp.Chmod(0o644), tmp.Close()); err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// cause returns the error a *fs.PathError or *os.LinkError wraps, or err.
func cause(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// writeJSON writes the document as indented JSON to path ("-" for stdout).
func writeJSON(path string, stdout io.Writer, doc *stress.Document) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return writeOutput(path, stdout, b.Bytes())
}
