package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/mixed.json is real `go test -json -timeout 2s ./...` output of
// a module whose packages pass (b), fail with subtests and skip (a),
// panic (c), do not build (d) and time out (e). testdata/pass.json is its
// package b alone.

// summarize runs the tool with args, reading stdin from the named file
// (none: empty), and returns its output and exit status.
func summarize(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	in := io.Reader(strings.NewReader(""))
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		in = f
	}
	var sb strings.Builder
	code := run(args, in, &sb)
	return sb.String(), code
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestMixedCounts(t *testing.T) {
	out, code := summarize(t, "testdata/mixed.json")
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	// Passed: a.TestPass, a.TestFail/ok, a.TestSkipSubs (its subtests
	// skip), b.TestOne, b.TestTwo, b.TestTwo/s, c.TestBefore. Failed:
	// a.TestFail/bad, a.TestFail, c.TestPanics, e.TestHangs (cut short
	// by the timeout). Skipped: three in a, two subtests of TestSkipSubs.
	if got, want := lastLine(out), "tests: 7 passed, 4 failed, 5 skipped"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
	for _, want := range []string{
		"build failed: example.com/fix/d",
		"package failed: example.com/fix/e",
		"failed: example.com/fix/a TestFail/bad (1 of 1 runs)\n",
		"failed: example.com/fix/e TestHangs (1 of 1 runs)\n",
		"1 tests were cut short",
		"     2  needs root\n",
		"     2  no flock(1) here\n",
		"     1  (no reason given)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestEchoShowsWhatPlainGoTestShows(t *testing.T) {
	out, _ := summarize(t, "testdata/mixed.json")
	for _, want := range []string{
		"a_test.go:9: want 2, got 3\n",
		"--- FAIL: TestFail/bad",
		"FAIL\texample.com/fix/a\t",
		"ok  \texample.com/fix/b\t",
		"d/d_test.go:5:33: undefined: undefined\n",
		"FAIL\texample.com/fix/d [build failed]\n",
		"c_test.go:8: about to panic\n",
		"panic: assignment to entry in nil map",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{
		"quiet when passing", // a passing test's log
		"sub passes",         // a passing subtest's log, in a failing parent
		"=== RUN",
		"--- SKIP",
		"PASS\n",
	} {
		if strings.Contains(out, unwanted) {
			t.Errorf("output shows %q, which plain go test does not:\n%s", unwanted, out)
		}
	}
}

func TestTimedOutTestOutputBeforeVerdict(t *testing.T) {
	out, _ := summarize(t, "testdata/mixed.json")
	log := strings.Index(out, "e_test.go:9: waiting for ever")
	timeout := strings.Index(out, "panic: test timed out after 2s")
	verdict := strings.Index(out, "FAIL\texample.com/fix/e\t")
	if log < 0 || timeout < 0 || verdict < 0 {
		t.Fatalf("the timed-out test's output or its package's verdict is missing:\n%s", out)
	}
	if !(log < timeout && timeout < verdict) {
		t.Errorf("want the test's log, then the timeout, then the verdict; got them at %d, %d, %d", log, timeout, verdict)
	}
}

func TestPassingRun(t *testing.T) {
	out, code := summarize(t, "testdata/pass.json")
	if code != 0 {
		t.Errorf("exit status %d, want 0:\n%s", code, out)
	}
	if got, want := lastLine(out), "tests: 3 passed, 0 failed, 0 skipped"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
	if !strings.HasPrefix(out, "ok  \texample.com/fix/b\t") {
		t.Errorf("want only the ok line before the summary, got:\n%s", out)
	}
}

func TestNoEventsFails(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.json")
	if err := os.WriteFile(empty, []byte("go: cannot find main module\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	out, code := summarize(t, empty)
	if code != 1 {
		t.Errorf("exit status %d, want 1 for input without events:\n%s", code, out)
	}
	if !strings.Contains(out, "go: cannot find main module") {
		t.Errorf("a line that is not an event must be echoed:\n%s", out)
	}
}

func TestSummaryFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "summary")
	out, _ := summarize(t, "testdata/mixed.json", "-summary", file, "-slow", "2")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out, string(b)) {
		t.Errorf("the summary file is not the end of the output:\nfile:\n%s\noutput:\n%s", b, out)
	}
	if n := strings.Count(string(b), "s  example.com/fix/"); n != 2 {
		t.Errorf("-slow 2 listed %d tests, want 2:\n%s", n, b)
	}
}

// writeStream writes a -json stream in which test pkg.name runs once per
// outcome, in order ("pass", "fail", "skip").
func writeStream(t *testing.T, path, pkg, name string, outcomes ...string) {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for _, o := range outcomes {
		enc.Encode(event{Action: "run", Package: pkg, Test: name})
		enc.Encode(event{Action: o, Package: pkg, Test: name, Elapsed: 0.5})
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o666); err != nil {
		t.Fatal(err)
	}
}

func TestRatesByConfiguration(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "procs1.json")
	two := filepath.Join(dir, "procs2.json")
	writeStream(t, one, "p", "TestFlaky", "pass", "fail", "pass", "fail")
	writeStream(t, two, "p", "TestFlaky", "pass", "pass", "pass", "fail")
	out, code := summarize(t, "", "-rates", "-q", one, two)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	want := "  p TestFlaky: 3 of 8 runs failed (37.5%) [procs1 2/4, procs2 1/4]\n"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if got, want := lastLine(out), "tests: 5 passed, 3 failed, 0 skipped"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
}

func TestSkipReason(t *testing.T) {
	for _, c := range []struct {
		lines []string
		want  string
	}{
		{[]string{"    x_test.go:12: needs root\n", "--- SKIP: TestX (0.00s)\n"}, "needs root"},
		{[]string{"    x_test.go:3: setting up\n", "    x_test.go:12: no loop devices: open /dev/loop-control: no such file\n"}, "no loop devices: open /dev/loop-control: no such file"},
		{[]string{"    x_test.go:12: first line\n", "        second line\n"}, "first line"},
		{[]string{"--- SKIP: TestX (0.00s)\n"}, "(no reason given)"},
		{nil, "(no reason given)"},
	} {
		if got := skipReason(c.lines); got != c.want {
			t.Errorf("skipReason(%q) = %q, want %q", c.lines, got, c.want)
		}
	}
}
