package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// A group is one row of the table: the runs of one strategy on one
// filesystem in one mode.
type group struct {
	fs, mode, strategy       string
	runs                     int
	failed                   bool
	acquisitions, violations int64
	errors                   int64
	kills, stops             int
	worstP99, maxAcquire     int64
	failures                 int
}

func (g *group) add(r runReport) {
	g.runs++
	g.failed = g.failed || r.Verdict != "PASS"
	g.acquisitions += r.Acquisitions
	g.violations += r.Violations
	g.errors += r.errorCount()
	g.kills += r.Faults.Kills
	g.stops += r.Faults.Stops
	g.failures += len(r.Failures)
	g.worstP99 = max(g.worstP99, r.AcquireLatency.P99Ns)
	g.maxAcquire = max(g.maxAcquire, r.AcquireLatency.MaxNs)
}

func (g *group) verdict() string {
	if g.failed {
		return "**FAIL**"
	}
	return "PASS"
}

// readManifest groups the runs of the reports a manifest names.
func readManifest(path string) ([]*group, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var groups []*group
	byKey := map[string]*group{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 4 {
			return nil, fmt.Errorf("%s:%d: %d tab-separated fields, want 4 (FS MODE STRATEGY FILE)", path, n, len(fields))
		}
		d, err := readDocument(fields[3])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		key := strings.Join(fields[:3], "\t")
		g := byKey[key]
		if g == nil {
			g = &group{fs: fields[0], mode: fields[1], strategy: fields[2]}
			byKey[key] = g
			groups = append(groups, g)
		}
		for _, r := range d.Runs {
			g.add(r)
		}
	}
	return groups, sc.Err()
}

// table prints the Markdown table of a manifest.
func table(out io.Writer, manifest string) error {
	groups, err := readManifest(manifest)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "| filesystem | mode | lock | verdict | acquisitions | runs | violations | errors | kills / stops | acquire p99 (worst run) | acquire max |")
	fmt.Fprintln(out, "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, g := range groups {
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %d | %d | %d | %d / %d | %s | %s |\n",
			g.fs, g.mode, g.strategy, g.verdict(), thousands(g.acquisitions), g.runs, g.violations,
			g.errors, g.kills, g.stops, duration(g.worstP99), duration(g.maxAcquire))
	}
	return nil
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// duration formats nanoseconds with three significant digits at most,
// as lockstress does: 345µs, 26.8ms, 1.25s.
func duration(ns int64) string {
	units := []struct {
		name string
		size float64
	}{{"s", 1e9}, {"ms", 1e6}, {"µs", 1e3}}
	v := float64(ns)
	for _, u := range units {
		if v >= u.size {
			return sig3(v/u.size) + u.name
		}
	}
	return strconv.FormatInt(ns, 10) + "ns"
}

func sig3(v float64) string {
	var s string
	switch {
	case v >= 100:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
