//go:build windows

package fsys

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// openOS opens name with CreateFile rather than os.OpenFile, for two
// reasons. It shares the file for deletion (FILE_SHARE_DELETE), which Go's
// own open does not: otherwise a waiter that reads a lock file to judge it
// would keep its holder from removing it at release, and a breaker from
// renaming it aside. And it opens a final symbolic link or junction itself
// (FILE_FLAG_OPEN_REPARSE_POINT) instead of following it, which the callers
// then find is not a regular file.
func openOS(name string, flags int, perm fs.FileMode) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	access := accessOf(flags)
	disposition := uint32(windows.OPEN_EXISTING)
	switch {
	case flags&os.O_CREATE != 0 && flags&os.O_EXCL != 0:
		disposition = windows.CREATE_NEW
	case flags&os.O_CREATE != 0:
		disposition = windows.OPEN_ALWAYS
	}
	attrs := uint32(windows.FILE_ATTRIBUTE_NORMAL)
	if perm&0o200 == 0 {
		attrs = windows.FILE_ATTRIBUTE_READONLY
	}
	h, err := windows.CreateFile(p, access,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		disposition, attrs|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}

// accessOf returns the access an open with flags asks for: O_RDONLY is 0,
// so each of O_WRONLY and O_RDWR must be looked for.
func accessOf(flags int) uint32 {
	switch flags & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_WRONLY:
		return windows.GENERIC_WRITE
	case os.O_RDWR:
		return windows.GENERIC_READ | windows.GENERIC_WRITE
	}
	return windows.GENERIC_READ
}

func infoOf(name string, fi fs.FileInfo) Info {
	info := Info{Mode: fi.Mode(), Size: fi.Size(), ModTime: fi.ModTime(), Nlink: 1}
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return info
	}
	h, err := windows.CreateFile(p, windows.FILE_READ_ATTRIBUTES,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return info
	}
	defer windows.CloseHandle(h)
	return withHandleInfo(info, h)
}

func infoOfFile(f *os.File, fi fs.FileInfo) Info {
	info := Info{Mode: fi.Mode(), Size: fi.Size(), ModTime: fi.ModTime(), Nlink: 1}
	return withHandleInfo(info, windows.Handle(f.Fd()))
}

func withHandleInfo(info Info, h windows.Handle) Info {
	var d windows.ByHandleFileInformation
	if windows.GetFileInformationByHandle(h, &d) == nil {
		info.ID = FileID{Dev: uint64(d.VolumeSerialNumber), Ino: uint64(d.FileIndexHigh)<<32 | uint64(d.FileIndexLow)}
		info.Nlink = uint64(d.NumberOfLinks)
	}
	return info
}

// Touch sets name's times to the current time.
func (OS) Touch(name string) error {
	now := time.Now()
	return os.Chtimes(name, now, now)
}

// SyncDir does nothing on Windows, where directories cannot be fsynced.
func (OS) SyncDir(string) error { return nil }
