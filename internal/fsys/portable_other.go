//go:build !windows && !unix

package fsys

import (
	"io/fs"
	"os"
	"time"
)

// Where no flag is known, the strategies rely on checking with Lstat first.
const (
	oNoFollow = 0
	oNonBlock = 0
)

func openOS(name string, flags int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, flags|oNoFollow|oNonBlock, perm)
}

func infoOf(_ string, fi fs.FileInfo) Info {
	return Info{Mode: fi.Mode(), Size: fi.Size(), ModTime: fi.ModTime(), Nlink: 1}
}

func infoOfFile(f *os.File, fi fs.FileInfo) Info { return infoOf(f.Name(), fi) }

// Touch sets name's times to the current time.
func (OS) Touch(name string) error {
	now := time.Now()
	return os.Chtimes(name, now, now)
}

// SyncDir does nothing where directories cannot be fsynced.
func (OS) SyncDir(string) error { return nil }
