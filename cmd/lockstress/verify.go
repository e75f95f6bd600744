package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/lockstress/lockstress/stress"
)

// verifyOptions are the flags of "lockstress verify".
type verifyOptions struct {
	json     string
	examples int
}

func verifyFlags(o *verifyOptions) *flag.FlagSet {
	fset := noFlags("verify")
	fset.StringVar(&o.json, "json", "", "also write the report as JSON to FILE (\"-\" for standard output).\nExample: -json merged.json")
	fset.IntVar(&o.examples, "examples", stress.DefaultMaxExamples, "how many violations per detector are described in full in the JSON report.\nExample: -examples 100")
	return fset
}

// runVerify merges the logs of every host of a shared run into one report
// and verdict.
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
		if report, err = openReport(ctx, o.json, stdout, stderr); err != nil {
			return reportOpenFailed(stderr, sub, "-json", err)
		}
	}
	rep, err := stress.Verify(fset.Arg(0), o.examples)
	if err != nil {
		report.discard()
		fmt.Fprintf(stderr, "lockstress verify: %v\n", err)
		if errors.Is(err, stress.ErrHostsUnfinished) {
			// Hosts tested, and what they tested cannot be verified.
			return exitError
		}
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
