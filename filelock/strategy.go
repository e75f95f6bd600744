package filelock

// The strategies: what each is, their names, and which this platform
// supports.

import "fmt"

// Strategy selects how a lock excludes other owners.
type Strategy int

const (
	// Soft creates the lock file exclusively (O_CREAT|O_EXCL, never
	// following a symbolic link) and writes the holder record into it;
	// Unlock removes it. It works on every filesystem where O_EXCL is
	// atomic. It is the default. On Linux a holder keeps the lock file
	// open (one descriptor per held lock) until Unlock, so that its death
	// wakes the waiters of this host at once; Link does the same.
	Soft Strategy = iota

	// OS takes the operating system's advisory lock on a lock file that is
	// kept: flock(2) on Linux, macOS and the BSDs, LockFileEx on Windows.
	// The kernel drops the lock when the holder dies. Shared locks are
	// available with WithShared. The lock file is never removed. The
	// holder record is written only into an empty lock file or over a
	// record of this package: a file with other content is locked as it
	// is, and one with more than one link is refused (ErrHardLinked). A
	// user who may only read an existing lock file locks it all the same,
	// on a read-only descriptor, and writes no record.
	OS

	// OFD is the OS strategy with Linux open-file-description fcntl locks
	// (F_OFD_SETLK) instead of flock. They are byte-range locks, so they
	// reach the server on NFS, where flock may be emulated locally. Only
	// a shared OFD lock can be taken by a user who may only read the lock
	// file; an exclusive one fails with a permission error.
	OFD

	// Link is the Soft strategy made safe on NFS without relying on
	// O_EXCL, by the method of the open(2) manual page: the holder record
	// is written to a claim file with a unique name in the lock's
	// directory, which is then hard-linked to the lock path; the lock is
	// taken when link succeeds, or when it fails but the lock path names
	// the claim's own file with its record (a lost reply to a link that
	// happened). The claim name is removed at once. Soft and Link lock
	// files are the same kind of file, so the two strategies exclude each
	// other on one path.
	Link
)

var strategyNames = [...]string{Soft: "soft", OS: "os", OFD: "ofd", Link: "link"}

// String returns the strategy's name as ParseStrategy accepts it.
func (s Strategy) String() string {
	if s >= 0 && int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// ParseStrategy returns the strategy with the given name.
func ParseStrategy(name string) (Strategy, error) {
	for i, n := range strategyNames {
		if n == name {
			return Strategy(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown strategy %q (known: %v)", ErrInvalidOption, name, strategyNames)
}

// Strategies returns every strategy this platform supports, in order.
func Strategies() []Strategy {
	var out []Strategy
	for i := range strategyNames {
		if supported(Strategy(i)) {
			out = append(out, Strategy(i))
		}
	}
	return out
}

// fileBased reports whether the strategy's lock is the existence of the
// lock file (Soft and Link), which is what the stale rule applies to.
func (s Strategy) fileBased() bool { return s == Soft || s == Link }
