//go:build darwin || dragonfly || freebsd || illumos || netbsd || openbsd

package filelock

// lockerFor returns the kernel mechanism of strategy s on the systems
// whose only one is flock (flock.go): flock for the OS strategy, nothing
// for OFD, which is Linux's.
func lockerFor(s Strategy) (osLocker, bool) {
	if s == OS {
		return flockLocker{}, true
	}
	return nil, false
}
