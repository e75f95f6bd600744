package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses of lockstress compare, which are its own: it judges
// reports, not a run. A usage error is lockstress's usual status 2.
const (
	// exitCompared: no figure regressed significantly beyond its limit.
	exitCompared = 0
	// exitUnreadable: a report could not be read (as a usage error).
	exitUnreadable = 2
	// exitRegressed: a figure regressed significantly beyond its limit.
	exitRegressed = 8
	// exitUnjudged: no figure regressed, but the reports cannot decide
	// for some figure with a limit (too few of them, or it is missing).
	exitUnjudged = 9
)

// compareSynopsis is the arguments of lockstress compare.
const compareSynopsis = "[-max-regress LIMITS] [-alpha A] OLD.json... vs NEW.json..."

// compareLong says what lockstress compare does, and its exit statuses.
const compareLong = `Compares the JSON reports (-json) of lockstress runs: the old side's, before
"vs" (or "--"), with the new side's, figure by figure, for each strategy the
sides have in common (or the one strategy of each); "compare OLD.json
NEW.json" compares one report with another. Give several reports of one
configuration a side, from repeated runs, and the Mann-Whitney U test tells a
change from run-to-run noise: "~" means it cannot (at least 4 reports a side
are needed at -alpha 0.05). With one report a side the change is shown, but
no significance can be claimed.

Exit status:
  0: no figure regressed significantly beyond its -max-regress limit
  2: usage error, or a report that cannot be read
  8: a figure regressed significantly beyond its limit
  9: no regression, but the reports cannot decide for a figure with a limit
     (too few reports a side, or the figure is missing)

Example:
  lockstress compare -max-regress p99=10%,throughput=5% old-*.json vs new-*.json`

func init() {
	flagArgs["max-regress"] = "LIMITS"
	flagArgs["alpha"] = "A"
}

// compareFlags defines the flags of lockstress compare.
func compareFlags(limits *regressLimits, alpha *float64) *flag.FlagSet {
	fset := noFlags("compare")
	fset.Var(limits, "max-regress", "exit 8 if a figure got significantly worse by more than this: a limit for every\n"+
		"figure (10%), limits for some ("+strings.Join(gatedNames(), ", ")+"), or both.\nExample: -max-regress 10%,max=50%")
	fset.Float64Var(alpha, "alpha", 0.05, "the significance level: a change is beyond noise when the U test's p-value is below it\n(default 0.05).\nExample: -alpha 0.01")
	return fset
}

// runCompare runs lockstress compare and returns its exit code.
func runCompare(args []string, stdout, stderr io.Writer) int {
	const sub = "compare"
	var limits regressLimits
	var alpha float64
	fset := compareFlags(&limits, &alpha)
	if err := fset.Parse(args); errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, sub, fset)
		return exitCompared
	} else if err != nil {
		return usageError(stderr, sub, "%v", err)
	}
	if alpha <= 0 || alpha >= 1 {
		return usageError(stderr, sub, "-alpha must be between 0 and 1, got %v", alpha)
	}
	oldPaths, newPaths, err := splitSides(fset.Args())
	if err != nil {
		return usageError(stderr, sub, "%v", err)
	}
	comps, skipped, err := pairSides(oldPaths, newPaths)
	if err != nil {
		fmt.Fprintf(stderr, "lockstress compare: %v\n", err)
		return exitUnreadable
	}
	var b strings.Builder
	fmt.Fprintf(&b, "old: %s\nnew: %s\n", strings.Join(oldPaths, " "), strings.Join(newPaths, " "))
	code := writeComparisons(&b, comps, skipped, &limits, alpha)
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		fmt.Fprintf(stderr, "lockstress compare: %v\n", err)
		return exitUnreadable
	}
	return code
}

// writeComparisons writes the tables and the verdict of -max-regress and
// returns the exit code.
func writeComparisons(b *strings.Builder, comps []comparison, skipped []string, limits *regressLimits, alpha float64) int {
	var v verdict
	for _, c := range comps {
		rows := c.rows()
		b.WriteString("\n")
		writeTable(b, c, rows, alpha)
		v.judge(c.title, rows, limits, alpha)
	}
	for _, s := range skipped {
		fmt.Fprintf(b, "\nnot compared: %s\n", s)
	}
	code := exitCompared
	switch {
	case len(v.regressed) > 0:
		fmt.Fprintf(b, "\nREGRESSED beyond -max-regress %s:\n  %s\n", limits, strings.Join(v.regressed, "\n  "))
		code = exitRegressed
	case len(v.unjudged) > 0:
		fmt.Fprintf(b, "\nNOT JUDGED by -max-regress %s:\n  %s\n", limits, strings.Join(v.unjudged, "\n  "))
		code = exitUnjudged
	case limits.spec != "":
		fmt.Fprintf(b, "\nno figure regressed significantly beyond -max-regress %s\n", limits)
	}
	return code
}

// splitSides splits the arguments at "vs" (or "--") into the old and the
// new side's reports; two arguments without it are one report a side.
func splitSides(args []string) (old, new []string, err error) {
	for _, a := range args {
		if strings.HasPrefix(a, "-") && a != "--" {
			return nil, nil, fmt.Errorf("flag %s after the reports: flags come first", a)
		}
	}
	for i, a := range args {
		if a == "vs" || a == "--" {
			old, new = args[:i], args[i+1:]
			if len(old) == 0 || len(new) == 0 {
				return nil, nil, fmt.Errorf("want reports on both sides of %q", a)
			}
			return old, new, nil
		}
	}
	if len(args) != 2 {
		return nil, nil, fmt.Errorf("want OLD.json NEW.json, or the old reports, \"vs\" and the new ones; got %d arguments", len(args))
	}
	return args[:1], args[1:], nil
}
