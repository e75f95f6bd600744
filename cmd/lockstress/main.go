// Command lockstress stress-tests a cross-process file lock: it starts
// competing worker processes that acquire and release one lock in a
// directory, checks with three independent detectors that no two were ever
// inside the critical section at once, and reports latency, throughput and
// fairness. It exits 0 only when the run passed: no violation, every
// worker finished, and enough critical sections were checked; CI can gate
// on it.
//
// Usage:
//
//	lockstress [flags]
//	lockstress worker -dir DIR -run-id ID [flags]
//	lockstress verify [-json FILE] RUNDIR
//	lockstress html [-o FILE] REPORT.json...
//	lockstress strategies
//	lockstress help [command]
//
// Run "lockstress -h" or "lockstress help COMMAND" for the flags, and see
// docs/lockstress.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lockstress/lockstress/filelock"
	"github.com/lockstress/lockstress/stress"
)

func main() {
	stress.RunWorkerIfChild()
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go endOnSignals(signals, cancel)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	signal.Stop(signals)
	os.Exit(code)
}

// endOnSignals ends the run at the first signal: it still stops its
// workers, tidies up and writes its reports. A second signal ends
// lockstress at once, with the status a shell gives a process that a
// signal killed (130 for SIGINT), whatever lockstress was started with
// (a job started in the background by a script ignores SIGINT); its
// workers die with it (Pdeathsig).
func endOnSignals(signals <-chan os.Signal, cancel context.CancelFunc) {
	<-signals
	cancel()
	sig := <-signals
	code := 128 + 2 // SIGINT's, where a signal has no number
	if n, ok := sig.(syscall.Signal); ok {
		code = 128 + int(n)
	}
	os.Exit(code)
}

// run runs lockstress with the given arguments and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if c := lookup(args[0]); c != nil && c.name != "" {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	return runStress(ctx, "", args, stdout, stderr)
}

// options are the flags of a stress run.
type options struct {
	procs       int
	dur         time.Duration
	warmup      time.Duration
	dir         string
	strategy    string
	hold, think stress.Dist
	timeout     time.Duration
	seed        uint64
	json        string
	hgrm        string
	html        string
	detectors   bool
	fair        bool
	barging     bool
	polling     bool
	noDeadline  bool
	killRate    float64
	stop        time.Duration
	staleAfter  time.Duration
	stopRate    float64
	grace       time.Duration
	examples    int
	runID       string
	host        string
	minChecked  int
	version     bool
}

// flagSet defines the flags of a stress run ("" ) or of "worker".
func flagSet(sub string, o *options) *flag.FlagSet {
	fset := flag.NewFlagSet("lockstress", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	fset.IntVar(&o.procs, "procs", stress.DefaultProcs(), fmt.Sprintf("number of worker processes (default 4 × CPUs: %d here).\nExample: -procs 64", stress.DefaultProcs()))
	fset.DurationVar(&o.dur, "dur", stress.DefaultDuration, "how long the workers run and are measured.\nExample: -dur 60s")
	fset.DurationVar(&o.warmup, "warmup", 0, "let the workers run this long before -dur begins, leaving out of every figure\nthe start, when all begin at once; the warm-up is still checked for violations.\nExample: -warmup 1s")
	dirHelp := "directory under test; the run makes its own subdirectory in it and removes it afterwards\n(default: a fresh temporary directory, removed afterwards).\nExample: -dir /mnt/nfs/scratch"
	strategyHelp := "lock strategy: " + strategyList() + ";\n\"all\" runs every real strategy one after another; none and racy are broken on purpose\n(they prove that the detectors fire, and exit 1); exec:COMMAND drives a lock adapter\n(docs/lockstress.md).\nExample: -strategy all"
	if sub == "worker" {
		dirHelp = "shared directory of the run (required); the run directory is DIR/RUN-ID and is kept.\nExample: -dir /mnt/nfs/lockstress"
		strategyHelp = "lock strategy: " + strategyList() + " or exec:COMMAND.\nExample: -strategy ofd"
	}
	fset.StringVar(&o.dir, "dir", "", dirHelp)
	fset.StringVar(&o.strategy, "strategy", "soft", strategyHelp)
	fset.Var(&o.hold, "hold", "time inside each critical section: a duration, uniform:LO-HI or exp:MEAN.\nExample: -hold uniform:0-2ms")
	fset.Var(&o.think, "think", "time between critical sections, in the same forms as -hold.\nExample: -think exp:1ms")
	fset.DurationVar(&o.timeout, "timeout", 0, "bound on each acquisition; a timeout counts as an error, not a violation\n(default: none, or 1s with -kill-rate or -stop).\nExample: -timeout 500ms")
	fset.Uint64Var(&o.seed, "seed", 1, "seed of the hold and think times and of the fault targets.\nExample: -seed 42")
	fset.StringVar(&o.json, "json", "", "also write the report as JSON to FILE (\"-\" for standard output, which moves\nthe summary to standard error); the schema is in docs/lockstress.md.\nExample: -json report.json")
	fset.StringVar(&o.hgrm, "hgrm", "", hgrmHelp)
	fset.StringVar(&o.html, "html", "", htmlHelp)
	fset.BoolVar(&o.detectors, "detectors", true, "run the violation detectors; -detectors=false measures the harness's own cost\nand cannot see violations.\nExample: -detectors=false")
	fset.BoolVar(&o.fair, "fair", false, "fair locks: the workers take turns in the order they began waiting\n(filelock.WithFair).\nExample: -fair")
	fset.BoolVar(&o.barging, "barging", false, "the workers never take turns (filelock.WithBarging): a waiter may starve while others\ntake the lock; without it, one that has waited past a bound is served in turn.\nExample: -barging")
	fset.BoolVar(&o.polling, "poll", false, "waiters poll only, without event wake-ups (filelock.WithPolling), for comparison.\nExample: -poll")
	fset.BoolVar(&o.noDeadline, "no-deadline", false, "os and ofd workers wait without a deadline (Lock, not LockContext), so on a local\nfilesystem of Linux they wait in the kernel; the end of the run waits for each to\ntake the lock once. Not with -timeout, -kill-rate, -stop or -poll.\nExample: -no-deadline -strategy os")
	fset.Float64Var(&o.killRate, "kill-rate", 0, "SIGKILL this many workers per second (on average) while they hold the lock,\nrestart them, and report how long the lock took to recover.\nExample: -kill-rate 2")
	fset.DurationVar(&o.staleAfter, "stale-after", filelock.DefaultStaleAfter, "age after which a soft or link lock whose holder may be alive is broken\n(0 turns age-based breaking off; a dead holder on this host is broken at once).\nExample: -stale-after 2s")
	fset.DurationVar(&o.stop, "stop", 0, "SIGSTOP a worker that holds the lock for this long, then resume it.\nExample: -stop 500ms")
	fset.Float64Var(&o.stopRate, "stop-rate", 1, "how many -stop pauses per second (on average).\nExample: -stop-rate 0.2")
	fset.DurationVar(&o.grace, "grace", stress.DefaultGrace, "how long a worker may take to finish after the end of the run before it is\nreported hung and killed.\nExample: -grace 30s")
	fset.IntVar(&o.examples, "examples", stress.DefaultMaxExamples, "how many violations per detector are described in full in the JSON report.\nExample: -examples 100")
	fset.IntVar(&o.minChecked, "min-checked", 0, "the fewest critical sections each detector must check for the run to pass;\nbelow it the verdict is INCONCLUSIVE, exit status 4 (default: one per worker;\n0: no minimum).\nExample: -min-checked 10000")
	if sub == "worker" {
		fset.StringVar(&o.runID, "run-id", "", "id of the shared run (required); every host of the run uses the same.\nExample: -run-id nfs-2026-11-25")
		fset.StringVar(&o.host, "host", "", "name of this host in the reports (default: the hostname); must differ\nbetween the hosts of a run.\nExample: -host client-a")
	} else {
		fset.BoolVar(&o.version, "version", false, "print the version of lockstress and exit.\nExample: -version")
	}
	return fset
}

func strategyList() string {
	var names []string
	for _, s := range append(stress.Strategies(), stress.BrokenStrategies()...) {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// parse parses args; it returns an exit code to stop with, or -1.
func parse(sub string, fset *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	err := fset.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout, sub, fset)
		return exitPass
	case err != nil:
		return usageError(stderr, sub, "%v", err)
	}
	return -1
}

// invocation returns how lockstress names itself in a message of
// subcommand sub ("" for a run).
func invocation(sub string) string {
	if sub == "" {
		return "lockstress"
	}
	return "lockstress " + sub
}

// usageError says what is wrong and where the usage is, and returns the
// exit status of a usage error.
func usageError(stderr io.Writer, sub, format string, args ...any) int {
	cmd := invocation(sub)
	fmt.Fprintf(stderr, "%s: %s\nRun '%s -h' for usage.\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitUsage
}

// runStrategies lists the real strategies, one a line.
func runStrategies(args []string, stdout, stderr io.Writer) int {
	const sub = "strategies"
	fset := noFlags(sub)
	if code := parse(sub, fset, args, stdout, stderr); code >= 0 {
		return code
	}
	if fset.NArg() > 0 {
		return usageError(stderr, sub, "unexpected argument %q", fset.Arg(0))
	}
	for _, s := range stress.Strategies() {
		fmt.Fprintln(stdout, s)
	}
	return exitPass
}
