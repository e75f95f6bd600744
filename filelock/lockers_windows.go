//go:build windows

package filelock

// lockerFor returns the kernel mechanism of strategy s on Windows:
// LockFileEx for the OS strategy, nothing for OFD.
func lockerFor(s Strategy) (osLocker, bool) {
	if s == OS {
		return winLocker{}, true
	}
	return nil, false
}
