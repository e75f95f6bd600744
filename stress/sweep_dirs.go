//go:build linux

package stress

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// sweep removes the directories named prefix* in parent that runs of this
// user made and left behind when they died, and returns their paths.
func sweep(parent, prefix string) []string {
	me, err := self()
	if err != nil {
		return nil
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || e.Type() != os.ModeDir {
			continue
		}
		path := filepath.Join(parent, e.Name())
		if o, ok := readOwner(path); ok && o.dead(me) && os.RemoveAll(path) == nil {
			removed = append(removed, path)
		}
	}
	return removed
}

// readOwner reads the owner file of the directory dir, if dir is a
// directory of this user (not a symbolic link) holding an owner file that
// is a regular file of this user.
func readOwner(dir string) (owner, bool) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return owner{}, false
	}
	defer unix.Close(fd)
	if !ownedByMe(fd, syscall.S_IFDIR) {
		return owner{}, false
	}
	ffd, err := unix.Openat(fd, ownerFile, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return owner{}, false
	}
	f := os.NewFile(uintptr(ffd), filepath.Join(dir, ownerFile))
	defer f.Close()
	if !ownedByMe(ffd, syscall.S_IFREG) {
		return owner{}, false
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return owner{}, false
	}
	o, err := parseOwner(b)
	return o, err == nil
}

// ownedByMe reports whether the open file fd is of the type given
// (syscall.S_IFDIR, S_IFREG) and belongs to this process's user.
func ownedByMe(fd int, typ uint32) bool {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return false
	}
	return st.Mode&syscall.S_IFMT == typ && int(st.Uid) == os.Geteuid()
}
