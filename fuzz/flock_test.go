//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package fuzz

import (
	"os"

	"golang.org/x/sys/unix"
)

// flockLock takes an exclusive flock on f without waiting: the OS
// strategy's lock on the systems where it is flock (filelock/flock.go).
func flockLock(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
}
