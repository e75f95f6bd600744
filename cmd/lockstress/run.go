package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/lockstress/lockstress/stress"
)

// fieldFlags names the flag of each Config field.
var fieldFlags = map[string]string{
	"Procs": "-procs", "Duration": "-dur", "Warmup": "-warmup", "Dir": "-dir", "Strategy": "-strategy", "Timeout": "-timeout",
	"KillRate": "-kill-rate", "Stop": "-stop", "StopRate": "-stop-rate", "Grace": "-grace",
	"MaxExamples": "-examples", "RunID": "-run-id", "Host": "-host", "StaleAfter": "-stale-after", "NoDeadline": "-no-deadline",
	"MinChecked": "-min-checked",
}

// runStress runs lockstress, or lockstress worker (sub), with args, and
// returns its exit code.
func runStress(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) int {
	r, code, ok := parseStress(sub, args, stdout, stderr)
	if !ok {
		return code
	}
	files, code, ok := openReports(ctx, stderr, stdout, sub, r.o)
	if !ok {
		return code
	}
	defer files.discard() // those not written: the run failed
	reports, failed, ok := r.runEach(ctx)
	if !ok {
		return failed
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

// stressRun is a run (or a worker) as its flags ask for it.
type stressRun struct {
	sub         string // "" or "worker"
	o           options
	set         map[string]bool // the flags given
	strategies  []stress.Strategy
	out, stderr io.Writer // where the summaries go, and where errors do
}

// parseStress parses and checks the flags of a run; ok is false, with the
// exit code, when there is nothing to run.
func parseStress(sub string, args []string, stdout, stderr io.Writer) (r *stressRun, code int, ok bool) {
	r = &stressRun{sub: sub, set: map[string]bool{}, out: stdout, stderr: stderr}
	fset := flagSet(sub, &r.o)
	if code := parse(sub, fset, args, stdout, stderr); code >= 0 {
		return nil, code, false
	}
	if fset.NArg() > 0 {
		return nil, usageError(stderr, sub, "unexpected argument %q (flags come as -name value)", fset.Arg(0)), false
	}
	if r.o.version {
		fmt.Fprintln(stdout, version())
		return nil, exitPass, false
	}
	fset.Visit(func(f *flag.Flag) { r.set[f.Name] = true })
	var err error
	if r.strategies, err = stress.ParseStrategies(r.o.strategy); err != nil {
		return nil, usageError(stderr, sub, "-strategy: %v", err), false
	}
	if code, ok := checkStressFlags(stderr, sub, r.set, r.o, r.strategies); !ok {
		return nil, code, false
	}
	if r.o.json == "-" {
		r.out = stderr // standard output carries the JSON
	}
	return r, 0, true
}

// runEach runs each strategy in turn, writing its summary and -hgrm files,
// until one is interrupted or its -hgrm files cannot be written (failed is
// then that exit code). ok is false, with failed the exit code, when a run
// could not be set up.
func (r *stressRun) runEach(ctx context.Context) (reports []*stress.Report, failed int, ok bool) {
	o := r.o
	for i, s := range r.strategies {
		for _, w := range s.Warnings() {
			fmt.Fprintf(r.stderr, "lockstress: warning: %s\n", w)
		}
		cfg := stressConfig(r.sub, r.set, o, s)
		rep, err := stress.Run(ctx, cfg)
		if err != nil {
			return nil, setupError(r.stderr, r.sub, cfg, err), false
		}
		if i > 0 {
			fmt.Fprintln(r.out)
		}
		if err := stress.WriteSummary(r.out, rep); err != nil {
			fmt.Fprintf(r.stderr, "lockstress: writing the summary: %v\n", err)
		}
		if r.sub == "worker" && rep.Detectors.Enabled {
			fmt.Fprintf(r.out, "  (this host only: run \"lockstress verify %s\" once every host has finished)\n", joinDir(o.dir, o.runID))
		}
		reports = append(reports, rep)
		if code, ok := writeHgrmOf(r.stderr, r.sub, o.hgrm, rep, len(r.strategies) > 1); !ok {
			return reports, code, true // the reports of the runs made are still written
		}
		if rep.Interrupted {
			break
		}
	}
	return reports, 0, true
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
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "lockstress: %v\n", err)
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "lockstress: %v\n", err)
	return exitUsage
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
