package main

import (
	"context"
	"flag"
	"io"
	"strings"
)

// command is a subcommand of lockstress; the stress run itself is the
// command named "". Adding a subcommand is adding an entry to commands.
type command struct {
	name     string // as typed after "lockstress"
	synopsis string // its arguments, for its usage line
	short    string // what it does, in one line, for the list of commands
	long     string // what it does, for its help
	run      func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	// flags returns its flags, for its help; nil for a command without.
	flags func() *flag.FlagSet
	// exits: its exit status is a verdict's, listed in its help.
	exits bool
}

// commands are the commands of lockstress, in the order of the usage.
var commands []*command

func init() {
	commands = []*command{
		{
			name: "", synopsis: "[flags]", short: "stress a file lock with competing processes",
			long: "Starts -procs worker processes that acquire and release one lock file until\n" +
				"-dur has passed, checks with three independent detectors (ledger, occupancy,\n" +
				"interval) that no two were ever inside the critical section at once, and\n" +
				"reports acquisition latency, throughput and fairness.",
			run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
				return runStress(ctx, "", args, stdout, stderr)
			},
			flags: func() *flag.FlagSet { return flagSet("", new(options)) }, exits: true,
		},
		{
			name: "worker", synopsis: "-dir DIR -run-id ID [flags]", short: "join a run that several hosts share (start it on each host)",
			long: "Runs this host's workers in the shared run DIR/ID, which every host of the run\n" +
				"joins with the same -dir, -run-id and flags; its verdict is this host's alone.\n" +
				"\"lockstress verify DIR/ID\" merges the hosts once all have finished.",
			run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
				return runStress(ctx, "worker", args, stdout, stderr)
			},
			flags: func() *flag.FlagSet { return flagSet("worker", new(options)) }, exits: true,
		},
		{
			name: "verify", synopsis: "[-json FILE] [-examples N] RUNDIR", short: "merge the logs of every host of a shared run into one verdict",
			long: "Merges the logs of every host that joined the shared run in RUNDIR\n" +
				"(DIR/RUN-ID of \"lockstress worker\") into one report and verdict.",
			run:   runVerify,
			flags: func() *flag.FlagSet { return verifyFlags(new(verifyOptions)) }, exits: true,
		},
		{
			name: "strategies", short: "list the real strategies of this platform, one a line (what \"all\" runs)",
			long: "Lists the real strategies of this platform, one a line: what \"-strategy all\"\nruns.",
			run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
				return runStrategies(args, stdout, stderr)
			},
		},
		{
			name: "compare", synopsis: compareSynopsis,
			short: "compare the JSON reports of two sets of runs, telling changes from noise",
			long:  compareLong,
			run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
				return runCompare(args, stdout, stderr)
			},
			flags: func() *flag.FlagSet { return compareFlags(new(regressLimits), new(float64)) },
		},
		{
			name: "html", synopsis: htmlSynopsis,
			short: "render JSON reports as one self-contained HTML page",
			long:  htmlLong,
			run:   runHTML,
			flags: func() *flag.FlagSet { return htmlFlags(new(string)) },
		},
		{
			name: "help", synopsis: "[command]", short: "explain lockstress or one of its commands",
			long: "Explains lockstress, or the command named, as \"lockstress COMMAND -h\" does.",
			run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
				return runHelp(args, stdout, stderr)
			},
		},
	}
}

// lookup returns the command of that name, or nil.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageLine is the command as typed, with its arguments.
func (c *command) usageLine() string {
	return strings.Join(strings.Fields("lockstress "+c.name+" "+c.synopsis), " ")
}

// runHelp writes the help of lockstress or of the command named.
func runHelp(args []string, stdout, stderr io.Writer) int {
	const sub = "help"
	fset := noFlags(sub)
	if code := parse(sub, fset, args, stdout, stderr); code >= 0 {
		return code
	}
	switch fset.NArg() {
	case 0:
		printUsage(stdout, "", nil)
		return exitPass
	case 1:
		c := lookup(fset.Arg(0))
		if c == nil || c.name == "" {
			return usageError(stderr, sub, "unknown command %q; the commands are %s", fset.Arg(0), commandNames())
		}
		printUsage(stdout, c.name, nil)
		return exitPass
	}
	return usageError(stderr, sub, "want at most one command, got %d arguments", fset.NArg())
}

// noFlags returns the flag set of a command without flags: it knows -h.
func noFlags(sub string) *flag.FlagSet {
	fset := flag.NewFlagSet("lockstress "+sub, flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	return fset
}

func commandNames() string {
	var names []string
	for _, c := range commands {
		if c.name != "" {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, ", ")
}
