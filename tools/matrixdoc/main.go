//go:build linux

// Command matrixdoc turns the JSON reports of a filesystem matrix run
// (scripts/fsmatrix) into docs/filesystems.md, and the peer comparison of
// one filesystem into a marked section of docs/performance.md. Every
// figure comes from the reports; nothing is written by hand but the notes
// that explain a failure, and a failure without one is flagged.
//
// Usage:
//
//	matrixdoc -manifest FILE -notes FILE -command CMD -o FILE [-perf FILE -perf-fs FS]
//
// The manifest has one tab-separated line per report:
//
//	FS  CLIENTS  KIND  LABEL  JSON  COMMAND
//
// FS names the filesystem (as the lab does: tmpfs, ext4, sshfs, nfs, …),
// CLIENTS how many clients shared it (1, or 2 for a run across two mounts
// or machines), KIND is "ours" or "peer", LABEL names the lock, JSON is the
// lockstress report and COMMAND the command that produced it.
//
// A notes line is "FS LABEL SENTENCE"; FS or LABEL may be "*". The first
// matching note explains a failing cell; a note that matches only passing
// cells is reported on standard error as stale.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lockstress/lockstress/stress"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "matrixdoc: %v\n", err)
		os.Exit(1)
	}
}

// A cell is one report of the matrix.
type cell struct {
	FS      string
	Clients int
	Kind    string // "ours" or "peer"
	Label   string
	Command string
	Report  *stress.Report
	Note    string
}

type note struct{ fs, label, text string }

func run(args []string, stderr io.Writer) error {
	fset := flag.NewFlagSet("matrixdoc", flag.ContinueOnError)
	manifest := fset.String("manifest", "", "the manifest of the run (required)")
	notesPath := fset.String("notes", "", "notes that explain failures")
	command := fset.String("command", "", "the command that ran the matrix, for the document")
	out := fset.String("o", "", "write docs/filesystems.md here (required)")
	perf := fset.String("perf", "", "rewrite the marked peer section of this file (docs/performance.md)")
	perfFS := fset.String("perf-fs", "tmpfs", "the filesystem of the peer comparison")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *manifest == "" || *out == "" {
		return errors.New("-manifest and -o are required")
	}
	cells, err := readManifest(*manifest)
	if err != nil {
		return err
	}
	var notes []note
	if *notesPath != "" {
		if notes, err = readNotes(*notesPath); err != nil {
			return err
		}
	}
	for _, w := range explain(cells, notes) {
		fmt.Fprintln(stderr, "matrixdoc: "+w)
	}
	doc := render(cells, *command, machine())
	if old, err := os.ReadFile(*out); err == nil {
		doc += keptSections(string(old))
	}
	if err := os.WriteFile(*out, []byte(doc), 0o666); err != nil {
		return err
	}
	if *perf != "" {
		old, err := os.ReadFile(*perf)
		if err != nil {
			return err
		}
		updated, err := replaceSection(string(old), peerSection(cells, *perfFS, *command))
		if err != nil {
			return fmt.Errorf("%s: %w", *perf, err)
		}
		return os.WriteFile(*perf, []byte(updated), 0o666)
	}
	return nil
}

func readManifest(path string) ([]*cell, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cells []*cell
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 6 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 6 (FS CLIENTS KIND LABEL JSON COMMAND)", path, n, len(fields))
		}
		clients, err := strconv.Atoi(fields[1])
		if err != nil || clients < 1 {
			return nil, fmt.Errorf("%s:%d: bad client count %q", path, n, fields[1])
		}
		if fields[2] != "ours" && fields[2] != "peer" {
			return nil, fmt.Errorf("%s:%d: kind %q, want ours or peer", path, n, fields[2])
		}
		c := &cell{FS: fields[0], Clients: clients, Kind: fields[2], Label: fields[3], Command: fields[5]}
		if c.Report, err = readReport(fields[4]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		cells = append(cells, c)
	}
	return cells, sc.Err()
}

func readReport(path string) (*stress.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc stress.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if doc.Schema != stress.SchemaName || len(doc.Runs) != 1 {
		return nil, fmt.Errorf("%s: not a lockstress report of one run (schema %q, %d runs)", path, doc.Schema, len(doc.Runs))
	}
	return doc.Runs[0], nil
}

func readNotes(path string) ([]note, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var notes []note
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("%s:%d: want FS LABEL SENTENCE", path, i+1)
		}
		notes = append(notes, note{f[0], f[1], strings.TrimSpace(f[2])})
	}
	return notes, nil
}

// explain attaches notes to failing cells and returns warnings: failures
// that no note explains, and notes that explain nothing.
func explain(cells []*cell, notes []note) []string {
	var warn []string
	used := make([]bool, len(notes))
	for _, c := range cells {
		if c.Report.Verdict == "PASS" {
			continue
		}
		for i, n := range notes {
			if (n.fs == "*" || n.fs == c.FS) && (n.label == "*" || n.label == c.Label) {
				c.Note, used[i] = n.text, true
				break
			}
		}
		if c.Note == "" {
			warn = append(warn, fmt.Sprintf("%s on %s failed and no note explains it", c.Label, c.FS))
		}
	}
	for i, n := range notes {
		if !used[i] {
			warn = append(warn, fmt.Sprintf("note %q for %s on %s explains no failure of this run", n.text, n.label, n.fs))
		}
	}
	return warn
}

// fsOrder lists the filesystems in the order they first appear.
func fsOrder(cells []*cell) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cells {
		if !seen[c.FS] {
			seen[c.FS] = true
			out = append(out, c.FS)
		}
	}
	return out
}

// labelOrder lists the locks, ours first, in the order they first appear.
func labelOrder(cells []*cell) []string {
	var out []string
	seen := map[string]bool{}
	for _, kind := range []string{"ours", "peer"} {
		for _, c := range cells {
			if c.Kind == kind && !seen[c.Label] {
				seen[c.Label] = true
				out = append(out, c.Label)
			}
		}
	}
	return out
}

func find(cells []*cell, fs, label string) *cell {
	for _, c := range cells {
		if c.FS == fs && c.Label == label {
			return c
		}
	}
	return nil
}

func fsTitle(cells []*cell, fs string) string {
	for _, c := range cells {
		if c.FS == fs && c.Clients > 1 {
			return fmt.Sprintf("%s (%d clients)", fs, c.Clients)
		}
	}
	return fs
}

// render returns the document of the runs in cells.
func render(cells []*cell, command, machine string) string {
	var b bytes.Buffer
	renderIntro(&b, cells, command, machine)
	renderVerdicts(&b, cells)
	var failed []*cell
	for _, fs := range fsOrder(cells) {
		failed = append(failed, renderFilesystem(&b, cells, fs)...)
	}
	renderFailures(&b, cells, failed)
	return b.String()
}

// renderIntro writes the title, what the document is, and when, where and
// how its runs were made.
func renderIntro(b *bytes.Buffer, cells []*cell, command, machine string) {
	fmt.Fprintf(b, "# Filesystems\n\n")
	fmt.Fprintf(b, "Can a lock be trusted on this filesystem? Each cell is one lockstress run\n"+
		"of one lock on one filesystem; where a filesystem has two clients (two\n"+
		"mounts, or two machines, of one directory) the run spans both\n"+
		"(`lockstress worker` on each, `lockstress verify` over both). The locks\n"+
		"marked *peer* are other implementations driven through adapters\n"+
		"(`-strategy exec:…`, see [lockstress.md](lockstress.md#peer-locks-adapters)).\n"+
		"This file is generated from the runs' JSON reports: do not edit it, rerun\n"+
		"the command below (as root; it installs what it needs).\n\n"+
		"The filesystems are made on one machine by `scripts/fslab` (a fresh tmpfs;\n"+
		"ext4, xfs and btrfs images on loop devices; a private sshd on 127.0.0.1\n"+
		"and two sshfs mounts of one directory, without sshfs's caches) and\n"+
		"`scripts/nfslab` (nfs-ganesha on 127.0.0.1, and two Linux kernels booted\n"+
		"under qemu without KVM as NFSv4.1 clients, each running a static\n"+
		"lockstress worker; software emulation makes them slow, so the NFS figures\n"+
		"say what excludes, not how fast NFS is). The peers need Python and\n"+
		"util-linux, which the guests do not have: they are not run on NFS.\n\n")
	fmt.Fprintf(b, "- **When**: %s\n", dateRange(cells))
	fmt.Fprintf(b, "- **Machine**: %s\n", machine)
	fmt.Fprintf(b, "- **Command**: `%s`\n", command)
	if len(cells) > 0 {
		cfg := cells[0].Report.Config
		fmt.Fprintf(b, "- **Each run** (unless its section says otherwise): %d worker processes per client, %s, hold %s, think %s\n",
			cfg.Procs, time.Duration(cfg.DurationNs), cfg.Hold, cfg.Think)
	}
}

// renderVerdicts writes the table of verdicts, a lock a row and a
// filesystem a column.
func renderVerdicts(b *bytes.Buffer, cells []*cell) {
	fss := fsOrder(cells)
	fmt.Fprintf(b, "\n## Verdicts\n\nPASS or FAIL, and acquisitions per second.\n\n")
	fmt.Fprintf(b, "| lock |")
	for _, fs := range fss {
		fmt.Fprintf(b, " %s |", fsTitle(cells, fs))
	}
	fmt.Fprintf(b, "\n|---|")
	for range fss {
		fmt.Fprintf(b, "---|")
	}
	fmt.Fprintln(b)
	for _, l := range labelOrder(cells) {
		fmt.Fprintf(b, "| %s |", labelCell(cells, l))
		for _, fs := range fss {
			c := find(cells, fs, l)
			switch {
			case c == nil:
				fmt.Fprintf(b, " – |")
			case c.Report.Verdict == "PASS":
				fmt.Fprintf(b, " PASS %s/s |", num(c.Report.Throughput))
			default:
				fmt.Fprintf(b, " **FAIL** %s |", failWhy(c.Report))
			}
		}
		fmt.Fprintln(b)
	}
	fmt.Fprintf(b, "\n– : not run (see the filesystem's section).\n")
}

// renderFilesystem writes the section of filesystem fs: its mount, a row
// per run and the runs' commands; it returns the runs that failed.
func renderFilesystem(b *bytes.Buffer, cells []*cell, fs string) (failed []*cell) {
	fmt.Fprintf(b, "\n## %s\n\n", fsTitle(cells, fs))
	first := true
	for _, c := range cells {
		if c.FS != fs {
			continue
		}
		if first {
			renderMount(b, c.Report.Filesystem)
			first = false
		}
		r := c.Report
		d := r.Detectors
		verdict := r.Verdict
		if verdict != "PASS" {
			verdict = "**FAIL**"
			failed = append(failed, c)
		}
		fmt.Fprintf(b, "| %s | %s | %d / %d / %d | %s | %s | %s | %.3f | %s |\n",
			labelCell(cells, c.Label), verdict, d.Ledger.Count, d.Occupancy.Count, d.Interval.Count,
			num(r.Throughput), dur(r.AcquireLatency.P50Ns), dur(r.AcquireLatency.P99Ns), r.Fairness.Jain, errorsCell(r))
	}
	fmt.Fprintf(b, "\nCommands:\n\n```\n")
	for _, c := range cells {
		if c.FS == fs {
			fmt.Fprintf(b, "%s\n", c.Command)
		}
	}
	fmt.Fprintf(b, "```\n")
	return failed
}

// renderMount writes what a filesystem's section is about, and the head of
// its table.
func renderMount(b *bytes.Buffer, fs stress.Filesystem) {
	fmt.Fprintf(b, "`%s` on %s (statfs: %s)", fs.Source, fs.MountType, fs.Type)
	if fs.Options != "" {
		fmt.Fprintf(b, ", options `%s`", fs.Options)
	}
	fmt.Fprintf(b, ".\n\n")
	fmt.Fprintf(b, "| lock | verdict | violations: ledger / occupancy / interval | acquisitions/s | acquire p50 | acquire p99 | fairness (Jain) | errors |\n")
	fmt.Fprintf(b, "|---|---|---|---:|---:|---:|---:|---|\n")
}

// renderFailures writes why each failed run failed.
func renderFailures(b *bytes.Buffer, cells, failed []*cell) {
	fmt.Fprintf(b, "\n## Failures explained\n\n")
	if len(failed) == 0 {
		fmt.Fprintf(b, "None: every lock passed on every filesystem of this run.\n")
	}
	for _, c := range failed {
		why := c.Note
		if why == "" {
			why = "(not explained yet)"
		}
		fmt.Fprintf(b, "- **%s on %s** — %s %s\n", c.Label, fsTitle(cells, c.FS), failWhy(c.Report), why)
	}
}

func labelCell(cells []*cell, label string) string {
	for _, c := range cells {
		if c.Label == label && c.Kind == "peer" {
			return label + " *(peer)*"
		}
	}
	return label
}

// failWhy says what made a run fail, from its report.
func failWhy(r *stress.Report) string {
	d := r.Detectors
	if r.Violations > 0 {
		var parts []string
		for _, x := range []struct {
			name string
			n    int64
		}{{"ledger", d.Ledger.Count}, {"occupancy", d.Occupancy.Count}, {"interval", d.Interval.Count}} {
			if x.n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", x.name, x.n))
			}
		}
		return fmt.Sprintf("(%s violations of %d acquisitions)", strings.Join(parts, ", "), r.Acquisitions)
	}
	if len(r.Failures) > 0 {
		return fmt.Sprintf("(%d workers failed: %s)", len(r.Failures), r.Failures[0].Reason)
	}
	return "(" + r.Verdict + ")"
}

func errorsCell(r *stress.Report) string {
	if len(r.Errors) == 0 {
		return "none"
	}
	var keys []string
	for k := range r.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.Errors[k].Count))
	}
	return strings.Join(parts, ", ")
}

func dateRange(cells []*cell) string {
	var first, last time.Time
	for _, c := range cells {
		t := c.Report.Started
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	if first.IsZero() {
		return "no runs"
	}
	return fmt.Sprintf("%s to %s UTC", first.UTC().Format("2006-01-02 15:04"), last.UTC().Format("15:04"))
}

// machine describes this machine: the runs were made on it.
func machine() string {
	host := []string{"Linux"}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		host[0] += " " + strings.TrimSpace(string(b))
	}
	host = append(host, fmt.Sprintf("%d CPUs", runtime.NumCPU()))
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				host[len(host)-1] += fmt.Sprintf(" (%s)", strings.TrimSpace(v))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			host = append(host, fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20)))
		}
	}
	host = append(host, runtime.Version())
	return strings.Join(host, ", ")
}

func num(f float64) string {
	switch {
	case f >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case f >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

func dur(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d >= time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

// The marked section of docs/performance.md.
const (
	sectionBegin = "<!-- peers: generated by scripts/fsmatrix, do not edit -->"
	sectionEnd   = "<!-- end of peers -->"
)

// peerSection is the side-by-side table of every lock on filesystem fs.
func peerSection(cells []*cell, fs, command string) string {
	var b bytes.Buffer
	var rows []*cell
	for _, c := range cells {
		if c.FS == fs {
			rows = append(rows, c)
		}
	}
	fmt.Fprintf(&b, "%s\n", sectionBegin)
	if len(rows) == 0 {
		fmt.Fprintf(&b, "No run on %s in the last matrix.\n%s", fs, sectionEnd)
		return b.String()
	}
	cfg := rows[0].Report.Config
	fs0 := rows[0].Report.Filesystem
	fmt.Fprintf(&b, "From one matrix run (%s), all on %s (%s), %d worker processes, %s each, hold %s, think %s; "+
		"machine: %s. Command: `%s`; every run's own command is in [filesystems.md](filesystems.md).\n\n",
		dateRange(rows), fs, fs0.MountType, cfg.Procs, time.Duration(cfg.DurationNs), cfg.Hold, cfg.Think, machine(), command)
	fmt.Fprintf(&b, "| lock | verdict | acquisitions/s | acquire p50 | acquire p99 | acquire p99.9 | hold p50 | fairness (Jain) | re-takes |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range rows {
		r := c.Report
		retakes := "–"
		if r.Fairness.RetakeRatio != nil {
			retakes = fmt.Sprintf("%.0f%%", 100**r.Fairness.RetakeRatio)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %.3f | %s |\n", labelCell(cells, c.Label), r.Verdict,
			num(r.Throughput), dur(r.AcquireLatency.P50Ns), dur(r.AcquireLatency.P99Ns), dur(r.AcquireLatency.P999Ns),
			dur(r.HoldTime.P50Ns), r.Fairness.Jain, retakes)
	}
	fmt.Fprintf(&b, "%s", sectionEnd)
	return b.String()
}

// replaceSection replaces the marked section of doc with section.
func replaceSection(doc, section string) (string, error) {
	i := strings.Index(doc, sectionBegin)
	j := strings.Index(doc, sectionEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("no section marked %q … %q", sectionBegin, sectionEnd)
	}
	return doc[:i] + section + doc[j+len(sectionEnd):], nil
}

// keptMarker starts the part of docs/filesystems.md that other scripts
// write (scripts/mixedpop, scripts/soak): it is carried over as it is.
const keptMarker = "<!-- Sections below are written by other scripts; scripts/fsmatrix keeps them. -->"

// keptSections returns the part of the old document from keptMarker on,
// after a blank line; "" if it has none.
func keptSections(old string) string {
	i := strings.Index(old, keptMarker)
	if i < 0 {
		return ""
	}
	return "\n" + old[i:]
}
