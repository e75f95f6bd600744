package fsys

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"time"
)

// FileID identifies a file on one filesystem: device and inode number on
// Unix, volume serial and file index on Windows. The zero FileID means the
// identity is unknown.
type FileID struct {
	Dev uint64
	Ino uint64
}

// IsZero reports whether the identity is unknown.
func (id FileID) IsZero() bool { return id == FileID{} }

// Info is what the lock needs to know of a file without following a final
// symbolic link.
type Info struct {
	ID      FileID
	Mode    fs.FileMode
	Size    int64
	ModTime time.Time
	// ChangeTime is the time of the file's last change of contents or
	// attributes (ctime), which no unprivileged process can set; zero
	// where unknown (Windows, where it is not read, and filesystems that
	// do not keep it).
	ChangeTime time.Time
	Nlink      uint64
	// Uid is the owner's user ID; 0 (root) where unknown.
	Uid uint32
}

// Changed returns when the file last changed as far as can be trusted:
// its change time, which moves with every write, touch, chmod or link and
// cannot be set back or forward by a user, or its mtime where the change
// time is unknown.
func (i Info) Changed() time.Time {
	// A change time at or before the epoch is one the filesystem does not
	// keep (some FUSE servers leave it 0), not a file 56 years old.
	if i.ChangeTime.IsZero() || i.ChangeTime.Unix() <= 0 {
		return i.ModTime
	}
	return i.ChangeTime
}

// File is an open file. It is not shared between goroutines.
type File interface {
	io.Reader
	io.Writer
	io.WriterAt
	// Stat describes the open file (fstat).
	Stat() (Info, error)
	// Sync commits the file's contents to stable storage.
	Sync() error
	// Close closes the file.
	Close() error
}

// FS is the set of file operations the file-based lock strategies are
// written against. Errors are *fs.PathError values whose Err is the
// operating system's error, so errors.Is(err, fs.ErrExist) and friends work.
type FS interface {
	// CreateExcl creates name for reading and writing, failing if anything
	// exists at name, a dangling symbolic link included. The descriptor is
	// not inherited by child processes.
	CreateExcl(name string, perm fs.FileMode) (File, error)
	// OpenRead opens an existing file for reading without following a
	// final symbolic link and without blocking on a FIFO.
	OpenRead(name string) (File, error)
	// Lstat describes name without following a final symbolic link.
	Lstat(name string) (Info, error)
	// Stat describes name, following symbolic links.
	Stat(name string) (Info, error)
	// Remove removes name.
	Remove(name string) error
	// Link makes newname a hard link to oldname; it fails if newname exists.
	Link(oldname, newname string) error
	// Rename renames oldname to newname, replacing newname.
	Rename(oldname, newname string) error
	// Touch sets name's modification time to the filesystem's current time,
	// without following a final symbolic link.
	Touch(name string) error
	// MkdirAll creates the directory name and any missing parents.
	MkdirAll(name string, perm fs.FileMode) error
	// Mkdir creates the directory name, whose parent exists; an error
	// matching fs.ErrExist if anything is there already.
	Mkdir(name string, perm fs.FileMode) error
	// SyncDir commits the directory's entries to stable storage.
	SyncDir(name string) error
	// ReadDirNames returns the names of the entries of the directory name,
	// in no particular order.
	ReadDirNames(name string) ([]string, error)
}

// noReplaceRenamer is an FS that can rename without replacing.
type noReplaceRenamer interface {
	RenameNoReplace(oldname, newname string) error
}

// CanRenameNoReplace reports whether fsys may rename without replacing:
// whether RenameNoReplace is worth trying. The filesystem beneath may
// still refuse.
func CanRenameNoReplace(fsys FS) bool {
	_, ok := fsys.(noReplaceRenamer)
	return ok
}

// RenameNoReplace renames oldname to newname on fsys, failing with an error
// matching fs.ErrExist if anything exists at newname, and with one matching
// errors.ErrUnsupported if fsys, or the filesystem beneath it, cannot.
func RenameNoReplace(fsys FS, oldname, newname string) error {
	if r, ok := fsys.(noReplaceRenamer); ok {
		return r.RenameNoReplace(oldname, newname)
	}
	return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errors.ErrUnsupported}
}

// ScanDir calls fn with the name of every entry of the directory name of
// fsys but "." and "..", in no particular order; the name is valid only
// during the call. Where fsys can (OS on Linux), no string is made of the
// names.
func ScanDir(fsys FS, name string, fn func(name []byte)) error {
	if s, ok := fsys.(interface {
		ScanDir(name string, fn func(name []byte)) error
	}); ok {
		return s.ScanDir(name, fn)
	}
	names, err := fsys.ReadDirNames(name)
	eachName(names, fn)
	return err
}

// eachName calls fn with each of names.
func eachName(names []string, fn func(name []byte)) {
	for _, n := range names {
		fn([]byte(n))
	}
}

// readUpTo reads r to its end, or to limit bytes, into a buffer sized for
// the size the file had (a lock's record fits it whole; a file that grew
// meanwhile is read on, up to limit).
func readUpTo(r io.Reader, size, limit int64) ([]byte, error) {
	b := make([]byte, 0, int(max(min(size+1, limit), 1)))
	for int64(len(b)) < limit {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(int64(len(b)), limit-int64(len(b)))))
		}
		n, err := r.Read(b[len(b):int(min(int64(cap(b)), limit))])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// SetPerm gives the newly made file (or directory, a Dir opened by
// descriptor) f exactly the permission bits perm,
// whatever the umask: f's mode is changed (fchmod) if it differs. Where
// the file cannot change its mode (a filesystem without Unix modes, such
// as FAT, or an FS whose files have no Chmod) the mode is left as made,
// unless that lets group or others write what perm does not allow: that
// is an error. It returns f's description as made, before any change of
// its mode, which gives its identity without asking again.
func SetPerm(f interface{ Stat() (Info, error) }, perm fs.FileMode) (Info, error) {
	info, err := f.Stat()
	if err != nil || info.Mode.Perm() == perm || runtime.GOOS == "windows" {
		return info, err
	}
	var cerr error = errors.ErrUnsupported
	if c, ok := f.(interface{ Chmod(fs.FileMode) error }); ok {
		cerr = c.Chmod(perm)
	}
	if cerr != nil && info.Mode.Perm()&^perm&0o022 != 0 {
		return info, cerr
	}
	return info, nil
}

// ErrNotRegular is returned by ReadAll for anything but a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ReadAll opens name with fsys.OpenRead and returns at most limit bytes of
// its contents together with the description of the file that was read. It
// reads nothing but a regular file: for anything else it returns the
// description and an error matching ErrNotRegular.
func ReadAll(fsys FS, name string, limit int64) ([]byte, Info, error) {
	f, err := fsys.OpenRead(name)
	return readAll(f, err, "", name, limit)
}

// readAll is ReadAll of f, the file name of the directory dir (name is a
// path where dir is ""), as opened with the error err.
func readAll(f File, err error, dir, name string, limit int64) ([]byte, Info, error) {
	if err != nil {
		return nil, Info{}, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode.IsRegular() {
		if dir != "" {
			name = joinName(dir, name)
		}
		err = &fs.PathError{Op: "read", Path: name, Err: ErrNotRegular}
	}
	if err != nil {
		f.Close()
		return nil, info, err
	}
	data, err := readUpTo(f, info.Size, limit)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, Info{}, err
	}
	return data, info, nil
}
