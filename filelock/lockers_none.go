//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || windows)

package filelock

// lockerFor reports that this system has no kernel mechanism: only the
// file-based strategies (Soft and Link) are available.
func lockerFor(Strategy) (osLocker, bool) { return nil, false }
