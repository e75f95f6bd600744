//go:build linux

package main

import (
	"flag"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockstress/lockstress/filelock"
	"github.com/lockstress/lockstress/stress"
)

// flagRows returns the flag table of docs/lockstress.md: flag name (without
// its dash and argument) → the default column.
func flagRows(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../docs/lockstress.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| flag | default | meaning |")
	if !ok {
		t.Fatal("docs/lockstress.md has no flag table")
	}
	row := regexp.MustCompile("^\\| `-([a-z-]+)[^`]*` \\|([^|]*)\\|")
	rows := map[string]string{}
	for _, line := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unreadable row of the flag table: %q", line)
		}
		rows[m[1]] = strings.TrimSpace(m[2])
	}
	return rows
}

// TestDocumentedFlagDefaults: every flag of a run is in the table of
// docs/lockstress.md and every row of the table is a flag, with the
// default the table gives.
func TestDocumentedFlagDefaults(t *testing.T) {
	rows := flagRows(t)
	var o options
	fset := flagSet("", &o)
	fset.VisitAll(func(f *flag.Flag) {
		if _, ok := rows[f.Name]; !ok {
			t.Errorf("flag -%s is not in the flag table of docs/lockstress.md", f.Name)
		}
	})
	// The defaults the table writes in words, as the flag package shows them.
	words := map[string]string{
		"on":                          "true",
		"off":                         "false",
		"":                            "", // -version: no default
		"a fresh temporary directory": "",
		"none":                        "",
		"none (`1s` with faults)":     "0",
		"one per worker":              "0",
		"4 × CPUs":                    strconv.Itoa(4 * runtimeCPUs()),
	}
	for name, doc := range rows {
		t.Run(name, func(t *testing.T) {
			f := fset.Lookup(name)
			if f == nil {
				t.Fatalf("docs/lockstress.md lists -%s, which is no flag", name)
			}
			want, ok := words[doc]
			if !ok {
				m := regexp.MustCompile("^`([^`]*)`$").FindStringSubmatch(doc)
				if m == nil {
					t.Fatalf("default %q of -%s is neither a value in backquotes nor known words", doc, name)
				}
				want = m[1]
			}
			got := f.DefValue
			if got == "false" && want == "" && name == "version" {
				got = ""
			}
			if got != want && !sameDuration(got, want) {
				t.Errorf("-%s defaults to %q; docs/lockstress.md says %q (%q)", name, got, want, doc)
			}
		})
	}
}

// sameDuration reports whether a and b are one duration written two ways
// ("0" and "0s").
func sameDuration(a, b string) bool {
	da, erra := time.ParseDuration(a)
	db, errb := time.ParseDuration(b)
	return erra == nil && errb == nil && da == db
}

// runtimeCPUs is the CPU count DefaultProcs multiplies, from its value.
func runtimeCPUs() int { return stress.DefaultProcs() / 4 }

// TestDocumentedRunDefaults: the defaults that the flag table states in
// its words beside the flag values.
func TestDocumentedRunDefaults(t *testing.T) {
	rows := flagRows(t)
	for _, tc := range []struct {
		flag, pattern, want string
	}{
		// The 1 s bound of every acquisition when faults are injected.
		{"timeout", "^none \\(`([^`]+)` with faults\\)$", stress.DefaultFaultTimeout.String()},
		{"dur", "^`([^`]+)`$", stress.DefaultDuration.String()},
		{"grace", "^`([^`]+)`$", stress.DefaultGrace.String()},
		{"examples", "^`([^`]+)`$", strconv.Itoa(stress.DefaultMaxExamples)},
		{"stale-after", "^`([^`]+)`$", filelock.DefaultStaleAfter.String()},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			m := regexp.MustCompile(tc.pattern).FindStringSubmatch(rows[tc.flag])
			if m == nil || m[1] != tc.want {
				t.Errorf("docs/lockstress.md: -%s defaults to %q; the code has %s", tc.flag, rows[tc.flag], tc.want)
			}
		})
	}
	// The shortest stale-after age, stated in the meaning column.
	b, err := os.ReadFile("../../docs/lockstress.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`0` turns age-based breaking off; at least `([^`]+)` otherwise").FindSubmatch(b)
	if m == nil || string(m[1]) != filelock.MinStaleAfter.String() {
		t.Errorf("docs/lockstress.md gives the shortest -stale-after as %q; filelock.MinStaleAfter is %v", m, filelock.MinStaleAfter)
	}
}
