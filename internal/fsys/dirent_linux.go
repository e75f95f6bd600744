package fsys

import (
	"bytes"
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The fields of a struct linux_dirent64 that direntNames reads.
const (
	direntInoOff    = int(unsafe.Offsetof(unix.Dirent{}.Ino))
	direntReclenOff = int(unsafe.Offsetof(unix.Dirent{}.Reclen))
	direntNameOff   = int(unsafe.Offsetof(unix.Dirent{}.Name))
)

func scanDir(name string, fn func(name []byte)) error {
	return readDirents(name, direntNames(fn))
}

// direntNames returns a function that calls fn with the name of every
// entry of a batch of getdents records but "." and "..", making no string.
func direntNames(fn func(name []byte)) func(batch []byte) {
	return func(batch []byte) {
		for len(batch) > direntNameOff {
			reclen := int(binary.NativeEndian.Uint16(batch[direntReclenOff:]))
			if reclen <= direntNameOff || reclen > len(batch) {
				return // cannot happen: the kernel writes whole records
			}
			rec := batch[:reclen]
			batch = batch[reclen:]
			if binary.NativeEndian.Uint64(rec[direntInoOff:]) == 0 {
				continue // a deleted entry
			}
			n := rec[direntNameOff:]
			if i := bytes.IndexByte(n, 0); i >= 0 {
				n = n[:i]
			}
			if string(n) == "." || string(n) == ".." {
				continue
			}
			fn(n)
		}
	}
}
