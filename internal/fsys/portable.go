//go:build !unix

package fsys

import (
	"io/fs"
	"os"
)

const (
	oRDONLY = os.O_RDONLY
	oRDWR   = os.O_RDWR
	oWRONLY = os.O_WRONLY
	oCREAT  = os.O_CREATE
	oEXCL   = os.O_EXCL
)

func openFile(name string, flags int, perm fs.FileMode) (OSFile, error) {
	f, err := openOS(name, flags, perm)
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

type osFile struct{ *os.File }

func (f osFile) Stat() (Info, error) {
	fi, err := f.File.Stat()
	if err != nil {
		return Info{}, err
	}
	return infoOfFile(f.File, fi), nil
}

func readDirNames(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
