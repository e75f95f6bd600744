package main

import (
	"io"
	"strings"
)

// An echo writes what plain `go test` (without -v) would have shown for a
// `go test -json` stream: build errors, the full output of every failing
// test (with its subtests'), the output of tests that were running when
// their package crashed or timed out, and each package's closing line
// (ok, FAIL, no test files). Passing and skipped tests stay quiet.
type echo struct {
	w io.Writer
	// held holds the output of each package's tests whose top-level test
	// has not ended yet, in the order it came.
	held map[string][]heldLine
}

type heldLine struct {
	test, text string
}

func newEcho(w io.Writer) *echo {
	return &echo{w: w, held: map[string][]heldLine{}}
}

// raw writes a line that is not an event (the go command's own messages).
func (x *echo) raw(line string) { io.WriteString(x.w, line) }

// add handles one event.
func (x *echo) add(e event) {
	switch {
	case e.Action == "build-output":
		io.WriteString(x.w, e.Output)
	case e.Test == "" && e.Action == "output":
		if isClosing(e.Output) {
			// Tests whose end has not come were cut short by a crash or
			// a timeout: their output goes before the verdict.
			x.flush(e.Package, func(string) bool { return true })
		}
		if e.Output != "PASS\n" && !isFraming(e.Output) {
			io.WriteString(x.w, e.Output)
		}
	case e.Test == "" && e.Action == "fail":
		// What is still held belongs to tests the crash cut short.
		x.flush(e.Package, func(string) bool { return true })
		// The package's closing line has come already.
	case e.Test != "" && e.Action == "output":
		if !isFraming(e.Output) {
			x.held[e.Package] = append(x.held[e.Package], heldLine{e.Test, e.Output})
		}
	case e.Test != "" && (e.Action == "pass" || e.Action == "skip"):
		// A passing or skipped (sub)test shows nothing, even in a
		// failing parent.
		x.drop(e.Package, func(test string) bool { return within(test, e.Test) })
	case e.Test != "" && e.Action == "fail" && isTopLevel(e.Test):
		x.flush(e.Package, func(test string) bool { return within(test, e.Test) })
	}
}

// within reports whether test is name or one of its subtests.
func within(test, name string) bool {
	return test == name || strings.HasPrefix(test, name+"/")
}

// isClosing reports whether a package's output line is its verdict.
func isClosing(line string) bool {
	return line == "FAIL\n" || strings.HasPrefix(line, "FAIL\t") || strings.HasPrefix(line, "ok  \t")
}

// flush writes and forgets the held lines of pkg's tests that match.
func (x *echo) flush(pkg string, match func(test string) bool) {
	x.take(pkg, match, func(l heldLine) { io.WriteString(x.w, l.text) })
}

// drop forgets the held lines of pkg's tests that match.
func (x *echo) drop(pkg string, match func(test string) bool) {
	x.take(pkg, match, func(heldLine) {})
}

func (x *echo) take(pkg string, match func(test string) bool, do func(heldLine)) {
	kept := x.held[pkg][:0]
	for _, l := range x.held[pkg] {
		if match(l.test) {
			do(l)
		} else {
			kept = append(kept, l)
		}
	}
	if len(kept) == 0 {
		delete(x.held, pkg)
		return
	}
	x.held[pkg] = kept
}

// finish writes whatever is still held when the stream ends: the output
// of tests whose end never came (the test binary was killed).
func (x *echo) finish() {
	for pkg := range x.held {
		x.flush(pkg, func(string) bool { return true })
	}
}
