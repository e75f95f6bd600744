package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// maxReasons bounds the skip reasons listed, to keep the summary on one
// screen; the rest are counted on one line.
const maxReasons = 8

// summaryText returns the summary: failed packages, skip reasons, the
// slow slowest tests, and the closing counts line last.
func summaryText(t *tally, slow int) string {
	var b strings.Builder
	for _, p := range t.buildFailed {
		fmt.Fprintf(&b, "build failed: %s\n", p)
	}
	for _, p := range t.pkgFailed {
		fmt.Fprintf(&b, "package failed: %s\n", p)
	}
	if t.unfinished > 0 {
		fmt.Fprintf(&b, "%d tests were cut short by their package's failure (counted as failed)\n", t.unfinished)
	}
	writeFailing(&b, t.failing())
	writeReasons(&b, t.skipReasons)
	if slow > 0 {
		if top := t.slowest(slow); len(top) > 0 {
			fmt.Fprintf(&b, "slowest tests:\n")
			for _, r := range top {
				fmt.Fprintf(&b, "  %7.2fs  %s %s\n", r.maxElapsed, shortPkg(r.pkg), r.name)
			}
		}
	}
	fmt.Fprintf(&b, "tests: %d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped)
	return b.String()
}

// maxFailing bounds the failed tests named, to keep the summary on one
// screen; the rest are counted on one line.
const maxFailing = 12

// writeFailing names the tests that failed, as many times as they did.
func writeFailing(w io.Writer, failing []*testResult) {
	for i, r := range failing {
		if i == maxFailing {
			fmt.Fprintf(w, "failed: %d tests more (see the output above)\n", len(failing)-i)
			return
		}
		fmt.Fprintf(w, "failed: %s %s (%d of %d runs)\n", shortPkg(r.pkg), r.name, r.fails, r.passes+r.fails+r.skips)
	}
}

// writeReasons lists the skip reasons, most frequent first.
func writeReasons(w io.Writer, reasons map[string]int) {
	if len(reasons) == 0 {
		return
	}
	type reason struct {
		text string
		n    int
	}
	var rs []reason
	for text, n := range reasons {
		rs = append(rs, reason{text, n})
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].n != rs[j].n {
			return rs[i].n > rs[j].n
		}
		return rs[i].text < rs[j].text
	})
	fmt.Fprintf(w, "skipped, by reason:\n")
	for i, r := range rs {
		if i == maxReasons {
			rest := 0
			for _, r := range rs[i:] {
				rest += r.n
			}
			fmt.Fprintf(w, "  %4d  (%d other reasons)\n", rest, len(rs)-i)
			break
		}
		fmt.Fprintf(w, "  %4d  %s\n", r.n, clip(r.text, 100))
	}
}

// writeRates lists every test that failed at least once, with its
// failure rate overall and in each configuration (input) it failed in.
func writeRates(w io.Writer, t *tally) {
	total := 0
	for _, r := range t.tests {
		total += r.passes + r.fails
	}
	failing := t.failing()
	fmt.Fprintf(w, "failure rates: %d tests, %d runs; %d tests failed at least once\n", len(t.tests), total, len(failing))
	for _, r := range failing {
		runs := r.passes + r.fails
		fmt.Fprintf(w, "  %s %s: %d of %d runs failed (%.1f%%)", shortPkg(r.pkg), r.name, r.fails, runs, pct(r.fails, runs))
		var by []string
		for _, label := range sortedKeys(r.runLabels) {
			if label == "" {
				continue
			}
			by = append(by, fmt.Sprintf("%s %d/%d", label, r.failLabels[label], r.runLabels[label]))
		}
		if len(by) > 0 {
			fmt.Fprintf(w, " [%s]", strings.Join(by, ", "))
		}
		fmt.Fprintln(w)
	}
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shortPkg drops the module path from a package path.
func shortPkg(p string) string {
	if s, ok := strings.CutPrefix(p, "github.com/lockstress/lockstress/"); ok {
		return s
	}
	return p
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
