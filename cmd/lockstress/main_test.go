//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lockstress/lockstress/stress"
	"github.com/lockstress/lockstress/stress/proctest"
)

// asMain makes the test binary act as lockstress itself.
const asMain = "LOCKSTRESS_TEST_AS_MAIN"

// The test binary is lockstress (when asMain is set) and its worker.
func TestMain(m *testing.M) {
	stress.RunWorkerIfChild()
	if os.Getenv(asMain) == "1" {
		if limit := os.Getenv(nprocLimit); limit != "" {
			limitProcesses(limit)
		}
		main()
	}
	goleak.VerifyTestMain(m)
}

// lockstress runs lockstress in-process and returns its exit code and
// output.
func lockstress(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// lockstressProcess starts lockstress as a process of its own.
func lockstressProcess(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	return lockstressProcessEnv(t, nil, args...)
}

// lockstressProcessEnv starts lockstress as a process of its own, with env
// added to its environment.
func lockstressProcessEnv(t *testing.T, env []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := lockstressCommand(t, env, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out, &errb
}

// lockstressCommand returns the command of lockstress as a process of
// its own, with env added to its environment, not started.
func lockstressCommand(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), asMain+"=1"), env...)
	return cmd
}

// processDeadline bounds how long a test waits for a lockstress process
// to end; the longest run a test asks for ends well within it.
const processDeadline = 2 * time.Minute

// processExit waits for cmd to end and returns its exit code (-1 for a
// signal); one still running at processDeadline is killed and fails the
// test, so that a lockstress that hangs fails rather than hangs the suite.
func processExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	killed := time.AfterFunc(processDeadline, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	if !killed.Stop() {
		t.Fatalf("lockstress (pid %d) was still running after %v and was killed", cmd.Process.Pid, processDeadline)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

func TestFlagErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string // in the message
	}{
		{[]string{"-procs", "many"}, `invalid value "many" for flag -procs`},
		{[]string{"-procs", "0"}, "-procs must be at least 1, got 0"},
		{[]string{"-procs", "-3"}, "-procs must be at least 1, got -3"},
		{[]string{"-dur", "soon"}, `invalid value "soon" for flag -dur`},
		{[]string{"-dur", "-1s"}, "-dur must be positive"},
		{[]string{"-warmup", "-1s"}, "-warmup: must not be negative"},
		{[]string{"-hold", "uniform:5ms-1ms"}, `invalid value "uniform:5ms-1ms" for flag -hold: bad duration or distribution "uniform:5ms-1ms": lower bound 5ms is above upper bound 1ms`},
		{[]string{"-think", "gauss:1ms"}, `for flag -think: bad duration or distribution "gauss:1ms": unknown distribution "gauss"`},
		{[]string{"-hold", "-1ms"}, "flag -hold"},
		{[]string{"-strategy", "flock"}, `-strategy: unknown strategy "flock"`},
		{[]string{"-timeout", "-1s"}, "-timeout: must not be negative"},
		{[]string{"-kill-rate", "-2"}, "-kill-rate: must be a non-negative number"},
		{[]string{"-kill-rate", "NaN"}, "-kill-rate: must be a non-negative number"},
		{[]string{"-stop", "-1s"}, "-stop: must not be negative"},
		{[]string{"-stop-rate", "2"}, "-stop-rate needs -stop"},
		{[]string{"-stop", "1ms", "-stop-rate", "0"}, "-stop-rate must be positive"},
		{[]string{"-grace", "0s"}, "-grace must be positive"},
		{[]string{"-stale-after", "500ms"}, "-stale-after must be at least 1s, or 0 to turn age-based breaking off; got 500ms"},
		{[]string{"-stale-after", "-1s"}, "-stale-after must be at least 1s"},
		{[]string{"-no-deadline", "-timeout", "1s"}, "-no-deadline cannot go with -timeout: a wait without a deadline cannot be bounded"},
		{[]string{"-no-deadline", "-kill-rate", "1"}, "-no-deadline cannot go with -kill-rate: faults need every wait bounded"},
		{[]string{"-no-deadline", "-stop", "1ms"}, "-no-deadline cannot go with -stop: faults need"},
		{[]string{"-no-deadline", "-poll"}, "-no-deadline cannot go with -poll: -no-deadline waits in the kernel"},
		{[]string{"-fair", "-barging"}, "-barging cannot go with -fair: fair waiters always take turns"},
		{[]string{"-min-checked", "-1"}, "-min-checked must not be negative, got -1"},
		{[]string{"-min-checked", "many"}, `invalid value "many" for flag -min-checked`},
		{[]string{"worker", "-dir", dir, "-run-id", "r", "-version"}, "flag provided but not defined: -version"},
		{[]string{"-examples", "0"}, "-examples must be at least 1"},
		{[]string{"-seed", "x"}, `invalid value "x" for flag -seed`},
		{[]string{"-detectors=maybe"}, `invalid boolean value "maybe" for -detectors`},
		{[]string{"-nosuch"}, "flag provided but not defined: -nosuch"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-dir", filepath.Join(dir, "missing")}, "-dir " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{[]string{"-dir", file}, "-dir " + file + ": not a directory"},
		{[]string{"-json", filepath.Join(dir, "missing", "r.json")}, "-json: open " + filepath.Join(dir, "missing", "r.json")},
		{[]string{"worker"}, "lockstress worker: -dir is required"},
		{[]string{"worker", "-dir", dir}, "lockstress worker: -run-id is required"},
		{[]string{"worker", "-dir", dir, "-run-id", "../up"}, "lockstress worker: -run-id: \"../up\""},
		{[]string{"worker", "-dir", dir, "-run-id", "r", "-strategy", "all"}, "a shared run tests one strategy"},
		{[]string{"worker", "-procs", "0", "-dir", dir, "-run-id", "r"}, "lockstress worker: -procs must be at least 1"},
		{[]string{"verify"}, "lockstress verify: want exactly one run directory"},
		{[]string{"verify", "-examples", "-1", dir}, "-examples must be at least 1"},
		{[]string{"verify", "-x", dir}, "flag provided but not defined: -x"},
		{[]string{"verify", dir}, "run.json: no such file or directory"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := lockstress(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not say %q", stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("left behind in %s: %v", dir, left)
	}
}

// TestReportFilesKeptOnAFailedRun: a -json or -html file already there
// (an earlier run's report, or any file a typo named) is left as it was by
// a run that fails before it is made, by a mistyped flag or a failed
// set-up; one that was not there is not left behind; and nothing else is.
func TestReportFilesKeptOnAFailedRun(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	earlier := []byte(`{"an earlier report": true}`)
	for _, tc := range []struct {
		name string
		args func(flag, report string) []string
	}{
		{"a mistyped flag", func(flag, report string) []string { return []string{flag, report, "-procs", "0"} }},
		{"a failed set-up", func(flag, report string) []string { return []string{flag, report, "-dir", missing, "-dur", "1s"} }},
		{"a worker's failed set-up", func(flag, report string) []string {
			return []string{"worker", flag, report, "-dir", missing, "-run-id", "r"}
		}},
	} {
		for _, flag := range []string{"-json", "-html"} {
			for _, there := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/there=%v", tc.name, flag, there), func(t *testing.T) {
					report := filepath.Join(dir, "report")
					if there {
						if err := os.WriteFile(report, earlier, 0o600); err != nil {
							t.Fatal(err)
						}
						t.Cleanup(func() { os.Remove(report) })
					}
					if code, _, stderr := lockstress(t, tc.args(flag, report)...); code != exitUsage {
						t.Fatalf("exit code %d, want %d; stderr %q", code, exitUsage, stderr)
					}
					got, err := os.ReadFile(report)
					switch {
					case there && (err != nil || !bytes.Equal(got, earlier)):
						t.Errorf("the file already at %s became %q (%v)", report, got, err)
					case !there && err == nil:
						t.Errorf("a report file left at %s: %q", report, got)
					}
					if left, _ := os.ReadDir(dir); len(left) != map[bool]int{true: 1, false: 0}[there] {
						t.Errorf("left behind in %s: %v", dir, left)
					}
				})
			}
		}
	}
	report := filepath.Join(dir, "report")
	if err := os.WriteFile(report, earlier, 0o600); err != nil {
		t.Fatal(err)
	}
	link, fresh := filepath.Join(dir, "link"), filepath.Join(dir, "fresh")
	if err := os.Symlink(report, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-json", dir}, "-json: open " + dir + ": is a directory"},
		{[]string{"-json", report, "-html", link}, "-json " + report + " and -html " + link + " are one file"},
		{[]string{"-json", fresh, "-html", fresh}, "-json " + fresh + " and -html " + fresh + " are one file"},
	} {
		code, _, stderr := lockstress(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit code %d, stderr %q; want %d and %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
	if got, err := os.ReadFile(report); err != nil || !bytes.Equal(got, earlier) {
		t.Errorf("the file already at %s became %q (%v)", report, got, err)
	}
	if _, err := os.Lstat(fresh); err == nil {
		t.Errorf("%s, made for a report of a run refused, left", fresh)
	}
}

// "lockstress CMD -h" and "lockstress help CMD" explain every command, each
// of its flags with an example, and the exit statuses of those that run.
func TestHelp(t *testing.T) {
	for _, c := range commands {
		t.Run("cmd="+c.name, func(t *testing.T) {
			args, helpArgs := []string{"-h"}, []string{"help"}
			if c.name != "" {
				args, helpArgs = []string{c.name, "-h"}, []string{"help", c.name}
			}
			code, stdout, stderr := lockstress(t, args...)
			if code != exitPass || stderr != "" {
				t.Fatalf("%v: exit code %d, stderr %q", args, code, stderr)
			}
			if code, out, stderr := lockstress(t, helpArgs...); code != exitPass || stderr != "" || out != stdout {
				t.Errorf("%v: exit code %d, stderr %q, and its text differs from %v's:\n%s", helpArgs, code, stderr, args, out)
			}
			if !strings.Contains(stdout, c.usageLine()+"\n") || !strings.Contains(stdout, c.long) {
				t.Errorf("%v does not give the usage %q and what the command does:\n%s", args, c.usageLine(), stdout)
			}
			if c.flags != nil {
				c.flags().VisitAll(func(f *flag.Flag) {
					re := regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(f.Name) + `\b[^\n]*\n(        [^\n]*\n)*?        [^\n]*Example: -` + regexp.QuoteMeta(f.Name))
					if !re.MatchString(stdout) {
						t.Errorf("%v does not explain -%s with an example", args, f.Name)
					}
				})
			}
			for _, s := range exitStatuses {
				want := fmt.Sprintf("\n  %d  %s", s.code, s.verdict)
				if got := strings.Contains(stdout, want); got != c.exits {
					t.Errorf("%v lists exit status %q: %v, want %v", args, want, got, c.exits)
				}
			}
			if strings.Contains(stdout, "(default false)") {
				t.Errorf("%v says \"(default false)\":\n%s", args, stdout)
			}
		})
	}
}

// The usage lists every command, and "help" knows no other.
func TestHelpCommands(t *testing.T) {
	_, usage, _ := lockstress(t, "help")
	for _, c := range commands {
		if !strings.Contains(usage, "  "+c.usageLine()+"\n        "+c.short+"\n") {
			t.Errorf("the usage does not list %q:\n%s", c.usageLine(), usage)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "nosuch"}, `lockstress help: unknown command "nosuch"; the commands are `},
		{[]string{"help", "verify", "worker"}, "lockstress help: want at most one command, got 2 arguments"},
		{[]string{"help", "-x"}, "lockstress help: flag provided but not defined: -x"},
		{[]string{"strategies", "-x"}, "Run 'lockstress strategies -h' for usage."},
	} {
		code, stdout, stderr := lockstress(t, tc.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit code %d, stdout %q, stderr %q; want %d, none, %q", tc.args, code, stdout, stderr, exitUsage, tc.want)
		}
	}
	_, _, stderr := lockstress(t, "help", "nosuch")
	for _, c := range commands {
		if c.name != "" && !strings.Contains(stderr, " "+c.name) {
			t.Errorf("the error of an unknown command does not name %q: %s", c.name, stderr)
		}
	}
}

// Boolean flags that are off by default say no "(default false)"; the
// others say their default.
func TestShowDefault(t *testing.T) {
	fset := flag.NewFlagSet("", flag.ContinueOnError)
	fset.Bool("off", false, "")
	fset.Bool("on", true, "")
	fset.Int("zero", 0, "")
	fset.Int("n", 3, "")
	fset.String("s", "false", "")
	want := map[string]bool{"off": false, "on": true, "zero": false, "n": true, "s": true}
	fset.VisitAll(func(f *flag.Flag) {
		if got := showDefault(f); got != want[f.Name] {
			t.Errorf("showDefault(-%s) = %v, want %v", f.Name, got, want[f.Name])
		}
	})
}

// The exit codes of the binary, run as a process of its own.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"pass", []string{"-strategy", "os", "-procs", "3", "-dur", "400ms"}, exitPass, "verdict      PASS\n"},
		{"violations", []string{"-strategy", "none", "-procs", "3", "-dur", "300ms", "-hold", "1ms"}, exitViolation, "verdict      FAIL (as it must: none is a broken strategy)"},
		{"usage", []string{"-procs", "x"}, exitUsage, ""},
		// Nearly every acquisition gives up at once. Not every one: where
		// the clock reads the same twice (kvm-clock), the 1 ns context is
		// not yet done when the lock is tried, its timer fires a moment
		// later, and an acquisition may get in first. A minimum of 100
		// keeps those few from passing the run.
		{"every acquisition times out", []string{"-strategy", "os", "-procs", "3", "-dur", "300ms", "-timeout", "1ns", "-min-checked", "100"}, exitInconclusive,
			"critical sections, fewer than the minimum of 100; "},
		// Holds of 1 ms in a run of 1 ms: at most one acquisition ends
		// in time, fewer than the four workers.
		{"too short", []string{"-strategy", "os", "-procs", "4", "-dur", "1ms", "-hold", "1ms"}, exitInconclusive, "fewer than the minimum of 4, one per worker"},
		{"below -min-checked", []string{"-strategy", "os", "-procs", "2", "-dur", "200ms", "-min-checked", "1000000000"}, exitInconclusive, "fewer than the minimum of 1000000000)"},
		{"broken with one worker", []string{"-strategy", "none", "-procs", "1", "-dur", "200ms"}, exitInconclusive, "verdict      INCONCLUSIVE (none is a broken strategy, and with one worker it cannot be caught)"},
		{"one worker", []string{"-strategy", "soft", "-procs", "1", "-dur", "200ms"}, exitInconclusive, "verdict      INCONCLUSIVE (with one worker, nothing contended for the lock)"},
		{"one worker, no minimum", []string{"-strategy", "soft", "-procs", "1", "-dur", "200ms", "-min-checked", "0"}, exitPass, "verdict      PASS\n"},
		{"detectors off", []string{"-strategy", "os", "-procs", "2", "-dur", "200ms", "-detectors=false"}, exitInconclusive, "INCONCLUSIVE (the detectors were off"},
		{"detectors off, no minimum", []string{"-strategy", "os", "-procs", "2", "-dur", "200ms", "-detectors=false", "-min-checked", "0"}, exitPass, "verdict      PASS\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // processes of their own, each in its directory
			cmd, stdout, stderr := lockstressProcess(t, append(tc.args, "-dir", t.TempDir())...)
			if code := processExit(t, cmd); code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stdout.String(), tc.want) {
				t.Errorf("stdout does not say %q:\n%s", tc.want, stdout)
			}
		})
	}
	t.Run("failed", func(t *testing.T) {
		cmd, stdout, stderr := lockstressProcess(t, "-strategy", "os", "-procs", "2", "-dur", "2s", "-dir", t.TempDir())
		if !proctest.SignalChild(t, cmd.Process.Pid, syscall.SIGKILL, 500*time.Millisecond, 20*time.Second) {
			cmd.Process.Kill()
		}
		if code := processExit(t, cmd); code != exitError {
			t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitError, stderr)
		}
		if !strings.Contains(stdout.String(), "killed by signal killed") {
			t.Errorf("stdout does not report the killed worker:\n%s", stdout)
		}
	})
}

// -strategy all runs every real strategy, and the JSON report survives a
// round trip.
func TestJSONReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	// -min-checked 0: this test is not about the minimum, which a loaded
	// machine may not reach in so short a run.
	code, stdout, stderr := lockstress(t, "-strategy", "all", "-procs", "3", "-dur", "300ms", "-min-checked", "0", "-dir", t.TempDir(), "-json", path)
	if code != exitPass {
		t.Fatalf("exit code %d; stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	doc, b := readDocument(t, path)
	if doc.Schema != stress.SchemaName || doc.Version != stress.SchemaVersion || doc.Verdict != "PASS" || doc.ExitCode != 0 {
		t.Errorf("document header %q %d %q %d", doc.Schema, doc.Version, doc.Verdict, doc.ExitCode)
	}
	var want []string
	for _, s := range stress.Strategies() {
		want = append(want, s.String())
	}
	var got []string
	for _, r := range doc.Runs {
		got = append(got, r.Strategy)
		if r.Acquisitions == 0 || r.Violations != 0 || r.Broken {
			t.Errorf("run %s: %d acquisitions, %d violations, broken %v", r.Strategy, r.Acquisitions, r.Violations, r.Broken)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("-strategy all ran %v, want %v", got, want)
	}
	if strings.Count(stdout, "verdict ") != len(want) {
		t.Errorf("summary has %d verdicts, want %d:\n%s", strings.Count(stdout, "verdict "), len(want), stdout)
	}
	again, err := json.MarshalIndent(&doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var doc2 stress.Document
	if err := json.Unmarshal(again, &doc2); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc, doc2) {
		t.Errorf("round trip changed the document:\n%s\n----\n%s", b, again)
	}
	checkDocumented(t, b)
}

// readDocument reads a JSON report.
func readDocument(t *testing.T, path string) (stress.Document, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc stress.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc, b
}

// checkDocumented checks that docs/lockstress.md names every key of a
// JSON report.
func checkDocumented(t *testing.T, report []byte) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/lockstress.md")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(report, &v); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				keys[k] = true
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	var missing []string
	for k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") && !isMapKey(k) {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/lockstress.md does not document the JSON keys %v", missing)
	}
}

// isMapKey reports whether k is a key of a map in the report (an error
// kind, a violation kind) rather than a field name.
func isMapKey(k string) bool { return strings.Contains(k, ":") || strings.Contains(k, "-") }

// With -json - the JSON goes to standard output and the summary to
// standard error.
func TestJSONToStdout(t *testing.T) {
	code, stdout, stderr := lockstress(t, "-strategy", "none", "-procs", "3", "-dur", "300ms", "-hold", "1ms", "-dir", t.TempDir(), "-json", "-")
	if code != exitViolation {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	var doc stress.Document
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if len(doc.Runs) != 1 || doc.ExitCode != exitViolation || doc.Runs[0].Detectors.Occupancy.Count == 0 {
		t.Errorf("document %+v", doc)
	}
	if !strings.Contains(stderr, "verdict      FAIL") {
		t.Errorf("stderr has no summary:\n%s", stderr)
	}
	checkDocumented(t, []byte(stdout))
}

// Two hosts join a shared run with "lockstress worker"; "lockstress verify"
// merges them.
func TestWorkerAndVerify(t *testing.T) {
	dir := t.TempDir()
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for _, host := range []string{"a", "b"} {
		cmd, _, stderr := lockstressProcess(t, "worker", "-dir", dir, "-run-id", "shared", "-host", host, "-strategy", "ofd", "-procs", "2", "-dur", "500ms", "-min-checked", "0")
		cmds, errs = append(cmds, cmd), append(errs, stderr)
	}
	for i, cmd := range cmds {
		if code := processExit(t, cmd); code != 0 {
			t.Fatalf("worker %d: exit code %d\n%s", i, code, errs[i])
		}
	}
	path := filepath.Join(t.TempDir(), "merged.json")
	code, stdout, stderr := lockstress(t, "verify", "-json", path, filepath.Join(dir, "shared"))
	if code != 0 {
		t.Fatalf("verify: exit code %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "hosts:      a, b") || !strings.Contains(stdout, "verdict      PASS") {
		t.Errorf("verify summary:\n%s", stdout)
	}
	doc, _ := readDocument(t, path)
	if len(doc.Runs) != 1 || len(doc.Runs[0].Hosts) != 2 || len(doc.Runs[0].Workers) != 4 {
		t.Errorf("merged report: %+v", doc.Runs)
	}
}

// A run interrupted while its workers were being started exits as
// interrupted (5), saying so, not as a usage error.
func TestInterruptedStartExitsInterrupted(t *testing.T) {
	var stderr bytes.Buffer
	err := fmt.Errorf("interrupted after starting 3 of 50 workers, before any began: %w", context.Canceled)
	if code := setupError(&stderr, "", stress.Config{}, err); code != exitInterrupted || !strings.Contains(stderr.String(), "after starting 3 of 50") {
		t.Errorf("exit code %d, stderr %q; want %d and the error", code, stderr.String(), exitInterrupted)
	}
}

// A shared run whose hosts joined and none finished is an error of the
// run (exit 3), not a usage error: they tested, and nothing can verify it.
func TestVerifyWhereNoHostFinished(t *testing.T) {
	dir := t.TempDir()
	cmd, _, stderr := lockstressProcess(t, "worker", "-dir", dir, "-run-id", "shared", "-host", "a", "-strategy", "ofd", "-procs", "1", "-dur", "200ms", "-min-checked", "0")
	if code := processExit(t, cmd); code != 0 {
		t.Fatalf("worker: exit code %d\n%s", code, stderr)
	}
	written, _ := filepath.Glob(filepath.Join(dir, "shared", "hosts", "a-*", "host.json"))
	if len(written) != 1 {
		t.Fatalf("host.json: %v, want one", written)
	}
	if err := os.Remove(written[0]); err != nil { // as if the host had been killed
		t.Fatal(err)
	}
	code, _, verr := lockstress(t, "verify", filepath.Join(dir, "shared"))
	if host := filepath.Base(filepath.Dir(written[0])); code != exitError || !strings.Contains(verr, "hosts joined the run and wrote no host.json: "+host) {
		t.Errorf("verify: exit code %d, stderr %q; want %d, naming %s", code, verr, exitError, host)
	}
}

// "lockstress strategies" lists what "-strategy all" runs, one a line.
func TestStrategiesList(t *testing.T) {
	code, stdout, stderr := lockstress(t, "strategies")
	var want []string
	for _, s := range stress.Strategies() {
		want = append(want, s.String())
	}
	if code != 0 || stderr != "" || stdout != strings.Join(want, "\n")+"\n" {
		t.Errorf("exit code %d, stdout %q, stderr %q; want 0, %q, none", code, stdout, stderr, strings.Join(want, "\n")+"\n")
	}
	if code, _, stderr := lockstress(t, "strategies", "extra"); code != exitUsage || !strings.Contains(stderr, `unexpected argument "extra"`) {
		t.Errorf("with an argument: exit code %d, stderr %q", code, stderr)
	}
}

// -fair and -poll reach the workers' locks and the report.
func TestFairAndPollFlags(t *testing.T) {
	// The warm-up has the workers contending when the measured run
	// begins, so that it has hand-overs even on a loaded machine, where
	// starting 3 race-built processes can take most of 300 ms.
	code, stdout, stderr := lockstress(t, "-strategy", "os", "-procs", "3", "-warmup", "500ms", "-dur", "300ms", "-hold", "1ms", "-fair", "-poll", "-min-checked", "0", "-dir", t.TempDir(), "-json", "-")
	if code != exitPass {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	var doc stress.Document
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if len(doc.Runs) != 1 || !doc.Runs[0].Config.Fair || !doc.Runs[0].Config.Polling {
		t.Errorf("config %+v, want fair and polling", doc.Runs[0].Config)
	}
	if !strings.Contains(stderr, ", fair, polling") {
		t.Errorf("the summary does not name the mode:\n%s", stderr)
	}
	// The handoff latency is shown where the run had hand-overs.
	if handoffs := doc.Runs[0].HandoffLatency.Count; strings.Contains(stderr, "  handoff ") != (handoffs > 0) {
		t.Errorf("%d hand-overs, and the summary's handoff line does not match:\n%s", handoffs, stderr)
	}
	checkDocumented(t, []byte(stdout))
}

// TestMixedWarning: a mixed population whose members are known not to
// exclude each other is warned about before it runs (and then caught).
func TestMixedWarning(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Fatal("flock(1) missing: run scripts/setup-deps, which installs it")
	}
	code, _, stderr := lockstress(t, "-strategy", "ofd,exec:../../adapters/flock.sh", "-procs", "4", "-dur", "1s", "-hold", "1ms",
		"-dir", t.TempDir())
	if !strings.Contains(stderr, "warning: ofd (fcntl(2) record locks) and exec:../../adapters/flock.sh (flock(2)) do not exclude each other") {
		t.Errorf("no warning on stderr:\n%s", stderr)
	}
	if code != exitViolation {
		t.Errorf("exit %d, want the FAIL code %d", code, exitViolation)
	}
}
