package filelock

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/lockstress/lockstress/internal/fsys"
)

// openHere reports whether a descriptor of this process refers to the file
// id, by the entries of /proc/thread-self/fd; unsure (no /proc, or a
// listing that misses a descriptor known to be open), it says yes.
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
//
// /proc/self is the view of the process's first thread, which may have
// exited alone (pthread_exit in a C program's main): its descriptor table
// is then gone, and /proc/self/fd lists nothing. The calling thread's
// view, /proc/thread-self, lists the table all the threads share.
func openHere(id fsys.FileID) bool {
	dir := procFDs()
	d, err := os.Open(dir + "/fd")
	if err != nil {
		return true
	}
	defer d.Close()
	fds, err := d.Readdirnames(-1)
	if err != nil || !slices.Contains(fds, strconv.Itoa(int(d.Fd()))) {
		return true
	}
	for _, fd := range fds {
		ino, known, err := fdInode(dir, fd)
		if errors.Is(err, fs.ErrNotExist) {
			continue // closed since the listing
		}
		if err != nil {
			return true
		}
		if known && ino != id.Ino {
			continue
		}
		info, err := (fsys.OS{}).Stat(dir + "/fd/" + fd)
		if err != nil && !errors.Is(err, fs.ErrNotExist) || err == nil && info.ID == id {
			return true
		}
	}
	return false
}

// procFDs is the directory of /proc whose fd and fdinfo show this
// process's descriptors: /proc/thread-self, or /proc/self on a kernel
// older than 3.17, which has none.
var procFDs = sync.OnceValue(func() string {
	if _, err := os.Stat("/proc/thread-self/fd"); err == nil {
		return "/proc/thread-self"
	}
	return "/proc/self"
})

// fdInode returns the inode number of this process's descriptor fd, from
// the ino line of DIR/fdinfo/fd; known is false where the kernel writes
// none (older kernels): then the descriptor is looked at by path.
func fdInode(dir, fd string) (ino uint64, known bool, err error) {
	data, err := os.ReadFile(dir + "/fdinfo/" + fd)
	if err != nil {
		return 0, false, err
	}
	_, rest, _ := bytes.Cut(data, []byte("\nino:"))
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	ino, err = strconv.ParseUint(string(bytes.TrimSpace(line)), 10, 64)
	return ino, err == nil, nil
}
