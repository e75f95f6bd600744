//go:build unix

package fsys

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	oNoFollow = syscall.O_NOFOLLOW
	oNonBlock = syscall.O_NONBLOCK
)

func infoOf(_ string, fi fs.FileInfo) Info {
	info := Info{Mode: fi.Mode(), Size: fi.Size(), ModTime: fi.ModTime(), Nlink: 1}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		info.ID = FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}
		info.Nlink = uint64(st.Nlink)
	}
	return info
}

func infoOfFile(f *os.File, fi fs.FileInfo) Info { return infoOf(f.Name(), fi) }

// Touch sets name's times to the current time as the filesystem sees it
// (UTIME_NOW; a network filesystem uses its server's clock).
func (OS) Touch(name string) error {
	err := unix.UtimesNanoAt(unix.AT_FDCWD, name, nil, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return &fs.PathError{Op: "touch", Path: name, Err: err}
	}
	return nil
}

// SyncDir fsyncs the directory name.
func (OS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
