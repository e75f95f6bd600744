package filelock

// Reading a Soft or Link lock file (or guard) without following a
// symbolic link or blocking on a FIFO, and the error for a lock path that
// is not a regular file.

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/lockstress/lockstress/internal/fsys"
)

// readRecordFile reads a lock file without following a symbolic link or
// blocking on a FIFO; anything but a regular file is ErrNotRegular.
func readRecordFile(fsy fsys.FS, path string) ([]byte, fsys.Info, error) {
	data, info, err := fsys.ReadAll(fsy, path, MaxRecordSize+1)
	if errors.Is(err, fsys.ErrNotRegular) {
		err = notRegular(info.Mode)
	} else if err != nil {
		// O_NOFOLLOW fails on a symbolic link (ELOOP); say what is there.
		if linfo, lerr := fsy.Lstat(path); lerr == nil && !linfo.Mode.IsRegular() {
			err = notRegular(linfo.Mode)
		}
	}
	return data, info, err
}

func notRegular(mode fs.FileMode) error {
	kind := "irregular file"
	switch {
	case mode.IsDir():
		kind = "directory"
	case mode&fs.ModeSymlink != 0:
		kind = "symbolic link"
	case mode&fs.ModeNamedPipe != 0:
		kind = "FIFO"
	case mode&fs.ModeSocket != 0:
		kind = "socket"
	case mode&fs.ModeDevice != 0:
		kind = "device"
	}
	return fmt.Errorf("%w: it is a %s", ErrNotRegular, kind)
}
