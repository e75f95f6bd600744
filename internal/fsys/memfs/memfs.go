package memfs

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
)

// Clock is the source of modification times.
type Clock interface {
	Now() time.Time
}

// FS is an in-memory filesystem. Names are slash- or separator-separated
// paths; a relative name is taken from the root, and a volume name is
// ignored. The zero FS is not usable; make one with New. It is safe for
// concurrent use, and each operation is atomic.
type FS struct {
	mu      sync.Mutex
	clock   Clock
	dev     uint64
	owner   uint32 // of every file: the effective user ID, 0 where none
	nextIno uint64
	root    *inode
}

var _ fsys.FS = (*FS)(nil)

// devices numbers the filesystems, so that FileIDs of two FS values differ.
var devices atomic.Uint64

type inode struct {
	ino     uint64
	mode    fs.FileMode // type bits and permission bits
	nlink   uint64
	mtime   time.Time
	data    []byte
	entries map[string]*inode // directories only
}

// New returns an empty filesystem, with only the root directory, whose
// modification times are read from c.
func New(c Clock) *FS {
	m := &FS{clock: c, dev: devices.Add(1), owner: uint32(max(os.Geteuid(), 0))}
	m.root = m.newInode(fs.ModeDir | 0o755)
	m.root.nlink = 2
	return m
}

func (m *FS) newInode(mode fs.FileMode) *inode {
	m.nextIno++
	n := &inode{ino: m.nextIno, mode: mode, nlink: 1, mtime: m.clock.Now()}
	if mode.IsDir() {
		n.entries = map[string]*inode{}
	}
	return n
}

// elems splits name into its elements; the root has none.
func elems(name string) []string {
	name = filepath.ToSlash(name[len(filepath.VolumeName(name)):])
	name = path.Clean("/" + name)
	if name == "/" {
		return nil
	}
	return strings.Split(name[1:], "/")
}

// walk returns the directory holding the last element of name and that
// element. The root has no parent: walk returns (nil, "", nil) for it.
func (m *FS) walk(name string) (*inode, string, error) {
	if name == "" {
		return nil, "", errNotExist
	}
	el := elems(name)
	if len(el) == 0 {
		return nil, "", nil
	}
	dir := m.root
	for _, e := range el[:len(el)-1] {
		next := dir.entries[e]
		switch {
		case next == nil:
			return nil, "", errNotExist
		case !next.mode.IsDir():
			return nil, "", errNotDir
		}
		dir = next
	}
	return dir, el[len(el)-1], nil
}

// lookup returns the inode name refers to.
func (m *FS) lookup(name string) (*inode, error) {
	dir, base, err := m.walk(name)
	if err != nil {
		return nil, err
	}
	if dir == nil {
		return m.root, nil
	}
	if n := dir.entries[base]; n != nil {
		return n, nil
	}
	return nil, errNotExist
}

func (m *FS) info(n *inode) fsys.Info {
	return fsys.Info{
		ID:      fsys.FileID{Dev: m.dev, Ino: n.ino},
		Mode:    n.mode,
		Size:    int64(len(n.data)),
		ModTime: n.mtime,
		Nlink:   n.nlink,
		Uid:     m.owner,
	}
}

func pathErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

func linkErr(op, oldname, newname string, err error) error {
	if err == nil {
		return nil
	}
	return &os.LinkError{Op: op, Old: oldname, New: newname, Err: err}
}

// CreateExcl creates name as an empty regular file with permission perm
// and opens it for reading and writing; it fails with EEXIST if name
// exists.
func (m *FS) CreateExcl(name string, perm fs.FileMode) (fsys.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.walk(name)
	switch {
	case err != nil:
		return nil, pathErr("open", name, err)
	case dir == nil || dir.entries[base] != nil:
		return nil, pathErr("open", name, errExist)
	}
	n := m.newInode(perm & fs.ModePerm)
	dir.entries[base] = n
	dir.mtime = n.mtime
	return &file{m: m, name: name, n: n, write: true}, nil
}

// OpenRead opens name for reading. A directory can be opened, but not read.
func (m *FS) OpenRead(name string) (fsys.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return &file{m: m, name: name, n: n}, nil
}

// Lstat describes name.
func (m *FS) Lstat(name string) (fsys.Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name)
	if err != nil {
		return fsys.Info{}, pathErr("lstat", name, err)
	}
	return m.info(n), nil
}

// Stat describes name; with no symbolic links it is Lstat.
func (m *FS) Stat(name string) (fsys.Info, error) {
	info, err := m.Lstat(name)
	if pe, ok := err.(*fs.PathError); ok {
		pe.Op = "stat"
	}
	return info, err
}

// Remove removes the name of a file, or an empty directory. The file
// itself lives on while it has other names or is open.
func (m *FS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.walk(name)
	if err != nil {
		return pathErr("remove", name, err)
	}
	if dir == nil {
		return pathErr("remove", name, errInvalid)
	}
	n := dir.entries[base]
	switch {
	case n == nil:
		return pathErr("remove", name, errNotExist)
	case n.mode.IsDir() && len(n.entries) > 0:
		return pathErr("remove", name, errNotEmpty)
	}
	m.unlink(dir, base)
	return nil
}

// unlink removes the entry base of dir.
func (m *FS) unlink(dir *inode, base string) {
	n := dir.entries[base]
	delete(dir.entries, base)
	dir.mtime = m.clock.Now()
	if n.mode.IsDir() {
		dir.nlink--
		n.nlink = 0
		return
	}
	n.nlink--
}

// Link makes newname another name of the file oldname. Directories cannot
// be linked (EPERM); newname must not exist (EEXIST).
func (m *FS) Link(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(oldname)
	if err != nil {
		return linkErr("link", oldname, newname, err)
	}
	dir, base, err := m.walk(newname)
	switch {
	case err != nil:
		return linkErr("link", oldname, newname, err)
	case dir == nil || dir.entries[base] != nil:
		return linkErr("link", oldname, newname, errExist)
	case n.mode.IsDir():
		return linkErr("link", oldname, newname, errPerm)
	}
	dir.entries[base] = n
	n.nlink++
	dir.mtime = m.clock.Now()
	return nil
}

// Rename moves oldname to newname atomically, replacing a file that
// newname names. Like os.Rename it never replaces a directory (EEXIST). If
// both names are links to one file, it does nothing.
func (m *FS) Rename(oldname, newname string) error { return m.rename(oldname, newname, false) }

func (m *FS) rename(oldname, newname string, noReplace bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	fail := func(err error) error { return linkErr("rename", oldname, newname, err) }
	odir, obase, err := m.walk(oldname)
	if err != nil {
		return fail(err)
	}
	if odir == nil {
		return fail(errInvalid)
	}
	n := odir.entries[obase]
	if n == nil {
		return fail(errNotExist)
	}
	ndir, nbase, err := m.walk(newname)
	if err != nil {
		return fail(err)
	}
	if ndir == nil {
		return fail(errInvalid)
	}
	old := ndir.entries[nbase]
	if old != nil && noReplace {
		return fail(errExist)
	}
	if old == n {
		return nil
	}
	if n.mode.IsDir() && m.within(ndir, n) {
		return fail(errInvalid) // into itself
	}
	if old != nil {
		switch {
		case old.mode.IsDir():
			return fail(errExist)
		case n.mode.IsDir():
			return fail(errNotDir)
		}
		m.unlink(ndir, nbase)
	}
	delete(odir.entries, obase)
	ndir.entries[nbase] = n
	if n.mode.IsDir() {
		odir.nlink--
		ndir.nlink++
	}
	now := m.clock.Now()
	odir.mtime, ndir.mtime = now, now
	return nil
}

// within reports whether directory d is dir or below it.
// RenameNoReplace renames oldname to newname, failing if anything exists
// at newname.
func (m *FS) RenameNoReplace(oldname, newname string) error {
	return m.rename(oldname, newname, true)
}

func (m *FS) within(d, dir *inode) bool {
	if d == dir {
		return true
	}
	for _, e := range dir.entries {
		if e.mode.IsDir() && m.within(d, e) {
			return true
		}
	}
	return false
}

// Touch sets name's modification time to the clock's current time.
func (m *FS) Touch(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name)
	if err != nil {
		return pathErr("touch", name, err)
	}
	n.mtime = m.clock.Now()
	return nil
}

// MkdirAll creates the directory name and any missing parents with
// permission perm. It fails with ENOTDIR if an element is not a directory.
func (m *FS) MkdirAll(name string, perm fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if name == "" {
		return pathErr("mkdir", name, errNotExist)
	}
	dir := m.root
	for _, e := range elems(name) {
		next := dir.entries[e]
		if next == nil {
			next = m.mkdirIn(dir, e, perm)
		} else if !next.mode.IsDir() {
			return pathErr("mkdir", name, errNotDir)
		}
		dir = next
	}
	return nil
}

// Mkdir creates the directory name with permission perm, in a parent that
// exists; it fails with EEXIST if anything is there.
func (m *FS) Mkdir(name string, perm fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, e, err := m.walk(name)
	switch {
	case err != nil:
		return pathErr("mkdir", name, err)
	case dir == nil || dir.entries[e] != nil:
		return pathErr("mkdir", name, errExist)
	}
	m.mkdirIn(dir, e, perm)
	return nil
}

// mkdirIn makes the directory e in dir with permission perm; m.mu is held.
func (m *FS) mkdirIn(dir *inode, e string, perm fs.FileMode) *inode {
	n := m.newInode(fs.ModeDir | perm&fs.ModePerm)
	n.nlink = 2
	dir.entries[e] = n
	dir.nlink++
	dir.mtime = n.mtime
	return n
}

// SyncDir checks that name is a directory; memory needs no syncing.
func (m *FS) SyncDir(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.lookupDir("sync", name)
	return err
}

// lookupDir returns the directory name; op names the operation that finds
// something else there.
func (m *FS) lookupDir(op, name string) (*inode, error) {
	n, err := m.lookup(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	if !n.mode.IsDir() {
		return nil, pathErr(op, name, errNotDir)
	}
	return n, nil
}

// ReadDirNames returns the sorted names in the directory name.
func (m *FS) ReadDirNames(name string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookupDir("readdirent", name)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(n.entries))
	for e := range n.entries {
		names = append(names, e)
	}
	sort.Strings(names)
	return names, nil
}

// file is an open file: the inode, not the name, so it outlives Remove.
type file struct {
	m      *FS
	name   string
	n      *inode
	off    int64
	write  bool
	closed bool
}

// check returns the error of an operation op on f, under f.m.mu.
func (f *file) check(op string, write bool) error {
	switch {
	case f.closed:
		return pathErr(op, f.name, fs.ErrClosed)
	case write && !f.write:
		return pathErr(op, f.name, errBadFD)
	case f.n.mode.IsDir():
		return pathErr(op, f.name, errIsDir)
	}
	return nil
}

func (f *file) Read(p []byte) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if f.off >= int64(len(f.n.data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, f.n.data[f.off:])
	f.off += int64(n)
	return n, nil
}

func (f *file) Write(p []byte) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	f.writeAt(p, f.off)
	f.off += int64(len(p))
	return len(p), nil
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("write", f.name, errInvalid)
	}
	f.writeAt(p, off)
	return len(p), nil
}

// writeAt writes p at off, filling any gap with zeros.
func (f *file) writeAt(p []byte, off int64) {
	if end := off + int64(len(p)); end > int64(len(f.n.data)) {
		f.n.data = append(f.n.data, make([]byte, end-int64(len(f.n.data)))...)
	}
	copy(f.n.data[off:], p)
	f.n.mtime = f.m.clock.Now()
}

func (f *file) Stat() (fsys.Info, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.closed {
		return fsys.Info{}, pathErr("stat", f.name, fs.ErrClosed)
	}
	return f.m.info(f.n), nil
}

// Chmod sets the file's permission bits, as fchmod does.
func (f *file) Chmod(mode fs.FileMode) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.closed {
		return pathErr("chmod", f.name, fs.ErrClosed)
	}
	f.n.mode = f.n.mode&^fs.ModePerm | mode&fs.ModePerm
	return nil
}

func (f *file) Sync() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.closed {
		return pathErr("sync", f.name, fs.ErrClosed)
	}
	return nil
}

func (f *file) Close() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.closed {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	f.closed = true
	return nil
}
