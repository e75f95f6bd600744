package stress

import (
	"errors"
	"io"
	"runtime"
	"time"
)

// Config describes one run. The zero values of the optional fields select
// the defaults documented on each.
type Config struct {
	// Dir is the directory under test. The run makes its own subdirectory
	// in it and removes it afterwards. Empty means a fresh temporary
	// directory, removed afterwards.
	Dir string

	// Join makes this host one of several that share a run (Dir must be
	// on a filesystem they share, and RunID must be set): the run
	// directory is Dir/RunID, created if missing and kept, and this
	// host's logs and results are written to a directory of their own
	// under Dir/RunID/hosts for Verify.
	Join bool

	// RunID names the run. Empty means a random one (not with Join).
	RunID string

	// Strategy is the lock under test. Required.
	Strategy Strategy

	// Procs is the number of worker processes (default 4 × CPUs).
	Procs int

	// Duration is how long the workers run and are measured (default
	// 10s).
	Duration time.Duration

	// Warmup, when positive, is a time the workers run before Duration
	// begins, all starting together as usual: every violation in it is
	// still detected and reported, and its errors are counted, but its
	// acquisitions are left out of the figures (latency, throughput,
	// fairness, handoffs, the lock's held share). An acquisition counts
	// when its wait began after the warm-up; a hold that spans the
	// warm-up's end counts from then on. Processor time and memory are
	// metered from up to 100 ms before its end (see Report.WorkerCPUNs).
	// It leaves out the
	// start of the run, when every worker begins at once and runs the
	// lock's code for the first time, to measure contention as it
	// continues. Faults are injected only after it.
	Warmup time.Duration

	// Hold is the time spent inside each critical section; Think the time
	// between them. Both default to 0.
	Hold, Think Dist

	// Timeout bounds each acquisition (LockContext with a deadline); a
	// timeout is counted as an error, not a violation. 0 means no bound
	// but the end of the run; with faults it means DefaultFaultTimeout.
	Timeout time.Duration

	// StaleAfter is the stale-after age of the soft and link strategies
	// (filelock.WithStaleAfter): 0 means the library's default, a
	// negative value turns age-based breaking off. A -stop pause longer
	// than it lets a waiter break the stopped holder's lock, which the
	// detectors then report: the lock's documented limit, shown.
	StaleAfter time.Duration

	// Fair makes the workers' locks fair (filelock.WithFair): they take
	// turns in the order they began waiting. Barging makes them never take
	// turns (filelock.WithBarging), as the library's default does past a
	// bound. Polling makes them wait by polling alone
	// (filelock.WithPolling), without event wake-ups. The broken
	// strategies ignore all three.
	Fair, Barging, Polling bool

	// NoDeadline makes the workers of the os and ofd strategies wait
	// without a deadline (filelock's Lock rather than LockContext with the
	// run's end), as a program that waits as long as it takes. On Linux,
	// on a local filesystem, both wait in the kernel's own queue; without
	// a deadline no wait is abandoned at the end of the run, which then
	// waits for each such waiter to take the lock once (it is released at
	// once and not counted). The other strategies wait the same way with or
	// without a deadline and keep the run's. Not with Timeout or faults,
	// whose waits must be bounded, nor with Polling.
	NoDeadline bool

	// Seed seeds the hold and think times and the choice of fault
	// targets. Nonces are always random.
	Seed uint64

	// DetectorsOff turns the three detectors off, to measure the
	// harness's own cost. Latency, throughput and fairness are still
	// measured; violations cannot be seen.
	DetectorsOff bool

	// KillRate is the mean number of SIGKILLs per second sent to workers
	// holding the lock (a Poisson process); 0 means none. A killed worker
	// is restarted.
	KillRate float64

	// Stop, when positive, pauses a worker holding the lock with SIGSTOP
	// for this long, StopRate times a second on average (default 1).
	Stop     time.Duration
	StopRate float64

	// Grace is how long after the end of the run a worker may take to
	// finish before it is reported hung and killed (default 10s).
	Grace time.Duration

	// Executable is the program started as a worker (default: this
	// program, os.Executable). It must call RunWorkerIfChild first thing
	// in main (or TestMain). Args are its arguments, Env added to its
	// environment.
	Executable string
	Args       []string
	Env        []string

	// Progress, if not nil, receives a progress line once a second
	// (carriage return, no newline; write it to a terminal).
	Progress io.Writer

	// MaxExamples is how many violations of each detector, kills and
	// stops are described in full (default 10).
	MaxExamples int

	// Host names this host in reports (default: the hostname).
	Host string

	// MinChecked is the fewest critical sections that each detector must
	// have checked for the run to pass rather than be INCONCLUSIVE: 0
	// means one per worker, a negative value no minimum.
	MinChecked int
}

// Defaults.
const (
	DefaultDuration     = 10 * time.Second
	DefaultGrace        = 10 * time.Second
	DefaultMaxExamples  = 10
	DefaultFaultTimeout = time.Second
)

// DefaultProcs returns the default number of worker processes: 4 × CPUs.
func DefaultProcs() int { return 4 * runtime.NumCPU() }

// ConfigError reports an invalid Config field. Field is the name of the
// field; errors.Is(err, ErrInvalidConfig) holds.
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Is makes every ConfigError match ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// ErrInvalidConfig matches every error that Run returns for an invalid
// Config.
var ErrInvalidConfig = errors.New("invalid configuration")

// ErrProcessLimit matches the error of a Config whose Procs would exceed
// the user's process limit (RLIMIT_NPROC, "ulimit -u").
var ErrProcessLimit = errors.New("too many processes for the user's limit")
