//go:build linux

package filelock

// lockerFor returns the kernel mechanism of strategy s on Linux: flock for
// the OS strategy, open-file-description locks for OFD.
func lockerFor(s Strategy) (osLocker, bool) {
	switch s {
	case OS:
		return flockLocker{}, true
	case OFD:
		return ofdLocker{}, true
	}
	return nil, false
}
