package filelock

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
)

// Strategy selects how a lock excludes other owners.
type Strategy int

const (
	// Soft creates the lock file exclusively (O_CREAT|O_EXCL, never
	// following a symbolic link) and writes the holder record into it;
	// Unlock removes it. It works on every filesystem where O_EXCL is
	// atomic. It is the default.
	Soft Strategy = iota

	// OS takes the operating system's advisory lock on a lock file that is
	// kept: flock(2) on Linux, macOS and the BSDs, LockFileEx on Windows.
	// The kernel drops the lock when the holder dies. Shared locks are
	// available with WithShared. The lock file is never removed.
	OS

	// OFD is the OS strategy with Linux open-file-description fcntl locks
	// (F_OFD_SETLK) instead of flock. They are byte-range locks, so they
	// reach the server on NFS, where flock may be emulated locally.
	OFD
)

var strategyNames = [...]string{Soft: "soft", OS: "os", OFD: "ofd"}

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

// Default option values.
const (
	// DefaultMinWait is the first wait between attempts of a blocking
	// acquisition.
	DefaultMinWait = 1 * time.Millisecond
	// DefaultMaxWait is the longest wait between attempts.
	DefaultMaxWait = 50 * time.Millisecond
	// DefaultPerm is the permission a new lock file is created with,
	// before the umask.
	DefaultPerm fs.FileMode = 0o666
)

// An Option configures a Lock. Options are applied in order by New, which
// rejects invalid values with an error matching ErrInvalidOption.
type Option func(*config)

type config struct {
	strategy   Strategy
	shared     bool
	minWait    time.Duration
	maxWait    time.Duration
	timeout    time.Duration
	perm       fs.FileMode
	createDirs bool
	dirPerm    fs.FileMode
	fair       bool // WithFair
	polling    bool // WithPolling

	fs    fsys.FS
	clock clock.Clock

	errs []error
}

func defaultConfig() config {
	return config{
		strategy: Soft,
		minWait:  DefaultMinWait,
		maxWait:  DefaultMaxWait,
		perm:     DefaultPerm,
		fs:       fsys.OS{},
		clock:    clock.Real{},
	}
}

func (c *config) reject(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...))
}

// WithStrategy selects the strategy (default Soft).
func WithStrategy(s Strategy) Option {
	return func(c *config) {
		if s < 0 || int(s) >= len(strategyNames) {
			c.reject("unknown strategy %d", int(s))
			return
		}
		c.strategy = s
	}
}

// WithShared makes the lock a shared (read) lock: any number of shared
// holders exclude every exclusive holder. Only the OS and OFD strategies
// provide shared locks; New rejects it for the others. A shared holder
// writes no holder record.
func WithShared() Option {
	return func(c *config) { c.shared = true }
}

// WithBackoff sets the waits between attempts of a blocking acquisition.
// The wait starts at min and doubles up to max; each wait is drawn at random
// from the upper half of the current step, never below min, so waiters
// spread out instead of retrying in lockstep. Both must be positive and
// min ≤ max. The defaults are DefaultMinWait and DefaultMaxWait.
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) {
		if min <= 0 || max <= 0 {
			c.reject("backoff waits must be positive (min %v, max %v)", min, max)
			return
		}
		if min > max {
			c.reject("backoff min %v is greater than max %v", min, max)
			return
		}
		c.minWait, c.maxWait = min, max
	}
}

// WithTimeout bounds every blocking acquisition (Lock and LockContext) by
// d; d must be positive. A wait that runs out returns an error matching
// ErrTimeout and context.DeadlineExceeded. Without it Lock waits forever.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.reject("timeout must be positive, got %v", d)
			return
		}
		c.timeout = d
	}
}

// WithPerm sets the permission bits a new lock file is created with, before
// the umask (default DefaultPerm). Only permission bits are allowed.
func WithPerm(perm fs.FileMode) Option {
	return func(c *config) {
		if perm&^fs.ModePerm != 0 {
			c.reject("permission %v has bits other than permission bits", perm)
			return
		}
		c.perm = perm
	}
}

// WithCreateDirs makes acquisition create the lock file's missing parent
// directories with permission perm (before the umask). Without it a missing
// parent directory is an immediate error matching fs.ErrNotExist.
func WithCreateDirs(perm fs.FileMode) Option {
	return func(c *config) {
		if perm&^fs.ModePerm != 0 || perm&0o700 != 0o700 {
			c.reject("directory permission %v must be permission bits that include 0700", perm)
			return
		}
		c.createDirs, c.dirPerm = true, perm
	}
}

// withFS runs the file-based strategies over another filesystem (tests).
func withFS(f fsys.FS) Option { return func(c *config) { c.fs = f } }

// withClock sets the clock used for waiting and time stamps (tests).
func withClock(k clock.Clock) Option { return func(c *config) { c.clock = k } }
