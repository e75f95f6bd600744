// Command testsummary reads the output of `go test -json`, shows what
// plain `go test` would have shown, and counts what ran.
//
// Usage:
//
//	go test -json ./... | testsummary [-summary FILE] [-slow N]
//	testsummary -rates [-q] FILE...
//
// It writes to standard output the build errors, the full output of every
// failing test, and each package's ok/FAIL line, as `go test` does without
// -v; then the skipped tests counted by skip reason, the N slowest
// top-level tests (-slow), and last, alone on its line:
//
//	tests: N passed, N failed, N skipped
//
// Every test and subtest counts, once per run. A test still running when
// its package failed (a panic, a timeout) counts as failed. -summary also
// writes the counts, the skip reasons and the slowest tests to FILE.
//
// With -rates it reads the streams in the named files (each file a
// configuration, named by its base name without .json) and also prints
// each test that failed at least once with its runs, failures and
// failure rate, overall and by configuration; -q leaves out the echo of
// the tests' output.
//
// The exit status is 1 when a test, a package or a build failed, or the
// input held no test event at all; 2 when the input cannot be read.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	// Unbuffered: each package's verdict and each failure must show as
	// it comes, as with plain go test, even if the run is then cut short.
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout))
}

// run does the work of main with the given arguments and returns the
// exit status.
func run(args []string, stdin io.Reader, out io.Writer) int {
	fs := flag.NewFlagSet("testsummary", flag.ContinueOnError)
	summary := fs.String("summary", "", "also write the summary to `FILE`")
	slow := fs.Int("slow", 0, "list the `N` slowest top-level tests")
	rates := fs.Bool("rates", false, "print per-test failure rates, by input file")
	quiet := fs.Bool("q", false, "do not echo the tests' output")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go test -json ./... | testsummary [-summary FILE] [-slow N]\n       testsummary -rates [-q] FILE...\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	t := newTally()
	var x *echo
	if !*quiet {
		x = newEcho(out)
	}
	events := 0
	if fs.NArg() == 0 {
		n, err := read(stdin, "", t, x, out)
		if err != nil {
			return fail(fmt.Errorf("reading standard input: %w", err))
		}
		events += n
	}
	for _, f := range fs.Args() {
		n, err := readFile(f, t, x, out)
		if err != nil {
			return fail(err)
		}
		events += n
	}
	if x != nil {
		x.finish()
	}
	if *rates {
		writeRates(out, t)
	}
	text := summaryText(t, *slow)
	if *summary != "" {
		if err := os.WriteFile(*summary, []byte(text), 0o666); err != nil {
			return fail(fmt.Errorf("writing the summary: %w", err))
		}
	}
	io.WriteString(out, text)
	if events == 0 {
		fmt.Fprintln(out, "testsummary: the input held no test event")
		return 1
	}
	if !t.ok() {
		return 1
	}
	return 0
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "testsummary:", err)
	return 2
}

func readFile(name string, t *tally, x *echo, out io.Writer) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := read(f, strings.TrimSuffix(filepath.Base(name), ".json"), t, x, out)
	if err != nil {
		return n, fmt.Errorf("reading %s: %w", name, err)
	}
	return n, nil
}

// read feeds every line of r to the tally and the echo (nil: none), and
// returns how many were events.
func read(r io.Reader, label string, t *tally, x *echo, out io.Writer) (int, error) {
	br := bufio.NewReader(r)
	n := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if e, ok := parseEvent(line); ok {
				n++
				t.add(e, label)
				if x != nil {
					x.add(e)
				}
			} else if x != nil {
				x.raw(string(line))
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
