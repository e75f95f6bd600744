//go:build unix

package fsys

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// A directory open as a descriptor, its entries used with the *at system
// calls (see dir.go).

var _ DirOpener = OS{}

// OpenDir opens the directory name (O_DIRECTORY|O_NOFOLLOW): anything but
// a directory at name fails, a symbolic link included (ENOTDIR on Linux,
// ELOOP or EMLINK elsewhere). The descriptor is not inherited by child
// processes.
func (OS) OpenDir(name string) (Dir, error) {
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Open(name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &osDir{fd: fd, name: name}, nil
}

// osDir is a directory open as a descriptor.
type osDir struct {
	fd   int
	name string
}

func (d *osDir) Name() string { return d.name }

// wrap is err of op on the entry name, naming its path; nil if err is.
func (d *osDir) wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: joinName(d.name, name), Err: err}
}

// Chmod sets the directory's permission bits (fchmod), for SetPerm.
func (d *osDir) Chmod(mode fs.FileMode) error {
	err := ignoringEINTR(func() error { return unix.Fchmod(d.fd, uint32(mode.Perm())) })
	if err != nil {
		return &fs.PathError{Op: "chmod", Path: d.name, Err: err}
	}
	return nil
}

func (d *osDir) Stat() (Info, error) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(d.fd, &st) }); err != nil {
		return Info{}, &fs.PathError{Op: "stat", Path: d.name, Err: err}
	}
	return infoOfStat(&st), nil
}

// CreateExcl creates name exclusively, never following a symbolic link.
func (d *osDir) CreateExcl(name string, perm fs.FileMode) (File, error) {
	return d.open(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, perm)
}

// OpenRead opens name for reading, never following a final symbolic link
// and never blocking on a FIFO.
func (d *osDir) OpenRead(name string) (File, error) { return d.open(name, unix.O_RDONLY, 0) }

// open opens name with the given flags plus O_NOFOLLOW, O_NONBLOCK and
// O_CLOEXEC, as openFile does by path.
func (d *osDir) open(name string, flags int, perm fs.FileMode) (File, error) {
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(d.fd, name, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, uint32(perm.Perm()))
		return err
	})
	if err != nil {
		return nil, d.wrap("open", name, err)
	}
	return &rawFile{fd: fd, dir: d.name, name: name}, nil
}

func (d *osDir) Lstat(name string) (Info, error) {
	var st unix.Stat_t
	err := ignoringEINTR(func() error { return unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	if err != nil {
		return Info{}, d.wrap("lstat", name, err)
	}
	return infoOfStat(&st), nil
}

// Remove removes name, a file or an empty directory, as os.Remove does.
func (d *osDir) Remove(name string) error {
	err := ignoringEINTR(func() error { return unix.Unlinkat(d.fd, name, 0) })
	if err == nil {
		return nil
	}
	rerr := ignoringEINTR(func() error { return unix.Unlinkat(d.fd, name, unix.AT_REMOVEDIR) })
	if rerr == nil {
		return nil
	}
	if rerr != unix.ENOTDIR {
		err = rerr
	}
	return d.wrap("remove", name, err)
}

// Touch sets name's times to the current time as the filesystem sees it
// (UTIME_NOW), without following a symbolic link, as OS.Touch does.
func (d *osDir) Touch(name string) error {
	return d.wrap("touch", name, ignoringEINTR(func() error {
		return unix.UtimesNanoAt(d.fd, name, nil, unix.AT_SYMLINK_NOFOLLOW)
	}))
}

// Scan lists the directory through a descriptor of its own ("." opened
// relative to it), so that no offset is shared between listings.
func (d *osDir) Scan(fn func(name []byte)) error {
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return &fs.PathError{Op: "open", Path: d.name, Err: err}
	}
	defer unix.Close(fd)
	return readDirentsFd(fd, d.name, direntNames(fn))
}

// Close closes the descriptor; it is not retried on EINTR.
func (d *osDir) Close() error {
	if d.fd < 0 {
		return &fs.PathError{Op: "close", Path: d.name, Err: fs.ErrClosed}
	}
	err := unix.Close(d.fd)
	d.fd = -1
	if err != nil {
		return &fs.PathError{Op: "close", Path: d.name, Err: err}
	}
	return nil
}
