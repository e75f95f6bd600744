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
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/lockstress/lockstress/filelock"
	"github.com/lockstress/lockstress/stress"
)

func main() {
	stress.RunWorkerIfChild()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	// The first signal ends the run, which still stops its workers, tidies
	// up and writes its reports; a second one ends lockstress at once, as
	// if it had caught none (the workers die with it: Pdeathsig).
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
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

func usageError(stderr io.Writer, sub, format string, args ...any) int {
	cmd := "lockstress"
	if sub != "" {
		cmd += " " + sub
	}
	fmt.Fprintf(stderr, "%s: %s\nRun '%s -h' for usage.\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitUsage
}

// fieldFlags names the flag of each Config field.
var fieldFlags = map[string]string{
	"Procs": "-procs", "Duration": "-dur", "Warmup": "-warmup", "Dir": "-dir", "Strategy": "-strategy", "Timeout": "-timeout",
	"KillRate": "-kill-rate", "Stop": "-stop", "StopRate": "-stop-rate", "Grace": "-grace",
	"MaxExamples": "-examples", "RunID": "-run-id", "Host": "-host", "StaleAfter": "-stale-after", "NoDeadline": "-no-deadline",
	"MinChecked": "-min-checked",
}

func runStress(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) int {
	var o options
	fset := flagSet(sub, &o)
	if code := parse(sub, fset, args, stdout, stderr); code >= 0 {
		return code
	}
	if fset.NArg() > 0 {
		return usageError(stderr, sub, "unexpected argument %q (flags come as -name value)", fset.Arg(0))
	}
	if o.version {
		fmt.Fprintln(stdout, version())
		return exitPass
	}
	set := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { set[f.Name] = true })
	strategies, err := stress.ParseStrategies(o.strategy)
	if err != nil {
		return usageError(stderr, sub, "-strategy: %v", err)
	}
	if code, ok := checkStressFlags(stderr, sub, set, o, strategies); !ok {
		return code
	}
	files, code, ok := openReports(ctx, stderr, stdout, sub, o)
	if !ok {
		return code
	}
	defer files.discard() // those not written: the run failed
	out := stdout
	if o.json == "-" {
		out = stderr // standard output carries the JSON
	}
	var reports []*stress.Report
	failed := 0
	for i, s := range strategies {
		for _, w := range s.Warnings() {
			fmt.Fprintf(stderr, "lockstress: warning: %s\n", w)
		}
		cfg := stressConfig(sub, set, o, s)
		rep, err := stress.Run(ctx, cfg)
		if err != nil {
			return setupError(stderr, sub, cfg, err)
		}
		if i > 0 {
			fmt.Fprintln(out)
		}
		if err := stress.WriteSummary(out, rep); err != nil {
			fmt.Fprintf(stderr, "lockstress: writing the summary: %v\n", err)
		}
		if sub == "worker" && rep.Detectors.Enabled {
			fmt.Fprintf(out, "  (this host only: run \"lockstress verify %s\" once every host has finished)\n", joinDir(o.dir, o.runID))
		}
		reports = append(reports, rep)
		if code, ok := writeHgrmOf(stderr, sub, o.hgrm, rep, len(strategies) > 1); !ok {
			failed = code // the reports of the runs made are still written
			break
		}
		if rep.Interrupted {
			break
		}
	}
	doc := newDocument(reports...)
	doc.Command = commandLine(append(strings.Fields(sub), args...))
	if !files.write(stderr, doc) {
		failed = exitUsage
	}
	if failed != 0 && doc.ExitCode == exitPass {
		return failed // a verdict other than PASS says more than a file not written
	}
	return doc.ExitCode
}

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
	if code, ok := checkHgrm(stderr, sub, o.hgrm, strategies); !ok {
		return code, false
	}
	if code, ok := checkHTML(stderr, sub, o.html); !ok {
		return code, false
	}
	return checkZero(stderr, sub, set, o)
}

// stressConfig returns the configuration of a run of strategy s.
func stressConfig(sub string, set map[string]bool, o options, s stress.Strategy) stress.Config {
	return stress.Config{
		Dir: o.dir, Strategy: s, Procs: o.procs, Duration: o.dur, Warmup: o.warmup, Hold: o.hold, Think: o.think,
		Timeout: o.timeout, Seed: o.seed, DetectorsOff: !o.detectors, Fair: o.fair, Barging: o.barging, Polling: o.polling, NoDeadline: o.noDeadline, KillRate: o.killRate,
		Stop: o.stop, StopRate: o.stopRate, StaleAfter: staleAfter(o.staleAfter), Grace: o.grace, MaxExamples: o.examples,
		Progress: progressTo(os.Stderr), MinChecked: minChecked(set, o.minChecked),
		Join: sub == "worker", RunID: o.runID, Host: o.host,
	}
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

func joinDir(dir, runID string) string { return strings.TrimRight(dir, "/") + "/" + runID }

// setupError reports an error of stress.Run, naming the flag it concerns.
func setupError(stderr io.Writer, sub string, cfg stress.Config, err error) int {
	var ce *stress.ConfigError
	var pe *fs.PathError
	switch {
	case errors.As(err, &ce) && fieldFlags[ce.Field] != "":
		return usageError(stderr, sub, "%s: %v", fieldFlags[ce.Field], ce.Err)
	case errors.As(err, &pe) && cfg.Dir != "" && pe.Path == cfg.Dir:
		return usageError(stderr, sub, "-dir %s: %v", pe.Path, pe.Err)
	}
	fmt.Fprintf(stderr, "lockstress: %v\n", err)
	return exitUsage
}

// verifyOptions are the flags of "lockstress verify".
type verifyOptions struct {
	json     string
	examples int
}

func verifyFlags(o *verifyOptions) *flag.FlagSet {
	fset := flag.NewFlagSet("lockstress verify", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	fset.StringVar(&o.json, "json", "", "also write the report as JSON to FILE (\"-\" for standard output).\nExample: -json merged.json")
	fset.IntVar(&o.examples, "examples", stress.DefaultMaxExamples, "how many violations per detector are described in full in the JSON report.\nExample: -examples 100")
	return fset
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const sub = "verify"
	var o verifyOptions
	fset := verifyFlags(&o)
	if code := parse(sub, fset, args, stdout, stderr); code >= 0 {
		return code
	}
	if fset.NArg() != 1 {
		return usageError(stderr, sub, "want exactly one run directory (DIR/RUN-ID), got %d arguments", fset.NArg())
	}
	if o.examples <= 0 {
		return usageError(stderr, sub, "-examples must be at least 1, got %d", o.examples)
	}
	var report *reportFile
	if o.json != "" {
		var err error
		if report, err = openReport(ctx, o.json, stdout); err != nil {
			return reportOpenFailed(stderr, sub, "-json", err)
		}
	}
	rep, err := stress.Verify(fset.Arg(0), o.examples)
	if err != nil {
		report.discard()
		fmt.Fprintf(stderr, "lockstress verify: %v\n", err)
		return exitUsage
	}
	out := stdout
	if o.json == "-" {
		out = stderr
	}
	if err := stress.WriteSummary(out, rep); err != nil {
		fmt.Fprintf(stderr, "lockstress verify: writing the summary: %v\n", err)
	}
	doc := newDocument(rep)
	if report != nil {
		if err := writeJSON(report, doc); err != nil {
			fmt.Fprintf(stderr, "lockstress verify: -json: %v\n", err)
			return exitUsage
		}
	}
	return doc.ExitCode
}

// newDocument returns the document of the reports with the exit status of
// its verdict.
func newDocument(reports ...*stress.Report) *stress.Document {
	doc := stress.NewDocument(reports...)
	doc.ExitCode = exitCode(doc.Verdict)
	return doc
}

// staleAfter turns the -stale-after flag into stress.Config.StaleAfter,
// where 0 means the library's default and a negative value off.
func staleAfter(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// minChecked turns the -min-checked flag into stress.Config.MinChecked,
// where 0 means one per worker and a negative value no minimum.
func minChecked(set map[string]bool, n int) int {
	switch {
	case !set["min-checked"]:
		return 0
	case n == 0:
		return -1
	}
	return n
}

// progressTo returns f for stress.Config.Progress if it is a terminal,
// and nil otherwise: a progress line is for people, not for logs.
func progressTo(f *os.File) io.Writer {
	if term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
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
