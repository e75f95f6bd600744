//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstress/lockstress/stress"
)

// writeReport writes a one-run lockstress report and returns its path.
func writeReport(t *testing.T, dir, name string, r *stress.Report) string {
	t.Helper()
	b, err := json.Marshal(stress.NewDocument(r))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".json")
	if err := os.WriteFile(path, b, 0o666); err != nil {
		t.Fatal(err)
	}
	return path
}

func report(strategy string, acq int64, ledger int64) *stress.Report {
	r := &stress.Report{
		Strategy: strategy, Acquisitions: acq, Throughput: float64(acq) / 5, Verdict: "PASS",
		Started:        time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC),
		Config:         stress.ReportConfig{Procs: 8, DurationNs: int64(5 * time.Second)},
		Filesystem:     stress.Filesystem{Type: "fuse", MountType: "fuse.sshfs", Source: "root@127.0.0.1:/export"},
		AcquireLatency: stress.Latency{P50Ns: 12_300, P99Ns: 4_560_000},
		Fairness:       stress.Fairness{Workers: 8, Jain: 0.987},
	}
	r.Detectors.Ledger.Count = ledger
	r.Violations = ledger
	if ledger > 0 {
		r.Verdict = "FAIL"
	}
	return r
}

func TestRender(t *testing.T) {
	dir := t.TempDir()
	manifest := strings.Join([]string{
		"tmpfs\t1\tours\tsoft\t" + writeReport(t, dir, "a", report("soft", 5000, 0)) + "\tlockstress -strategy soft -dir T",
		"sshfs\t2\tours\tos\t" + writeReport(t, dir, "b", report("os", 300, 42)) + "\tlockstress worker … os",
		"sshfs\t2\tpeer\tflock(1)\t" + writeReport(t, dir, "c", report("exec:flock.sh", 100, 7)) + "\tlockstress worker … flock",
		"sshfs\t2\tours\tsoft\t" + writeReport(t, dir, "d", report("soft", 200, 0)) + "\tlockstress worker … soft",
	}, "\n") + "\n"
	mpath := filepath.Join(dir, "manifest.tsv")
	notes := filepath.Join(dir, "notes")
	out := filepath.Join(dir, "filesystems.md")
	perf := filepath.Join(dir, "performance.md")
	for path, content := range map[string]string{
		mpath: manifest,
		notes: "# comment\nsshfs os flock is local to each sshfs mount.\ntmpfs soft a note that explains nothing.\n",
		perf:  "# Perf\n\nbefore\n\n" + sectionBegin + "\nold table\n" + sectionEnd + "\n\nafter\n",
	} {
		if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	var stderr strings.Builder
	err := run([]string{"-manifest", mpath, "-notes", notes, "-command", "sudo scripts/fsmatrix", "-o", out, "-perf", perf, "-perf-fs", "sshfs"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := os.ReadFile(out)
	for _, want := range []string{
		"| lock | tmpfs | sshfs (2 clients) |",
		"| soft | PASS 1000/s | PASS 40.0/s |",
		"| os | – | **FAIL** (ledger 42 violations of 300 acquisitions) |",
		"| flock(1) *(peer)* | – | **FAIL** (ledger 7 violations of 100 acquisitions) |",
		"| os | **FAIL** | 42 / 0 / 0 | 60.0 | 12µs | 4.56ms | 0.987 | none |",
		"- **os on sshfs (2 clients)** — (ledger 42 violations of 300 acquisitions) flock is local to each sshfs mount.",
		"- **flock(1) on sshfs (2 clients)** — (ledger 7 violations of 100 acquisitions) (not explained yet)",
		"`sudo scripts/fsmatrix`",
		"lockstress worker … flock\n",
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("the document lacks %q:\n%s", want, doc)
		}
	}
	for _, want := range []string{"flock(1) on sshfs failed and no note explains it", `"a note that explains nothing." for soft on tmpfs explains no failure`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("warnings %q lack %q", stderr.String(), want)
		}
	}
	p, _ := os.ReadFile(perf)
	if s := string(p); !strings.Contains(s, "before\n\n"+sectionBegin) || !strings.Contains(s, sectionEnd+"\n\nafter") ||
		strings.Contains(s, "old table") || !strings.Contains(s, "| flock(1) *(peer)* | FAIL | 20.0 |") {
		t.Errorf("performance.md:\n%s", s)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.tsv")
	for _, tc := range []struct{ manifest, want string }{
		{"tmpfs\t1\tours\tsoft\n", "4 fields, want 6"},
		{"tmpfs\tx\tours\tsoft\ta.json\tcmd\n", `bad client count "x"`},
		{"tmpfs\t1\tmine\tsoft\ta.json\tcmd\n", `kind "mine"`},
		{"tmpfs\t1\tours\tsoft\t" + filepath.Join(dir, "missing.json") + "\tcmd\n", "missing.json: no such file"},
	} {
		if err := os.WriteFile(bad, []byte(tc.manifest), 0o666); err != nil {
			t.Fatal(err)
		}
		err := run([]string{"-manifest", bad, "-o", filepath.Join(dir, "out.md")}, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("manifest %q: error %v, want %q", tc.manifest, err, tc.want)
		}
	}
	if err := run([]string{"-o", "x"}, &strings.Builder{}); err == nil {
		t.Error("no -manifest: no error")
	}
}

func TestKeptSections(t *testing.T) {
	for _, tc := range []struct{ old, want string }{
		{"# Filesystems\n\nno marker\n", ""},
		{"# Filesystems\n\n" + keptMarker + "\n\n## Mixed populations\n\nrows\n", "\n" + keptMarker + "\n\n## Mixed populations\n\nrows\n"},
	} {
		if got := keptSections(tc.old); got != tc.want {
			t.Errorf("keptSections(%q) = %q, want %q", tc.old, got, tc.want)
		}
	}
}
