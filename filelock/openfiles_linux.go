package filelock

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"

	"github.com/lockstress/lockstress/internal/fsys"
)

// openHere reports whether a descriptor of this process refers to the file
// id, by the entries of /proc/self/fd; unsure (no /proc), it says yes.
//
// A record that names this process but is not in ownRecords was written
// before an exec, or by another copy of this package in this process (a
// module's two major versions, a vendored fork), which keeps a table of
// its own. Where holders keep their lock files open (Lock.keepsOpen), the
// two differ here: exec closes the file (every descriptor of this package
// is close-on-exec), the other copy's holder has it open.
//
// A descriptor's inode number is read from /proc/self/fdinfo, which asks
// no filesystem; only one of the same number is looked at through its
// path, so that a descriptor on a network filesystem that does not answer
// does not hold the judgement up.
func openHere(id fsys.FileID) bool {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return true
	}
	defer d.Close()
	fds, err := d.Readdirnames(-1)
	if err != nil {
		return true
	}
	for _, fd := range fds {
		ino, known, err := fdInode(fd)
		if errors.Is(err, fs.ErrNotExist) {
			continue // closed since the listing
		}
		if err != nil {
			return true
		}
		if known && ino != id.Ino {
			continue
		}
		if info, err := (fsys.OS{}).Stat("/proc/self/fd/" + fd); err == nil && info.ID == id {
			return true
		}
	}
	return false
}

// fdInode returns the inode number of this process's descriptor fd, from
// the ino line of /proc/self/fdinfo/fd; known is false where the kernel
// writes none (older kernels): then the descriptor is looked at by path.
func fdInode(fd string) (ino uint64, known bool, err error) {
	data, err := os.ReadFile("/proc/self/fdinfo/" + fd)
	if err != nil {
		return 0, false, err
	}
	_, rest, _ := bytes.Cut(data, []byte("\nino:"))
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	ino, err = strconv.ParseUint(string(bytes.TrimSpace(line)), 10, 64)
	return ino, err == nil, nil
}
