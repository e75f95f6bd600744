//go:build windows

package fsys

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

const (
	oNoFollow = 0
	oNonBlock = 0
)

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
