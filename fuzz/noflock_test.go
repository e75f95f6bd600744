//go:build unix && !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package fuzz

import (
	"errors"
	"os"
)

// flockLock is never called where the OS strategy does not exist.
func flockLock(*os.File) error { return errors.ErrUnsupported }
