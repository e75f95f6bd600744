package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/lockstress/lockstress/stress/htmlreport"
)

func init() {
	flagArgs["html"] = "FILE"
	flagArgs["o"] = "FILE"
}

const htmlHelp = "also write the report as one self-contained HTML page to FILE: latency percentile\n" +
	"curves, acquisitions per worker, throughput over time, who held the lock around each\n" +
	"violation, the configuration and verdict (docs/lockstress.md).\nExample: -html report.html"

// writeHTML renders the sources into the report file.
func writeHTML(r *reportFile, sources ...htmlreport.Source) error {
	var b bytes.Buffer
	if err := htmlreport.Write(&b, sources...); err != nil {
		r.discard()
		return err
	}
	return r.write(b.Bytes())
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
func runHTML(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const sub = "html"
	var out string
	fset := htmlFlags(&out)
	if code := parse(sub, fset, args, stdout, stderr); code >= 0 {
		return code
	}
	if fset.NArg() == 0 {
		return usageError(stderr, sub, "want at least one JSON report (written by -json)")
	}
	page, err := openReport(ctx, out, stdout, stderr)
	if err != nil {
		return reportOpenFailed(stderr, sub, "-o", err)
	}
	var sources []htmlreport.Source
	for _, p := range fset.Args() {
		doc, err := readReport(p)
		if err != nil {
			page.discard()
			return usageError(stderr, sub, "%v", err)
		}
		sources = append(sources, htmlreport.Source{Label: filepath.Base(p), Doc: doc})
	}
	if err := writeHTML(page, sources...); err != nil {
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
	if path == "-" {
		return usageError(stderr, sub, "-html -: standard output carries the summary; name a file"), false
	}
	return 0, true
}
