package fsys

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// OS is the real filesystem of the operating system. On Linux, macOS, the
// BSDs and Solaris its files are raw descriptors, without the runtime's
// poller and finalizer, since lock files are opened and closed at a high
// rate; elsewhere they are *os.File.
type OS struct{}

var _ FS = OS{}

// Remove removes name.
func (OS) Remove(name string) error { return os.Remove(name) }

// Rename renames oldname to newname.
func (OS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

// Link makes newname a hard link to oldname.
func (OS) Link(oldname, newname string) error { return os.Link(oldname, newname) }

// MkdirAll creates name and any missing parents.
func (OS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }

// Mkdir creates name, whose parent exists.
func (OS) Mkdir(name string, perm fs.FileMode) error { return os.Mkdir(name, perm) }

// ReadDirNames returns the names in the directory name.
func (OS) ReadDirNames(name string) ([]string, error) { return readDirNames(name) }

// ScanDir calls fn with the name of every entry of the directory name but
// "." and "..", in the directory's order. The name is valid only during
// the call. On Linux it allocates only the copy of the directory's name for
// the system call (ReadDirNames makes a string of every name).
func (OS) ScanDir(name string, fn func(name []byte)) error { return scanDir(name, fn) }

// CreateExcl creates name exclusively, never following a symbolic link.
func (OS) CreateExcl(name string, perm fs.FileMode) (File, error) {
	return openFile(name, oRDWR|oCREAT|oEXCL, perm)
}

// OpenRead opens name for reading, never following a final symbolic link
// and never blocking on a FIFO.
func (OS) OpenRead(name string) (File, error) { return OpenReadOnly(name) }

// OpenLockFile opens name for reading and writing, creating it with
// exactly the permission bits perm (see SetPerm) if it does not exist,
// never following a final symbolic link and never blocking on a FIFO. The
// descriptor is not inherited by child processes.
func OpenLockFile(name string, perm fs.FileMode) (OSFile, error) {
	for {
		f, err := openFile(name, oRDWR, 0)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
		if missingHook != nil {
			missingHook(name)
		}
		// Made exclusively, so that only its maker sets its mode.
		f, err = openFile(name, oRDWR|oCREAT|oEXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue // made by another process meanwhile
		}
		if err != nil {
			return nil, err
		}
		if _, err := SetPerm(f, perm); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
}

// missingHook, for tests, runs when OpenLockFile has found name missing,
// before it makes it: another process may make it there.
var missingHook func(name string)

// OpenReadOnly opens an existing name for reading like OpenLockFile.
func OpenReadOnly(name string) (OSFile, error) { return openFile(name, oRDONLY, 0) }

// OpenWriteOnly opens an existing name for writing like OpenLockFile,
// without creating it.
func OpenWriteOnly(name string) (OSFile, error) { return openFile(name, oWRONLY, 0) }

// OSFile is an open file of the operating system.
type OSFile interface {
	File
	io.ReaderAt
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Fd returns the descriptor (Unix) or handle (Windows).
	Fd() uintptr
}
