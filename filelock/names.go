package filelock

import "fmt"

// nameMax is the longest file name, in bytes, that the filesystems this
// package supports accept (NAME_MAX on Linux, macOS and the BSDs; 255
// UTF-16 units on Windows, never fewer bytes).
const nameMax = 255

// pidWidth is the widest process ID written into a temporary name.
const pidWidth = 10

// longestSuffix returns the length of the longest name the lock makes
// beside its lock file, less the lock file's own name: the guard's claims
// and moved-aside files for Soft and Link, the queue for a fair lock.
func longestSuffix(c *config) int {
	n := 0
	if c.queues() {
		n = len(queueSuffix)
	}
	if !c.strategy.fileBased() {
		return n
	}
	host := min(len(c.self.Host), 32)
	rand := 1 + 16
	claim := len("."+kindClaim+".") + host + 1 + pidWidth + rand
	aside := len("."+kindAside+".") + 11 + rand
	probe := len("."+kindProbe) + rand
	return max(n, len(guardSuffix)+max(claim, aside, probe))
}

// checkNameLength rejects a lock file name too long for the names the lock
// makes beside it; the error states the limit.
func checkNameLength(base string, c *config) error {
	limit := nameMax - longestSuffix(c)
	if len(base) <= limit {
		return nil
	}
	return fmt.Errorf("%w: the name %d bytes long exceeds the %d bytes that leave room for the names made beside it (at most %d)",
		ErrInvalidPath, len(base), limit, nameMax)
}
