package stress

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/lockstress/lockstress/filelock"
)

// Strategy is a lock under test: one of filelock's strategies, a lock
// that an external adapter takes (Exec), or one of the broken strategies
// that exist only to prove that the detectors fire. The zero Strategy is
// not valid.
type Strategy struct {
	name    string
	lock    filelock.Strategy
	broken  bool
	adapter string
	mixed   bool // a mixed population (Mix): its members are in its name
}

// The broken strategies. They do not exclude anything, on purpose.
var (
	// None takes no lock at all: every worker enters the critical section
	// at once.
	None = Strategy{name: "none", broken: true}
	// Racy checks that the lock file does not exist and then creates it
	// without O_EXCL, and removes it on release: two workers that check
	// at the same time both enter. The gap between check and create is
	// widened to RacyWindow so that a short run is sure to see it.
	Racy = Strategy{name: "racy", broken: true}
)

// RacyWindow is the pause of the Racy strategy between finding the lock
// file absent and creating it.
const RacyWindow = 100 * time.Microsecond

// racyPoll is how often the Racy strategy looks at the lock file while it
// exists.
const racyPoll = 50 * time.Microsecond

// waitsInKernel reports whether s is a strategy whose waits without a
// deadline filelock makes in the kernel (os, ofd).
func (s Strategy) waitsInKernel() bool {
	if s.mixed {
		for _, m := range s.Members() {
			if !m.waitsInKernel() {
				return false
			}
		}
		return true
	}
	return !s.broken && s.adapter == "" && (s.lock == filelock.OS || s.lock == filelock.OFD)
}

// Real returns the Strategy that tests filelock strategy s.
func Real(s filelock.Strategy) Strategy { return Strategy{name: s.String(), lock: s} }

// Strategies returns the real strategies, filelock.Strategies() in order.
// It never includes a broken strategy.
func Strategies() []Strategy {
	var out []Strategy
	for _, s := range filelock.Strategies() {
		out = append(out, Real(s))
	}
	return out
}

// BrokenStrategies returns the broken strategies: None and Racy.
func BrokenStrategies() []Strategy { return []Strategy{None, Racy} }

// ParseStrategy returns the strategy with the given name: a name that
// filelock.ParseStrategy accepts and this platform supports, "none" or
// "racy", "exec:COMMAND" for the adapter that COMMAND starts (Exec), or
// such names joined by commas for a mixed population (Mix).
func ParseStrategy(name string) (Strategy, error) {
	if strings.Contains(name, mixSep) {
		return parseMix(name)
	}
	return parseSingle(name)
}

// parseSingle is ParseStrategy for a strategy that is not a mix.
func parseSingle(name string) (Strategy, error) {
	if command, ok := strings.CutPrefix(name, execPrefix); ok {
		if strings.TrimSpace(command) == "" {
			return Strategy{}, fmt.Errorf("strategy %q: no adapter command after %q", name, execPrefix)
		}
		return Exec(command), nil
	}
	for _, s := range BrokenStrategies() {
		if s.name == name {
			return s, nil
		}
	}
	fs, err := filelock.ParseStrategy(name)
	if err != nil {
		return Strategy{}, fmt.Errorf("unknown strategy %q (known: %s)", name, strategyNames())
	}
	for _, s := range filelock.Strategies() {
		if s == fs {
			return Real(s), nil
		}
	}
	return Strategy{}, fmt.Errorf("strategy %q is not supported on this platform (known: %s)", name, strategyNames())
}

// ParseStrategies returns the strategies a name selects: "all" selects
// Strategies(), any other name what ParseStrategy returns.
func ParseStrategies(name string) ([]Strategy, error) {
	if name == "all" {
		return Strategies(), nil
	}
	s, err := ParseStrategy(name)
	if err != nil {
		return nil, err
	}
	return []Strategy{s}, nil
}

func strategyNames() string {
	var names []string
	for _, s := range append(Strategies(), BrokenStrategies()...) {
		names = append(names, s.name)
	}
	return strings.Join(append(names, "all", "exec:COMMAND", "NAME,NAME… (a mixed population)"), ", ")
}

// String returns the strategy's name.
func (s Strategy) String() string {
	if s.name == "" {
		return "(no strategy)"
	}
	return s.name
}

// Broken reports whether s is one of the broken strategies.
func (s Strategy) Broken() bool { return s.broken }

// IsZero reports whether s is the zero Strategy.
func (s Strategy) IsZero() bool { return s.name == "" }

// MarshalText encodes the strategy as its name.
func (s Strategy) MarshalText() ([]byte, error) { return []byte(s.name), nil }

// UnmarshalText decodes a strategy name as ParseStrategy does.
func (s *Strategy) UnmarshalText(b []byte) error {
	v, err := ParseStrategy(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// locker is what a worker needs of a lock; *filelock.Lock has it.
type locker interface {
	LockContext(ctx context.Context) error
	Unlock() error
}

// newLocker returns a handle for the lock at path, with the given options
// beside the strategy; t bounds an adapter's answers. The broken
// strategies and the adapters ignore the options.
func (s Strategy) newLocker(path string, t adapterTimeouts, opts ...filelock.Option) (locker, error) {
	switch {
	case s == None:
		return noLock{}, nil
	case s == Racy:
		return racyLock{path: path}, nil
	case s.adapter != "":
		a, err := startAdapter(s.adapter, path, t)
		if err != nil {
			return nil, err // not a nil *adapterLock in an interface
		}
		return a, nil
	}
	return filelock.New(path, append([]filelock.Option{filelock.WithStrategy(s.lock)}, opts...)...)
}

type noLock struct{}

func (noLock) LockContext(ctx context.Context) error { return ctx.Err() }
func (noLock) Unlock() error                         { return nil }

type racyLock struct{ path string }

func (l racyLock) LockContext(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := os.Lstat(l.path)
		if errors.Is(err, fs.ErrNotExist) {
			time.Sleep(RacyWindow)
			f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
			if err != nil {
				return err
			}
			return f.Close()
		}
		if err != nil {
			return err
		}
		t.Reset(racyPoll)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (l racyLock) Unlock() error {
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
