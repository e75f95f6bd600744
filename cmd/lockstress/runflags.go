package main

import (
	"io"

	"github.com/lockstress/lockstress/filelock"
	"github.com/lockstress/lockstress/stress"
)

// checkStressFlags checks, before any run, what the flags of a run or a
// worker ask for, and says what is wrong.
func checkStressFlags(stderr io.Writer, sub string, set map[string]bool, o options, strategies []stress.Strategy) (int, bool) {
	if sub == "worker" {
		switch {
		case o.dir == "":
			return usageError(stderr, sub, "-dir is required: the directory that the hosts share"), false
		case o.runID == "":
			return usageError(stderr, sub, "-run-id is required: the same id on every host of the run"), false
		case len(strategies) != 1:
			return usageError(stderr, sub, "-strategy: a shared run tests one strategy, not %q", o.strategy), false
		}
	}
	if set["stop-rate"] && !set["stop"] {
		return usageError(stderr, sub, "-stop-rate needs -stop"), false
	}
	if code, ok := checkHgrm(stderr, sub, o.hgrm, strategies, o.detectors); !ok {
		return code, false
	}
	if code, ok := checkHTML(stderr, sub, o.html); !ok {
		return code, false
	}
	return checkZero(stderr, sub, set, o)
}

// checkZero rejects flag values that the library would read otherwise
// than the flag means: zeros that it would replace by its defaults (a
// mistake, not a request for the default), and combinations that it would
// reject in terms of its Config rather than of the flags.
func checkZero(stderr io.Writer, sub string, set map[string]bool, o options) (int, bool) {
	switch {
	case set["procs"] && o.procs <= 0:
		return usageError(stderr, sub, "-procs must be at least 1, got %d", o.procs), false
	case set["dur"] && o.dur <= 0:
		return usageError(stderr, sub, "-dur must be positive, got %v", o.dur), false
	case set["grace"] && o.grace <= 0:
		return usageError(stderr, sub, "-grace must be positive, got %v", o.grace), false
	case set["examples"] && o.examples <= 0:
		return usageError(stderr, sub, "-examples must be at least 1, got %d", o.examples), false
	case set["stop-rate"] && o.stopRate <= 0:
		return usageError(stderr, sub, "-stop-rate must be positive, got %v", o.stopRate), false
	case o.minChecked < 0:
		return usageError(stderr, sub, "-min-checked must not be negative, got %d", o.minChecked), false
	case o.staleAfter < 0 || o.staleAfter > 0 && o.staleAfter < filelock.MinStaleAfter:
		return usageError(stderr, sub, "-stale-after must be at least %v, or 0 to turn age-based breaking off; got %v", filelock.MinStaleAfter, o.staleAfter), false
	case o.fair && o.barging:
		return usageError(stderr, sub, "-barging cannot go with -fair: fair waiters always take turns, and the run would be reported as barging"), false
	}
	return checkNoDeadline(stderr, sub, o)
}

// checkNoDeadline rejects the flags that -no-deadline cannot go with.
func checkNoDeadline(stderr io.Writer, sub string, o options) (int, bool) {
	if !o.noDeadline {
		return 0, true
	}
	for _, f := range []string{"timeout", "kill-rate", "stop", "poll"} {
		if asksFor(f, o) {
			return usageError(stderr, sub, "-no-deadline cannot go with -%s: %s", f, noDeadlineWhy[f]), false
		}
	}
	return 0, true
}

// noDeadlineWhy says why -no-deadline cannot go with each flag.
var noDeadlineWhy = map[string]string{
	"timeout":   "a wait without a deadline cannot be bounded",
	"kill-rate": "faults need every wait bounded, and a wait without a deadline is not",
	"stop":      "faults need every wait bounded, and a wait without a deadline is not",
	"poll":      "-no-deadline waits in the kernel, which -poll turns off",
}

// asksFor reports whether flag f asks for something: a zero -timeout,
// -kill-rate or -stop, or -poll=false, asks for nothing.
func asksFor(f string, o options) bool {
	switch f {
	case "timeout":
		return o.timeout > 0
	case "kill-rate":
		return o.killRate > 0
	case "stop":
		return o.stop > 0
	}
	return o.polling
}
