//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package main

import (
	"errors"
	"io/fs"
	"time"
)

// kernelFlock is the kernel's flock(2), which this system does not have
// (or, on Solaris, emulates with locks that belong to the process).
type kernelFlock struct{}

// newKernelFlock reports that the kernel's flock(2) is missing here.
func newKernelFlock(path string) (*kernelFlock, error) {
	return nil, &fs.PathError{Op: "flock", Path: path, Err: errors.ErrUnsupported}
}

func (*kernelFlock) lock(time.Duration) (bool, error) { return false, errors.ErrUnsupported }
func (*kernelFlock) unlock() error                    { return errors.ErrUnsupported }
func (*kernelFlock) close()                           {}
