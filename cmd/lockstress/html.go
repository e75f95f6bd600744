package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/lockstress/lockstress/stress"
	"github.com/lockstress/lockstress/stress/htmlreport"
)

func init() {
	flagArgs["html"] = "FILE"
	flagArgs["o"] = "FILE"
}

const htmlHelp = "also write the report as one self-contained HTML page to FILE: latency percentile\n" +
	"curves, acquisitions per worker, throughput over time, who held the lock around each\n" +
	"violation, the configuration and verdict (docs/lockstress.md).\nExample: -html report.html"

// writeHTML renders the sources to path ("-" for stdout); a failure
// leaves no partial page.
func writeHTML(path string, stdout io.Writer, sources ...htmlreport.Source) error {
	var b bytes.Buffer
	if err := htmlreport.Write(&b, sources...); err != nil {
		return err
	}
	return writeOutput(path, stdout, b.Bytes())
}

const (
	htmlSynopsis = "[-o FILE] REPORT.json..."
	htmlLong     = "Renders the JSON reports that -json wrote as one self-contained HTML page, as\n" +
		"-html does for the run it makes: their latency curves drawn together, one line\n" +
		"a run, and each run's fairness, throughput, holders and verdict."
)

func htmlFlags(out *string) *flag.FlagSet {
	fset := noFlags("html")
	fset.StringVar(out, "o", "-", "write the page to FILE (\"-\" for standard output).\nExample: -o report.html")
	return fset
}

// runHTML renders saved JSON reports as an HTML page.
func runHTML(args []string, stdout, stderr io.Writer) int {
	const sub = "html"
	var out string
	fset := htmlFlags(&out)
	if code := parse(sub, fset, args, stdout, stderr); code >= 0 {
		return code
	}
	if fset.NArg() == 0 {
		return usageError(stderr, sub, "want at least one JSON report (written by -json)")
	}
	if out != "-" {
		if err := checkWritable(out); err != nil {
			return usageError(stderr, sub, "-o: %v", err)
		}
	}
	var sources []htmlreport.Source
	for _, p := range fset.Args() {
		doc, err := readReport(p)
		if err != nil {
			return usageError(stderr, sub, "%v", err)
		}
		sources = append(sources, htmlreport.Source{Label: filepath.Base(p), Doc: doc})
	}
	if err := writeHTML(out, stdout, sources...); err != nil {
		fmt.Fprintf(stderr, "lockstress html: -o %s: %v\n", out, err)
		return exitUsage
	}
	return exitPass
}

// commandLine returns lockstress's command line with the arguments quoted
// for a POSIX shell where they need it.
func commandLine(args []string) string {
	parts := []string{"lockstress"}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// shellQuote returns s as a POSIX shell word.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=+./:,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkHTML fails early when the -html page could not be written.
func checkHTML(stderr io.Writer, sub, path string) (int, bool) {
	switch {
	case path == "":
		return 0, true
	case path == "-":
		return usageError(stderr, sub, "-html -: standard output carries the summary; name a file"), false
	}
	if err := checkWritable(path); err != nil {
		return usageError(stderr, sub, "-html: %v", err), false
	}
	return 0, true
}

// reportHTML writes the -html page of a stress run's document, if asked;
// it returns false, having said why, when it could not.
func reportHTML(stderr io.Writer, path string, doc *stress.Document) bool {
	if path == "" {
		return true
	}
	if err := writeHTML(path, nil, htmlreport.Source{Doc: doc}); err != nil {
		fmt.Fprintf(stderr, "lockstress: -html %s: %v\n", path, err)
		return false
	}
	return true
}
