package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeReport writes a report with one run per strategy given, each
// with the given acquisitions, violations and acquire p99 (ns).
func writeReport(t *testing.T, dir, name string, runs ...string) string {
	t.Helper()
	body := fmt.Sprintf(`{"schema":"lockstress-report","version":1,"verdict":"PASS","exit_code":0,"runs":[%s]}`, strings.Join(runs, ","))
	path := filepath.Join(dir, name+".json")
	if err := os.WriteFile(path, []byte(body), 0o666); err != nil {
		t.Fatal(err)
	}
	return path
}

func runJSON(strategy, verdict string, acq, violations, p99, maxNs int64, kills int) string {
	return fmt.Sprintf(`{"strategy":%q,"verdict":%q,"acquisitions":%d,"violations":%d,
		"acquire_latency":{"p99_ns":%d,"max_ns":%d},
		"errors":{"acquire:timeout":{"count":2,"first":"x"},"release:lock-lost":{"count":1,"first":"y"}},
		"faults":{"kills":%d,"stops":1},"failures":[]}`, strategy, verdict, acq, violations, p99, maxNs, kills)
}

func TestRows(t *testing.T) {
	dir := t.TempDir()
	f := writeReport(t, dir, "all-shm",
		runJSON("soft", "PASS", 20312, 0, 345_000, 1e6, 0),
		runJSON("racy", "FAIL", 900, 17, 26_820_000, 1e9, 0))
	var b strings.Builder
	if err := run([]string{"rows", f}, &b); err != nil {
		t.Fatal(err)
	}
	want := "all-shm soft: PASS, 20312 acquisitions, 0 violations, 3 errors, acquire p99 345µs\n" +
		"all-shm racy: FAIL, 900 acquisitions, 17 violations, 3 errors, acquire p99 26.8ms\n"
	if b.String() != want {
		t.Errorf("rows:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestTableAddsUpRuns(t *testing.T) {
	dir := t.TempDir()
	a := writeReport(t, dir, "a", runJSON("soft", "PASS", 600_000, 0, 400_000, 2e6, 3))
	b := writeReport(t, dir, "b", runJSON("soft", "PASS", 500_000, 0, 900_000, 5e6, 4))
	c := writeReport(t, dir, "c", runJSON("os", "FAIL", 1000, 2, 1_250_000_000, 2e9, 0))
	manifest := filepath.Join(dir, "manifest")
	lines := "tmpfs\tplain\tsoft\t" + a + "\n" + "tmpfs\tplain\tsoft\t" + b + "\n" + "ext4\tchaos\tos\t" + c + "\n"
	if err := os.WriteFile(manifest, []byte(lines), 0o666); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run([]string{"table", manifest}, &out); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(rows) != 4 {
		t.Fatalf("want a header, a rule and 2 rows, got:\n%s", out.String())
	}
	if want := "| tmpfs | plain | soft | PASS | 1,100,000 | 2 | 0 | 6 | 7 / 2 | 900µs | 5ms |"; rows[2] != want {
		t.Errorf("row of two runs:\n%s\nwant:\n%s", rows[2], want)
	}
	if want := "| ext4 | chaos | os | **FAIL** | 1,000 | 1 | 2 | 3 | 0 / 1 | 1.25s | 2s |"; rows[3] != want {
		t.Errorf("failing row:\n%s\nwant:\n%s", rows[3], want)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"schema":"something-else","version":1}`), 0o666)
	manifest := filepath.Join(dir, "manifest")
	os.WriteFile(manifest, []byte("tmpfs\tsoft\t"+other+"\n"), 0o666)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rows", other}, `schema "something-else" version 1, want lockstress-report version 1`},
		{[]string{"rows", filepath.Join(dir, "missing.json")}, "missing.json: no such file"},
		{[]string{"table", manifest}, "manifest:1: 3 tab-separated fields, want 4"},
		{[]string{"graph"}, `unknown command "graph"`},
	} {
		err := run(c.args, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for ns, want := range map[int64]string{
		999: "999ns", 1000: "1µs", 345_123: "345µs", 26_820_000: "26.8ms",
		1_250_000_000: "1.25s", 2_000_000_000: "2s", 10_500_000: "10.5ms",
	} {
		if got := duration(ns); got != want {
			t.Errorf("duration(%d) = %q, want %q", ns, got, want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
