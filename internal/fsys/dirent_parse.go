//go:build unix && !linux

package fsys

import "golang.org/x/sys/unix"

// direntNames returns a function that calls fn with the name of every
// entry of a batch of the system's directory records but "." and "..".
func direntNames(fn func(name []byte)) func(batch []byte) {
	var names []string
	return func(batch []byte) {
		_, _, names = unix.ParseDirent(batch, -1, names[:0])
		eachName(names, fn)
	}
}
