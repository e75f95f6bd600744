package fsys

import (
	"io/fs"
	"os"
)

// OS is the real filesystem of the operating system.
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

// CreateExcl creates name exclusively, never following a symbolic link.
func (OS) CreateExcl(name string, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|oNoFollow, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// OpenRead opens name for reading, never following a final symbolic link
// and never blocking on a FIFO.
func (OS) OpenRead(name string) (File, error) {
	f, err := OpenReadOnly(name)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// Lstat describes name without following a final symbolic link.
func (OS) Lstat(name string) (Info, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return Info{}, err
	}
	return infoOf(name, fi), nil
}

// Stat describes name, following symbolic links.
func (OS) Stat(name string) (Info, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return Info{}, err
	}
	return infoOf(name, fi), nil
}

// OpenLockFile opens name for reading and writing, creating it with perm if
// it does not exist, never following a final symbolic link and never
// blocking on a FIFO. The descriptor is not inherited by child processes.
func OpenLockFile(name string, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|oNoFollow|oNonBlock, perm)
}

// OpenReadOnly opens an existing name for reading like OpenLockFile.
func OpenReadOnly(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|oNoFollow|oNonBlock, 0)
}

// StatFile describes an open *os.File.
func StatFile(f *os.File) (Info, error) {
	fi, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	return infoOfFile(f, fi), nil
}

type osFile struct{ *os.File }

func (f osFile) Stat() (Info, error) { return StatFile(f.File) }
