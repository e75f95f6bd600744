//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// gateRun is what one run of scripts/action-gate, the steps of the
// action, left.
type gateRun struct {
	code            int
	outputs         string // what it wrote to GITHUB_OUTPUT
	summary, stderr string
	dir             string // its working directory (the workspace)
}

// runGate runs scripts/action-gate as the action does, with the test
// binary as lockstress, in a fresh workspace.
func runGate(t *testing.T, env ...string) gateRun {
	t.Helper()
	g := gateRun{dir: t.TempDir()}
	files := t.TempDir()
	out, sum := filepath.Join(files, "output"), filepath.Join(files, "summary")
	script, err := filepath.Abs("../../scripts/action-gate")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script)
	cmd.Dir = g.dir
	cmd.Env = append(append(os.Environ(), asMain+"=1", "LOCKSTRESS_BIN="+os.Args[0], "GITHUB_OUTPUT="+out, "GITHUB_STEP_SUMMARY="+sum), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	g.code, g.stderr = cmd.ProcessState.ExitCode(), stderr.String()
	if err != nil && g.code < 0 {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	s, _ := os.ReadFile(sum)
	g.outputs, g.summary = string(b), string(s)
	return g
}

// The action's steps pass a real lock and a lock through an adapter,
// write both reports and name them in the step's outputs, and fail a
// broken lock and bad flags with lockstress's exit status.
func TestActionGate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		code    int
		verdict string
		files   []string
	}{
		// -min-checked 0 in the passing runs: this test is about the
		// action's outputs, not the minimum, which a 300 ms run on a
		// loaded machine may not reach (an adapter starts a shell per
		// acquisition); TestExitCodes covers the minimum.
		{"ofd passes", []string{"GATE_STRATEGY=ofd", "GATE_PROCS=3", "GATE_DUR=300ms", "GATE_ARGS=-min-checked 0"}, exitPass, "PASS",
			[]string{"lockstress-report.json", "lockstress-report.html"}},
		{"adapter passes", []string{"GATE_STRATEGY=exec:$LOCKSTRESS_ADAPTERS/flock.sh", "GATE_PROCS=2", "GATE_DUR=300ms", "GATE_ARGS=-min-checked 0", "GATE_HTML=", "GATE_JSON=out.json"},
			exitPass, "PASS", []string{"out.json"}},
		{"racy fails", []string{"GATE_STRATEGY=racy", "GATE_PROCS=3", "GATE_DUR=300ms", "GATE_ARGS=-hold 1ms -seed 7"}, exitViolation, "FAIL",
			[]string{"lockstress-report.json", "lockstress-report.html"}},
		{"bad flags", []string{"GATE_PROCS=many"}, exitUsage, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // processes of their own, each in its workspace
			g := runGate(t, tc.env...)
			if g.code != tc.code {
				t.Fatalf("exit status %d, want %d; stderr:\n%s", g.code, tc.code, g.stderr)
			}
			want := "verdict=" + tc.verdict + "\nexit-code=" + strconv.Itoa(tc.code) + "\nfiles<<LOCKSTRESS_FILES\n"
			for _, f := range tc.files {
				want += f + "\n"
				if _, err := os.Stat(filepath.Join(g.dir, f)); err != nil {
					t.Errorf("report %s: %v", f, err)
				}
			}
			if want += "LOCKSTRESS_FILES\n"; g.outputs != want {
				t.Errorf("outputs:\n%s\nwant:\n%s", g.outputs, want)
			}
			if !strings.Contains(g.summary, "exit status "+strconv.Itoa(tc.code)) {
				t.Errorf("job summary %q does not give the exit status", g.summary)
			}
		})
	}
}
