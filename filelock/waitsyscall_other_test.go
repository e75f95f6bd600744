//go:build !linux

package filelock

import "testing"

// waitForLockSyscall is Linux's: elsewhere no wait is made in the kernel.
func waitForLockSyscall(t *testing.T, s Strategy) {
	t.Helper()
	t.Fatalf("%v: waits are made in the kernel only on Linux", s)
}
