// Command lockreports reads lockstress JSON reports (docs/lockstress.md)
// for the scripts that run lockstress.
//
// Usage:
//
//	lockreports rows FILE...
//	lockreports table MANIFEST
//
// rows prints one line per run of each report: the report's name (its
// file's base name without .json), the strategy, the verdict, the
// acquisitions, violations and errors, and the acquisition p99.
//
// table prints a Markdown table from a manifest of reports, one
// tab-separated line per report:
//
//	FS  MODE  STRATEGY  FILE
//
// The runs of the lines with the same FS, MODE and STRATEGY (several
// shorter runs that add up to one long one) make one row, in the order
// first seen: the verdict (PASS only if every run passed), the runs, the
// acquisitions and violations added up, the errors, kills and stops, the
// highest acquisition p99 of a run and the longest acquisition.
//
// The exit status is 1 when a report cannot be read, and 2 on bad usage.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	out := bufio.NewWriter(os.Stdout)
	err := run(os.Args[1:], out)
	out.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lockreports:", err)
		if _, ok := err.(usageError); ok {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("usage: lockreports rows FILE... | lockreports table MANIFEST")
	}
	switch args[0] {
	case "rows":
		if len(args) < 2 {
			return usageError("usage: lockreports rows FILE...")
		}
		return rows(out, args[1:])
	case "table":
		if len(args) != 2 {
			return usageError("usage: lockreports table MANIFEST")
		}
		return table(out, args[1])
	}
	return usageError(fmt.Sprintf("unknown command %q: want rows or table", args[0]))
}

// rows prints one line per run.
func rows(out io.Writer, files []string) error {
	for _, f := range files {
		d, err := readDocument(f)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if len(d.Runs) == 0 {
			fmt.Fprintf(out, "%s: %s, no run (exit status %d)\n", name, d.Verdict, d.ExitCode)
		}
		for _, r := range d.Runs {
			fmt.Fprintf(out, "%s %s: %s, %d acquisitions, %d violations, %d errors, acquire p99 %s\n",
				name, r.Strategy, r.Verdict, r.Acquisitions, r.Violations, r.errorCount(), duration(r.AcquireLatency.P99Ns))
		}
	}
	return nil
}
