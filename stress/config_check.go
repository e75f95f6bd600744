package stress

// withDefaults, and the checks it makes of a Config before a run.

import (
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/lockstress/lockstress/filelock"
)

// invalid returns a ConfigError for field.
func invalid(field, format string, args ...any) error {
	return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
}

// withDefaults returns c with defaults filled in, or the first invalid
// field.
func (c Config) withDefaults() (Config, error) {
	if !platformSupported {
		return c, fmt.Errorf("lockstress runs on Linux only: %w", errors.ErrUnsupported)
	}
	if c.Strategy.IsZero() {
		return c, invalid("Strategy", "no strategy given")
	}
	c = c.filled()
	if err := c.checkRanges(); err != nil {
		return c, err
	}
	if err := checkProcessLimit(c.Procs); err != nil {
		return c, &ConfigError{Field: "Procs", Err: err}
	}
	if err := c.checkWaits(); err != nil {
		return c, err
	}
	// It changes nothing for the other strategies, and says so.
	c.NoDeadline = c.NoDeadline && c.Strategy.waitsInKernel()
	if c.faults() && c.Timeout == 0 {
		c.Timeout = DefaultFaultTimeout
	}
	if err := c.checkJoin(); err != nil {
		return c, err
	}
	return c.withIdentity()
}

// filled returns c with the defaults of the fields left zero.
func (c Config) filled() Config {
	if c.Procs == 0 {
		c.Procs = DefaultProcs()
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Stop > 0 && c.StopRate == 0 {
		c.StopRate = 1
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.MaxExamples == 0 {
		c.MaxExamples = DefaultMaxExamples
	}
	return c
}

// checkRanges returns the first field out of its range.
func (c Config) checkRanges() error {
	for _, check := range []struct {
		bad   bool
		field string
		want  string
		got   any
	}{
		{c.Procs < 1, "Procs", "must be at least 1", c.Procs},
		{c.Duration < 0, "Duration", "must be positive", c.Duration},
		{c.Warmup < 0, "Warmup", "must not be negative", c.Warmup},
		{c.Timeout < 0, "Timeout", "must not be negative", c.Timeout},
		{badRate(c.KillRate), "KillRate", "must be a non-negative number", c.KillRate},
		{c.Stop < 0, "Stop", "must not be negative", c.Stop},
		{badRate(c.StopRate), "StopRate", "must be a non-negative number", c.StopRate},
		{c.Grace < 0, "Grace", "must be positive", c.Grace},
		{c.StaleAfter > 0 && c.StaleAfter < filelock.MinStaleAfter, "StaleAfter", "must be at least " + filelock.MinStaleAfter.String() + " (or 0 for the default, negative for off)", c.StaleAfter},
		{c.MaxExamples < 0, "MaxExamples", "must not be negative", c.MaxExamples},
	} {
		if check.bad {
			return invalid(check.field, "%s, got %v", check.want, check.got)
		}
	}
	return nil
}

// checkWaits refuses waits without a deadline where they cannot be had,
// and modes of waiting that cannot be combined.
func (c Config) checkWaits() error {
	if c.NoDeadline && (c.Timeout > 0 || c.faults()) {
		return invalid("NoDeadline", "waits without a deadline cannot be bounded by Timeout, and faults need that bound")
	}
	if c.NoDeadline && c.Polling {
		return invalid("NoDeadline", "is for waiting in the kernel, which Polling turns off")
	}
	if c.Fair && c.Barging {
		// The library ignores WithBarging beside WithFair: the report
		// would name a mode the run did not have.
		return invalid("Barging", "is ignored with Fair, whose waiters always take turns")
	}
	return nil
}

// checkJoin checks the run id, and what a run that hosts join needs.
func (c Config) checkJoin() error {
	if c.Join && c.RunID == "" {
		return invalid("RunID", "a run that hosts join needs a run id")
	}
	if c.Join && c.Dir == "" {
		return invalid("Dir", "a run that hosts join needs the shared directory")
	}
	if c.RunID != "" && !validRunID(c.RunID) {
		return invalid("RunID", "%q: use letters, digits, '.', '_' and '-' only", c.RunID)
	}
	return nil
}

// withIdentity returns c with this host's name and this program's path
// where they were left empty.
func (c Config) withIdentity() (Config, error) {
	if c.Host == "" {
		c.Host, _ = os.Hostname()
		if c.Host == "" {
			c.Host = "localhost"
		}
	}
	if c.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return c, invalid("Executable", "cannot find this program: %v", err)
		}
		c.Executable = exe
	}
	return c, nil
}

func badRate(r float64) bool { return r < 0 || math.IsNaN(r) || math.IsInf(r, 0) }

func (c Config) faults() bool { return c.KillRate > 0 || c.Stop > 0 }

func validRunID(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}
