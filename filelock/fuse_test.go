package filelock

import (
	"hash/fnv"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/fsys"
)

// perPathFS gives every path an inode number of its own, as sshfs does
// without -o use_ino: two hard links of one file have different numbers.
type perPathFS struct{ fsys.OS }

func pathID(name string) fsys.FileID {
	h := fnv.New64a()
	h.Write([]byte(filepath.Clean(name)))
	return fsys.FileID{Dev: 1, Ino: h.Sum64()}
}

func (p perPathFS) Lstat(name string) (fsys.Info, error) {
	info, err := p.OS.Lstat(name)
	info.ID = pathID(name)
	return info, err
}

func (p perPathFS) Stat(name string) (fsys.Info, error) {
	info, err := p.OS.Stat(name)
	info.ID = pathID(name)
	return info, err
}

func (p perPathFS) CreateExcl(name string, perm fs.FileMode) (fsys.File, error) {
	f, err := p.OS.CreateExcl(name, perm)
	if err != nil {
		return nil, err
	}
	return perPathFile{f, name}, nil
}

func (p perPathFS) OpenRead(name string) (fsys.File, error) {
	f, err := p.OS.OpenRead(name)
	if err != nil {
		return nil, err
	}
	return perPathFile{f, name}, nil
}

type perPathFile struct {
	fsys.File
	name string
}

func (f perPathFile) Stat() (fsys.Info, error) {
	info, err := f.File.Stat()
	info.ID = pathID(f.name)
	return info, err
}

// TestPerPathInodeNumbers: where each path has an inode number of its own
// (sshfs), a holder still recognises its own lock file at release; the
// link strategy once took the claim's number for the lock's and found its
// own lock "lost".
func TestPerPathInodeNumbers(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			dir := t.TempDir()
			l := newLock(t, filepath.Join(dir, "x.lock"), WithStrategy(s), withFS(perPathFS{}))
			require.NoError(t, lockWithin(l))
			st, err := l.Inspect()
			require.NoError(t, err)
			require.True(t, st.Held)
			require.NoError(t, l.Unlock())
			require.Empty(t, dirEntries(t, dir))
		})
	}
}
