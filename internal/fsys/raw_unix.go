//go:build unix

package fsys

import (
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

const (
	oRDONLY = unix.O_RDONLY
	oRDWR   = unix.O_RDWR
	oWRONLY = unix.O_WRONLY
	oCREAT  = unix.O_CREAT
	oEXCL   = unix.O_EXCL
)

// openFile opens name with the given flags plus O_NOFOLLOW, O_NONBLOCK and
// O_CLOEXEC.
func openFile(name string, flags int, perm fs.FileMode) (OSFile, error) {
	for {
		fd, err := unix.Open(name, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, uint32(perm.Perm()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &rawFile{fd: fd, name: name}, nil
	}
}

// Lstat describes name without following a final symbolic link.
func (OS) Lstat(name string) (Info, error) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Lstat(name, &st) }); err != nil {
		return Info{}, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	return infoOfStat(&st), nil
}

// Stat describes name, following symbolic links.
func (OS) Stat(name string) (Info, error) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Stat(name, &st) }); err != nil {
		return Info{}, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return infoOfStat(&st), nil
}

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

func infoOfStat(st *unix.Stat_t) Info {
	mode := fs.FileMode(st.Mode & 0o777)
	if st.Mode&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFREG:
	default:
		mode |= fs.ModeIrregular
	}
	return Info{
		ID:         FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)},
		Mode:       mode,
		Size:       st.Size,
		ModTime:    time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)),
		ChangeTime: time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)),
		Nlink:      uint64(st.Nlink),
		Uid:        st.Uid,
	}
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

// rawFile is an open descriptor.
type rawFile struct {
	fd int
	// dir is the path of the directory it was opened relative to, name
	// its name there; dir is "" for a file opened by path, name.
	dir, name string
}

func (f *rawFile) Fd() uintptr { return uintptr(f.fd) }

func (f *rawFile) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	name := f.name
	if f.dir != "" {
		name = joinName(f.dir, name)
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

func (f *rawFile) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(f.fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, f.wrap("read", err)
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *rawFile) ReadAt(p []byte, off int64) (int, error) {
	return f.full("read", p, func(b []byte, done int) (int, error) { return unix.Pread(f.fd, b, off+int64(done)) })
}

func (f *rawFile) Write(p []byte) (int, error) {
	return f.full("write", p, func(b []byte, _ int) (int, error) { return unix.Write(f.fd, b) })
}

func (f *rawFile) WriteAt(p []byte, off int64) (int, error) {
	return f.full("write", p, func(b []byte, done int) (int, error) { return unix.Pwrite(f.fd, b, off+int64(done)) })
}

// full calls step with the rest of p until all of p is done, retrying on
// EINTR; step returning 0 bytes means end of file.
func (f *rawFile) full(op string, p []byte, step func(rest []byte, done int) (int, error)) (int, error) {
	done := 0
	for done < len(p) {
		n, err := step(p[done:], done)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, f.wrap(op, err)
		}
		if n == 0 {
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

func (f *rawFile) Stat() (Info, error) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(f.fd, &st) }); err != nil {
		return Info{}, f.wrap("stat", err)
	}
	return infoOfStat(&st), nil
}

func (f *rawFile) Truncate(size int64) error {
	return f.wrap("truncate", ignoringEINTR(func() error { return unix.Ftruncate(f.fd, size) }))
}

// Chmod sets the file's permission bits (fchmod).
func (f *rawFile) Chmod(mode fs.FileMode) error {
	return f.wrap("chmod", ignoringEINTR(func() error { return unix.Fchmod(f.fd, uint32(mode.Perm())) }))
}

func (f *rawFile) Sync() error {
	return f.wrap("sync", ignoringEINTR(func() error { return unix.Fsync(f.fd) }))
}

// Close closes the descriptor. It is not retried on EINTR: the descriptor
// is gone either way.
func (f *rawFile) Close() error {
	if f.fd < 0 {
		return f.wrap("close", fs.ErrClosed)
	}
	err := unix.Close(f.fd)
	f.fd = -1
	return f.wrap("close", err)
}

// direntBufs holds the buffers of readDirents: a fair queue is listed at
// every turn, and a buffer made each time is most of what a listing costs.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 8192); return &b }}

// readDirents calls each with every batch of entries of the directory name,
// in the system's own format, as getdents returns them. It lists with
// getdents directly: os.File would also try to register the descriptor
// with the runtime's poller and set its flags, several system calls more
// for every listing of a fair queue.
func readDirents(name string, each func(batch []byte)) error {
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Open(name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	return readDirentsFd(fd, name, each)
}

// readDirentsFd is readDirents of the directory open as fd, whose path is
// name, from the descriptor's offset on.
func readDirentsFd(fd int, name string, each func(batch []byte)) error {
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	for {
		var n int
		err := ignoringEINTR(func() (err error) {
			n, err = unix.ReadDirent(fd, buf)
			return err
		})
		if err != nil {
			return &fs.PathError{Op: "readdirent", Path: name, Err: err}
		}
		if n <= 0 {
			return nil
		}
		each(buf[:n])
	}
}

func readDirNames(name string) ([]string, error) {
	var names []string
	if err := readDirents(name, func(batch []byte) { _, _, names = unix.ParseDirent(batch, -1, names) }); err != nil {
		return nil, err
	}
	return names, nil
}
