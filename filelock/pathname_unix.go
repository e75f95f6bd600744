//go:build !windows

package filelock

import (
	"os"
	"strings"
)

// The kernel resolves a path one element at a time, so "a/../f" names
// nothing when a does not exist, and "l/../f", with l a symbolic link,
// names f beside l's target, not beside l. Every program that opens the
// lock path as written (flock(1), Python, another copy of this library)
// therefore means the kernel's file, and cleaning the path lexically, as
// filepath.Abs and filepath.Dir do, would lock a different one. The lock
// path and the names made beside it are kept as written.

// absolute returns path made absolute by prefixing the working directory,
// without cleaning it.
func absolute(path string) (string, error) {
	if strings.HasPrefix(path, "/") {
		return path, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return strings.TrimRight(wd, "/") + "/" + path, nil
}

// dirOf returns the directory that holds the last element of path, as
// written: path up to its last separator.
func dirOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "."
	}
	if dir := strings.TrimRight(path[:i], "/"); dir != "" {
		return dir
	}
	return "/"
}

// besideDir returns the name in directory dir (as returned by dirOf).
func besideDir(dir, name string) string {
	return strings.TrimRight(dir, "/") + "/" + name
}
