package fsys

import (
	"io/fs"
	"path/filepath"
)

// Working in an open directory. A directory opened once and then used
// relative to its descriptor (openat, unlinkat, fstatat, utimensat) is the
// directory that was opened, whatever is put in its place by path later:
// a check of the descriptor (fstat) holds for every use, where a check by
// path holds only until someone renames the directory and puts a symbolic
// link in its place. Where an FS cannot open directories (memfs, Windows)
// OpenDir returns a Dir that works by path, as the FS always has.

// Dir is an open directory; names given to its methods are names of its
// entries, never paths, and no final symbolic link is followed. Errors are
// *fs.PathError values naming the directory's path joined with the name.
// A Dir may be used by several goroutines at once, but not while it is
// being closed.
type Dir interface {
	// Name returns the path the directory was opened by.
	Name() string
	// Stat describes the directory itself: through a descriptor, the
	// directory opened (fstat); by path, whatever is there now (lstat).
	Stat() (Info, error)
	// CreateExcl creates name like FS.CreateExcl.
	CreateExcl(name string, perm fs.FileMode) (File, error)
	// OpenRead opens name like FS.OpenRead.
	OpenRead(name string) (File, error)
	// Lstat describes name without following a symbolic link.
	Lstat(name string) (Info, error)
	// Remove removes name.
	Remove(name string) error
	// Touch sets name's times like FS.Touch.
	Touch(name string) error
	// Scan calls fn with the name of every entry but "." and "..", like
	// ScanDir.
	Scan(fn func(name []byte)) error
	// Close closes the directory.
	Close() error
}

// DirOpener is an FS that can open a directory and work relative to it.
type DirOpener interface {
	// OpenDir opens the directory name without following a final
	// symbolic link: a symbolic link, or anything but a directory, at
	// name is an error.
	OpenDir(name string) (Dir, error)
}

// OpenDir opens the directory name of fsys: with fsys.OpenDir where fsys
// is a DirOpener, and otherwise as a Dir that works by path, which fails
// only if Lstat of name does.
func OpenDir(fsys FS, name string) (Dir, error) {
	if o, ok := fsys.(DirOpener); ok {
		return o.OpenDir(name)
	}
	if _, err := fsys.Lstat(name); err != nil {
		return nil, err
	}
	return PathDir(fsys, name), nil
}

// PathDir returns the directory name of fsys as a Dir that works by path.
func PathDir(fsys FS, name string) Dir { return pathDir{fsys: fsys, name: name} }

// ReadAllIn is ReadAll of the entry name of the directory d.
func ReadAllIn(d Dir, name string, limit int64) ([]byte, Info, error) {
	f, err := d.OpenRead(name)
	return readAll(f, err, d.Name(), name, limit)
}

// joinName is the path of the entry name of the directory dir.
func joinName(dir, name string) string { return dir + string(filepath.Separator) + name }

// pathDir is a Dir that works by path.
type pathDir struct {
	fsys FS
	name string
}

func (d pathDir) path(name string) string { return joinName(d.name, name) }

func (d pathDir) Name() string        { return d.name }
func (d pathDir) Stat() (Info, error) { return d.fsys.Lstat(d.name) }
func (d pathDir) Close() error        { return nil }

func (d pathDir) CreateExcl(name string, perm fs.FileMode) (File, error) {
	return d.fsys.CreateExcl(d.path(name), perm)
}

func (d pathDir) OpenRead(name string) (File, error) { return d.fsys.OpenRead(d.path(name)) }
func (d pathDir) Lstat(name string) (Info, error)    { return d.fsys.Lstat(d.path(name)) }
func (d pathDir) Remove(name string) error           { return d.fsys.Remove(d.path(name)) }
func (d pathDir) Touch(name string) error            { return d.fsys.Touch(d.path(name)) }

func (d pathDir) Scan(fn func(name []byte)) error { return ScanDir(d.fsys, d.name, fn) }
