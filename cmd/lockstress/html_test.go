//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstress/lockstress/stress"
	"github.com/lockstress/lockstress/stress/htmlreport"
)

// A run of a broken strategy writes a page with the holders around its
// violations, and the same page as "lockstress html" renders from its JSON
// report: the JSON carries all that the page shows.
func TestHTMLReport(t *testing.T) {
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	args := []string{"-strategy", "racy", "-procs", "3", "-dur", "300ms", "-hold", "1ms", "-dir", t.TempDir(), "-json", jsonPath, "-html", htmlPath}
	code, _, stderr := lockstress(t, args...)
	if code != exitViolation {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitViolation, stderr)
	}
	doc, _ := readDocument(t, jsonPath)
	if want := "lockstress " + strings.Join(args, " "); doc.Command != want {
		t.Errorf("command %q, want %q", doc.Command, want)
	}
	r := doc.Runs[0]
	checkTimeline(t, r)
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := htmlreport.Write(&again, htmlreport.Source{Doc: &doc}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, again.Bytes()) {
		t.Error("the page rendered from the JSON report differs from the one -html wrote")
	}
	code, stdout, stderr := lockstress(t, "html", jsonPath)
	if code != exitPass || !strings.Contains(stdout, `id="run0-window0"`) {
		t.Errorf("lockstress html: exit code %d, stderr %q, no holders' window in the page", code, stderr)
	}
}

// checkTimeline checks the timeline of a run with violations: its bins
// count the critical sections the ledger checked (but those acquired after
// the end, at most one a worker), and its windows are the violations'.
func checkTimeline(t *testing.T, r *stress.Report) {
	t.Helper()
	tl := r.Timeline
	if tl == nil || tl.BinNs <= 0 || len(tl.Windows) == 0 {
		t.Fatalf("timeline %+v: want bins and windows", tl)
	}
	var sum int64
	for _, n := range tl.Acquisitions {
		sum += n
	}
	if checked := r.Detectors.Ledger.Checked; sum > checked || sum < checked-int64(r.Config.Procs) {
		t.Errorf("the timeline counts %d acquisitions, the ledger checked %d", sum, checked)
	}
	for _, w := range tl.Windows {
		if w.Reason != "violation" || len(w.Holdings) == 0 || w.FromNs >= w.ToNs {
			t.Errorf("window %s %v–%v with %d holdings, want a violation's", w.Reason, w.FromNs, w.ToNs, len(w.Holdings))
		}
	}
}

// Two saved reports make one page, each run named by its file.
func TestHTMLOfSeveralReports(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, s := range []string{"soft", "os"} {
		p := filepath.Join(dir, s+".json")
		if code, _, stderr := lockstress(t, "-strategy", s, "-procs", "2", "-dur", "200ms", "-min-checked", "0", "-dir", t.TempDir(), "-json", p); code != exitPass {
			t.Fatalf("-strategy %s: exit code %d; stderr:\n%s", s, code, stderr)
		}
		paths = append(paths, p)
	}
	out := filepath.Join(dir, "both.html")
	if code, _, stderr := lockstress(t, append([]string{"html", "-o", out}, paths...)...); code != exitPass {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"soft.json: soft", "os.json: os", `id="run1-fairness"`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the page does not show %q", want)
		}
	}
}

// Bad -html and "lockstress html" arguments fail at once, naming the path
// and the cause, and leave nothing behind.
func TestHTMLErrors(t *testing.T) {
	dir := t.TempDir()
	notReport := filepath.Join(dir, "x.json")
	if err := os.WriteFile(notReport, []byte(`{"schema":"other"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing", "r.html")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-html", missing}, "-html: open " + missing + ": no such file or directory"},
		{[]string{"-html", dir}, "-html: open " + dir + ": is a directory"},
		{[]string{"-html", "-"}, "-html -: standard output carries the summary"},
		{[]string{"html"}, "lockstress html: want at least one JSON report"},
		{[]string{"html", filepath.Join(dir, "none.json")}, "none.json: no such file or directory"},
		{[]string{"html", notReport}, notReport + ": not a lockstress JSON report"},
		{[]string{"html", "-o", missing, notReport}, "-o: open " + missing + ": no such file or directory"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := lockstress(t, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("exit code %d, stdout %q, stderr %q; want %d and %q", code, stdout, stderr, exitUsage, tc.want)
			}
		})
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("left behind in %s: %v", dir, left)
	}
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "lockstress"},
		{[]string{"-procs", "8", "-dir", "/mnt/x"}, "lockstress -procs 8 -dir /mnt/x"},
		{[]string{"-strategy", "exec:adapters/pylock.py softfilelock"}, "lockstress -strategy 'exec:adapters/pylock.py softfilelock'"},
		{[]string{"-hold", "", "-json", "it's.json"}, `lockstress -hold '' -json 'it'\''s.json'`},
	} {
		if got := commandLine(tc.args); got != tc.want {
			t.Errorf("commandLine(%q) = %s, want %s", tc.args, got, tc.want)
		}
	}
}
