package filelock

import (
	"os"

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
		if info, err := (fsys.OS{}).Stat("/proc/self/fd/" + fd); err == nil && info.ID == id {
			return true
		}
	}
	return false
}
