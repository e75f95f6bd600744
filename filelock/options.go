package filelock

// The options of New: their defaults, the configuration they make, and
// the rejection of invalid values.

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
)

// Default option values.
const (
	// DefaultMinWait is the first wait between attempts of a blocking
	// acquisition.
	DefaultMinWait = 1 * time.Millisecond
	// DefaultMaxWait is the longest wait between attempts.
	DefaultMaxWait = 50 * time.Millisecond
	// DefaultPerm is the permission of every file a lock makes (see
	// WithPerm): readable by all, writable by its owner only.
	DefaultPerm fs.FileMode = 0o644
	// DefaultStaleAfter is the age after which a Soft or Link lock whose
	// holder may still be alive is broken (see WithStaleAfter).
	DefaultStaleAfter = 5 * time.Minute
	// MinStaleAfter is the shortest stale-after age WithStaleAfter accepts:
	// ages are read from file timestamps, which some filesystems keep to
	// the second.
	MinStaleAfter = time.Second
	// MinHeartbeat is the shortest heartbeat interval WithHeartbeat
	// accepts.
	MinHeartbeat = time.Millisecond
	// RecordGrace is how long a ticket of a fair queue (WithFair) without
	// a valid record is respected before it is removed: its maker may be
	// between creating the ticket and writing its record. A shorter
	// positive WithStaleAfter shortens it too. Lock files themselves have
	// no such grace: one without a record of this package is another
	// program's, and is broken only by age (WithStaleAfter).
	RecordGrace = 10 * time.Second
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
	openDir    bool // WithDirectoryWritableByAll
	staleAfter time.Duration
	heartbeat  time.Duration // 0: staleAfter/3
	fair       bool          // WithFair
	barging    bool          // WithBarging
	sharedPIDs bool          // WithSharedPIDNamespace
	polling    bool          // WithPolling

	fs    fsys.FS
	clock clock.Clock
	// self is the identity written into holder records; liveness says
	// whether a recorded holder is provably dead on this host. Both are
	// asked through holderState, never liveness alone.
	self     proc.Identity
	liveness func(proc.Identity) proc.State
	// monotonic reads the host's monotonic clock, which sighting files
	// (sightfile.go) are kept by.
	monotonic func() (time.Duration, bool)
	// mech, if set, replaces the strategy's mechanism (tests: deliberately
	// broken variants that the proofs must catch).
	mech func(mechanism) mechanism

	errs []error
}

func defaultConfig() config {
	return config{
		strategy:   Soft,
		minWait:    DefaultMinWait,
		maxWait:    DefaultMaxWait,
		perm:       DefaultPerm,
		staleAfter: DefaultStaleAfter,
		fs:         fsys.OS{},
		clock:      clock.Real{},
		self:       proc.Self(),
		liveness:   hostLiveness,
		monotonic:  proc.Monotonic,
	}
}

// hostLiveness decides whether a holder is dead from this host: only a
// holder recorded on this host, since this boot, in this PID namespace can
// be checked; any other is Unknown.
func hostLiveness(id proc.Identity) proc.State {
	if !proc.SameHost(id) {
		return proc.Unknown
	}
	return proc.Check(id)
}

// holderState is the one place that decides whether the holder of record
// r is gone: dead when r was written in an earlier boot of this machine
// (proc.EarlierBoot against c.self), and otherwise as liveness says. For
// a dead holder it also says why.
func (c *config) holderState(r *Record) (proc.State, string) {
	id := r.identity()
	if proc.EarlierBoot(id, r.Acquired, c.self, proc.BootTime()) {
		return proc.Dead, fmt.Sprintf("holder process %d: its record was written in an earlier boot of this machine (boot id %s, now %s)", id.PID, id.BootID, c.self.BootID)
	}
	state := c.liveness(id)
	if state == proc.Dead {
		return state, fmt.Sprintf("holder process %d on this host is dead", id.PID)
	}
	return state, ""
}

// heartbeatEvery is the interval of the holder's heartbeat, 0 for none.
func (c *config) heartbeatEvery() time.Duration {
	switch {
	case c.staleAfter == 0:
		return 0
	case c.heartbeat > 0:
		return c.heartbeat
	}
	return c.staleAfter / 3
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
//
// Unless WithBarging is given too, a shared acquisition gives way to an
// exclusive waiter that has asked for its turn, as sync.RWMutex's RLock
// waits behind a blocked Lock: TryLock fails, and a blocking acquisition
// waits until the writer has had the lock, for a few seconds at most. So
// a shared holder that waits for another blocking shared acquisition of
// the same lock (in a process it runs, say) may wait that long, never for
// ever; but a TryLock, or an acquisition whose deadline comes sooner,
// fails for as long as the writer waits, which is as long as the holder
// holds.
func WithShared() Option {
	return func(c *config) { c.shared = true }
}

// WithBackoff sets the waits between attempts of a blocking acquisition.
// The wait starts at min and doubles up to max; each wait is drawn at random
// from the upper half of the current step, never below min, so waiters
// spread out instead of retrying in lockstep. Both must be positive and
// min ≤ max. The defaults are DefaultMinWait and DefaultMaxWait.
//
// Where a waiter is woken by events (see WithPolling), the backoff only
// backs them up, and on a local filesystem, whose every change raises an
// event, a waiter may poll less often than max. With WithPolling, and on
// other filesystems, the waits are as set here.
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

// WithPerm sets the permission bits of every file the lock makes — lock
// files, claims, guards — exactly, whatever the umask (default
// DefaultPerm). Only permission bits are allowed, never write for others
// (0o002): whoever can write a lock file can forge its record; and read
// for the owner (0o400) is needed: a holder's own records must be read
// back, by itself and by every later process of its user.
//
// Group write (0o664) is the deliberate way to share an OS or OFD lock
// with a group, whose members can then write their records into the lock
// file (a user who may only read it takes an OS lock or a shared OFD lock
// without writing a record). Soft and Link locks need no write permission
// on another's lock file (only on the directory); a group-writable one's
// record could be forged by any member, so it is not trusted to prove its
// holder dead, and the file is broken only by age (see WithStaleAfter).
func WithPerm(perm fs.FileMode) Option {
	return func(c *config) {
		if perm&^fs.ModePerm != 0 {
			c.reject("permission %v has bits other than permission bits", perm)
			return
		}
		if perm&0o002 != 0 {
			c.reject("permission %v lets others write: any user could forge the holder record", perm)
			return
		}
		if perm&0o400 == 0 {
			c.reject("permission %v does not let the owner read: its own records could not be read back", perm)
			return
		}
		c.perm = perm
	}
}

// WithCreateDirs makes acquisition create the lock file's missing parent
// directories with permission perm (before the umask), less write for
// others: a directory all users may write lets anyone remove the lock file.
// The directory in which the missing ones would be made may not be one
// that all users may write without the sticky bit (see
// WithDirectoryWritableByAll): nothing is made then. Without
// WithCreateDirs a missing parent directory is an immediate error matching
// fs.ErrNotExist.
func WithCreateDirs(perm fs.FileMode) Option {
	return func(c *config) {
		if perm&^fs.ModePerm != 0 || perm&0o700 != 0o700 {
			c.reject("directory permission %v must be permission bits that include 0700", perm)
			return
		}
		c.createDirs, c.dirPerm = true, perm
	}
}

// WithDirectoryWritableByAll accepts a lock directory that all users may
// write without the sticky bit, with WithCreateDirs such a directory in
// which the missing ones are made, a fair queue that group or others may
// write, and an OS or OFD lock file or a lock directory of another user in
// a sticky directory that all users may write, which are otherwise
// refused with
// ErrUnsafeDirectory: anyone who may write such a directory, or the owner
// of such a file, may remove or rename the lock file, or the lock's
// directory, and so let a second process take the lock. It is for
// directories that show that mode whatever is set (a Kubernetes emptyDir;
// SMB, FAT or WSL drvfs mounts whose directories all show 0777), where
// everyone who can write the directory is trusted. Windows has no such
// rule to relax.
func WithDirectoryWritableByAll() Option {
	return func(c *config) { c.openDir = true }
}

// WithStaleAfter sets the age after which a Soft or Link lock is broken
// even though its holder cannot be shown to be dead (default
// DefaultStaleAfter); 0 turns age-based breaking off, and any other value
// must be at least MinStaleAfter. Choose it well above the longest pause a
// holder may suffer (see Lost). The age is the time since the lock file
// last changed — it was made, or refreshed by its holder's heartbeat —
// measured by the filesystem's own clock, never by comparing this host's
// clock with a server's. A lock is broken for its age only once this
// host has seen it unchanged for three fifths of d, on its monotonic
// clock, so that a step of the wall clock (this host's, or a file
// server's), which ages every lock at once, never breaks a holder whose
// heartbeat runs: a process that finds an abandoned lock already older
// than d breaks it that long after it, or, on Linux, an earlier process of
// this host, first saw it so (the earlier sighting is kept in a file
// beside the lock, so that processes making one TryLock each, such as
// cron jobs, break it too).
//
// Whatever d is, a lock whose holder is provably dead — recorded on this
// host, and its process gone or its PID now naming another process; or
// recorded in an earlier boot of this machine (same host name and machine
// id, another boot id; Linux) — is broken at once. A lock file made by
// another program (one without a record of this package: empty, a bare
// PID, another library's format) is broken only by this age, and never
// when d is 0; see WithSharedPIDNamespace.
//
// Every process using one lock should use the same value. The kernel
// strategies (OS, OFD) need no age for their locks, which the kernel
// releases when the holder dies; but every strategy's waiters queue in
// turn (see WithFair) with tickets judged by the same rules, so a waiter
// that is stopped (SIGSTOP, Ctrl-Z) holds up those queued behind it for
// up to d, even once the lock is free.
func WithStaleAfter(d time.Duration) Option {
	return func(c *config) {
		if d != 0 && d < MinStaleAfter {
			c.reject("stale-after must be 0 (off) or at least %v, got %v", MinStaleAfter, d)
			return
		}
		c.staleAfter = d
	}
}

// WithSharedPIDNamespace declares that every program that takes the lock
// runs on this host, in this process's PID namespace, so that the PID in
// another program's lock file (see ForeignHolder) can be trusted: the file
// is broken at once when that PID names no process or a zombie. Without it
// such a file is broken only by age (WithStaleAfter), because a PID alone
// does not say which host or container wrote it. It applies to Soft and
// Link locks.
func WithSharedPIDNamespace() Option {
	return func(c *config) { c.sharedPIDs = true }
}

// WithHeartbeat sets how often a holder of a Soft or Link lock refreshes
// the lock file's mtime while it holds it (default a third of the
// stale-after age), so that a long critical section is never broken by
// age. d must be at least MinHeartbeat and at most half the stale-after
// age. Without age-based breaking (WithStaleAfter(0)) there is no
// heartbeat.
func WithHeartbeat(d time.Duration) Option {
	return func(c *config) {
		if d < MinHeartbeat {
			c.reject("heartbeat interval must be at least %v, got %v", MinHeartbeat, d)
			return
		}
		c.heartbeat = d
	}
}
