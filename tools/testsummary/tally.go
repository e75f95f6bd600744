package main

import (
	"regexp"
	"sort"
	"strings"
)

// A tally counts the outcomes in one or more `go test -json` streams.
// Every test and every subtest counts, once per run (so -count=3 counts
// each three times).
type tally struct {
	passed, failed, skipped int
	// unfinished counts tests that were running when their package
	// failed (a panic, a timeout): they count as failed.
	unfinished int
	// buildFailed lists the packages that did not build.
	buildFailed []string
	// pkgFailed lists the packages that failed, in order.
	pkgFailed []string
	// skipReasons counts skipped tests by their skip message.
	skipReasons map[string]int
	// tests holds per-test results, keyed by "package TestName".
	tests map[string]*testResult
	// log holds each running test's output lines, for its skip reason.
	log map[string][]string
	// running holds the tests that started and have not ended.
	running map[string]bool
}

// A testResult is what happened to one test over every run of it.
type testResult struct {
	pkg, name             string
	passes, fails, skips  int
	elapsed, maxElapsed   float64 // seconds: total, and the longest run
	failLabels, runLabels map[string]int
}

func newTally() *tally {
	return &tally{
		skipReasons: map[string]int{},
		tests:       map[string]*testResult{},
		log:         map[string][]string{},
		running:     map[string]bool{},
	}
}

// add records one event; label names the stream it came from (for the
// failure rates by configuration).
func (t *tally) add(e event, label string) {
	switch e.Action {
	case "build-fail":
		t.buildFailed = append(t.buildFailed, e.ImportPath)
		return
	case "build-output":
		return
	}
	if e.Test == "" {
		if e.Action == "fail" {
			t.pkgFailed = append(t.pkgFailed, e.Package)
			t.failUnfinished(e.Package, label)
		}
		return
	}
	key := e.Package + " " + e.Test
	switch e.Action {
	case "run":
		t.running[key] = true
		delete(t.log, key)
	case "output":
		if !isFraming(e.Output) {
			t.log[key] = append(t.log[key], e.Output)
		}
	case "pass", "fail", "skip":
		delete(t.running, key)
		t.end(e, key, label)
	}
}

// end records the end of one run of a test.
func (t *tally) end(e event, key, label string) {
	r := t.result(e.Package, e.Test, key)
	r.runLabels[label]++
	r.elapsed += e.Elapsed
	r.maxElapsed = max(r.maxElapsed, e.Elapsed)
	switch e.Action {
	case "pass":
		t.passed++
		r.passes++
	case "fail":
		t.failed++
		r.fails++
		r.failLabels[label]++
	case "skip":
		t.skipped++
		r.skips++
		t.skipReasons[skipReason(t.log[key])]++
	}
	delete(t.log, key)
}

// failUnfinished counts the tests of pkg still running when the package
// failed as failed.
func (t *tally) failUnfinished(pkg, label string) {
	for key := range t.running {
		name, ok := strings.CutPrefix(key, pkg+" ")
		if !ok {
			continue
		}
		r := t.result(pkg, name, key)
		r.runLabels[label]++
		r.fails++
		r.failLabels[label]++
		t.failed++
		t.unfinished++
		delete(t.running, key)
		delete(t.log, key)
	}
}

func (t *tally) result(pkg, name, key string) *testResult {
	r := t.tests[key]
	if r == nil {
		r = &testResult{pkg: pkg, name: name, failLabels: map[string]int{}, runLabels: map[string]int{}}
		t.tests[key] = r
	}
	return r
}

// logPrefix matches the file:line prefix that t.Log and t.Skip put
// before a message.
var logPrefix = regexp.MustCompile(`^\s*[\w.\-]+\.go:\d+: `)

// skipReason returns the message of a skipped test from its output: the
// first line of its last logged message, without the file:line prefix.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if strings.HasPrefix(strings.TrimSpace(l), "--- SKIP") {
			continue
		}
		if loc := logPrefix.FindStringIndex(l); loc != nil {
			return strings.TrimSpace(l[loc[1]:])
		}
	}
	return "(no reason given)"
}

// slowest returns the n top-level tests that took longest in one run,
// longest first.
func (t *tally) slowest(n int) []*testResult {
	var top []*testResult
	for _, r := range t.tests {
		if isTopLevel(r.name) {
			top = append(top, r)
		}
	}
	sort.Slice(top, func(i, j int) bool {
		if top[i].maxElapsed != top[j].maxElapsed {
			return top[i].maxElapsed > top[j].maxElapsed
		}
		return top[i].pkg+top[i].name < top[j].pkg+top[j].name
	})
	return top[:min(n, len(top))]
}

// failing returns the tests that failed at least once, most failures
// first.
func (t *tally) failing() []*testResult {
	var out []*testResult
	for _, r := range t.tests {
		if r.fails > 0 {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].fails != out[j].fails {
			return out[i].fails > out[j].fails
		}
		return out[i].pkg+" "+out[i].name < out[j].pkg+" "+out[j].name
	})
	return out
}

// ok reports whether nothing failed.
func (t *tally) ok() bool {
	return t.failed == 0 && len(t.pkgFailed) == 0 && len(t.buildFailed) == 0
}
