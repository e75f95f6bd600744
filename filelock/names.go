package filelock

// The names the lock makes beside its lock file: temporary names (claims,
// probes, files moved aside), and the longest lock name that leaves room
// for them.

import (
	"fmt"
	"strconv"
	"strings"
)

// nameMax is the longest file name, in bytes, that the filesystems this
// package supports accept (NAME_MAX on Linux, macOS and the BSDs; 255
// UTF-16 units on Windows, never fewer bytes).
const nameMax = 255

// pidWidth is the widest process ID written into a temporary name, and
// uidWidth the widest user ID written into a sighting file's.
const (
	pidWidth = 10
	uidWidth = 10
)

// longestSuffix returns the length of the longest name the lock makes
// beside its lock file, less the lock file's own name: the guard's claims,
// moved-aside and sighting files for Soft and Link, the queue for a fair
// lock.
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
	seen := 0
	if _, ok := c.monotonic(); ok && c.self.BootID != "" { // sighting files are kept
		seen = len("."+kindSeen+".") + bootPrefix + 1 + uidWidth + len("."+kindTemp) + rand
	}
	return max(n, len(guardSuffix)+max(claim, aside, probe, seen))
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

// Temporary names. Every file the lock makes beside the lock file is named
// "<lock>.<kind>.<unique>", where unique holds random bytes, so that the
// names of one lock are recognised (and old ones swept) and never collide.
const (
	kindClaim = "claim" // Link strategy: the record before it is linked
	kindProbe = "probe" // a file written to read the filesystem's clock
	kindAside = "aside" // a lock file moved aside to be removed
	kindTemp  = "tmp"   // AtomicInit: a marker before it is renamed
)

// tempName returns a fresh temporary name of the given kind beside path.
// parts name the maker (host, PID) where that helps a person reading the
// directory; they are sanitised to stay one file name.
func tempName(path, kind string, parts ...string) string {
	return besideName(path, kind, parts...) + "." + newToken()[:16]
}

// besideName returns the name "<path>.<kind>.<part>..." of a file the lock
// makes beside path, its parts sanitised to stay one file name.
func besideName(path, kind string, parts ...string) string {
	var b strings.Builder
	b.WriteString(path)
	b.WriteString(".")
	b.WriteString(kind)
	for _, p := range parts {
		b.WriteString(".")
		b.WriteString(strings.Map(func(r rune) rune {
			if r == '/' || r == '\\' || r == 0 || r < ' ' {
				return '_'
			}
			return r
		}, p))
	}
	return b.String()
}

// shortHost is this host's name as the names the lock makes carry it: its
// first 32 bytes.
func shortHost(l *Lock) string {
	host := l.cfg.self.Host
	if len(host) > 32 {
		host = host[:32]
	}
	return host
}

// claimName returns a fresh claim name beside path that says which process
// made it.
func claimName(l *Lock, path string) string {
	return tempName(path, kindClaim, shortHost(l), strconv.Itoa(l.cfg.self.PID))
}
