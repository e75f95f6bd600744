//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lockstress/lockstress/stress"
	"github.com/lockstress/lockstress/stress/detect"
)

// nprocLimit, set for lockstress run as a process of its own, is the
// process limit (RLIMIT_NPROC) it runs with; as root, which the limit does
// not hold, it runs as the user nobody.
const nprocLimit = "LOCKSTRESS_TEST_NPROC"

// limitProcesses sets this process's process limit to limit and, as root,
// becomes nobody; it exits with status 100 if it cannot.
func limitProcesses(limit string) {
	n, err := strconv.ParseUint(limit, 10, 64)
	if err == nil {
		err = unix.Setrlimit(unix.RLIMIT_NPROC, &unix.Rlimit{Cur: n, Max: n})
	}
	if err == nil && os.Getuid() == 0 {
		err = syscall.Setuid(65534)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "limiting processes to %s: %v\n", limit, err)
		os.Exit(100)
	}
}

// -procs above the user's process limit is refused before any worker
// starts, with a message that names -procs and the limit.
func TestProcsAboveProcessLimit(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &lim); err != nil {
		t.Fatal(err)
	}
	limit := min(lim.Max, 100000)
	if os.Getuid() != 0 && lim.Max != unix.RLIM_INFINITY && lim.Max < 1000 {
		t.Skipf("the hard process limit %d is too low to test without stopping this user's processes", lim.Max)
	}
	// Should the limit not be checked, the missing -dir stops the run
	// before its workers start.
	missing := filepath.Join(t.TempDir(), "missing")
	cmd, stdout, stderr := lockstressProcessEnv(t, []string{nprocLimit + "=" + strconv.FormatUint(limit, 10)},
		"-procs", strconv.FormatUint(limit+1, 10), "-dur", "1s", "-dir", missing)
	if code := processExit(t, cmd); code != exitUsage {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	}
	want := fmt.Sprintf("lockstress: -procs: %d worker processes and the ", limit+1)
	if !strings.HasPrefix(stderr.String(), want) || !strings.Contains(stderr.String(), fmt.Sprintf("exceed its limit of %d (ulimit -u)", limit)) || stdout.Len() > 0 {
		t.Errorf("stderr %q, stdout %q; want %q... (ulimit -u)", stderr, stdout, want)
	}
}

// SIGINT, SIGTERM or SIGHUP in the middle of a run ends it at once with its own
// verdict and exit status: a run cut short never passes.
func TestInterruptedExitCode(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(t.TempDir(), "report.json")
			cmd, stdout, stderr := lockstressProcess(t, "-strategy", "os", "-procs", "2", "-dur", "60s", "-dir", dir, "-json", path)
			waitForAcquisitions(t, dir, 20)
			start := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := processExit(t, cmd); code != exitInterrupted {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("the run took %v to end after %v", took, sig)
			}
			if !regexp.MustCompile(`verdict      INTERRUPTED \(interrupted after [0-9.]+m?s of 1m0s\)`).MatchString(stdout.String()) {
				t.Errorf("stdout does not give the verdict INTERRUPTED:\n%s", stdout)
			}
			doc, _ := readDocument(t, path)
			if doc.Verdict != "INTERRUPTED" || doc.ExitCode != exitInterrupted || len(doc.Runs) != 1 || !doc.Runs[0].Interrupted {
				t.Errorf("document verdict %s, exit code %d, runs %d", doc.Verdict, doc.ExitCode, len(doc.Runs))
			}
		})
	}
}

// A run killed with SIGKILL cannot remove its run directory and scratch
// directory; the next run removes them. The scratch directories go to a
// directory of the test's own (stress.ScratchDirEnv): in /dev/shm, any
// other lockstress run of the machine might remove the killed run's
// first.
func TestKilledRunIsSwept(t *testing.T) {
	dir, scratch := t.TempDir(), t.TempDir()
	t.Setenv(stress.ScratchDirEnv, scratch) // for both runs: the killed one and the next
	cmd, _, _ := lockstressProcess(t, "-strategy", "os", "-procs", "2", "-dur", "60s", "-dir", dir)
	waitForAcquisitions(t, dir, 20)
	left := ownedBy(t, cmd.Process.Pid, dir, scratch)
	if len(left) != 2 {
		t.Fatalf("the run's directories marked as its own: %v, want its run and scratch directories", left)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if code := processExit(t, cmd); code != -1 {
		t.Fatalf("exit code %d, want -1 (killed)", code)
	}
	for _, d := range left {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("the killed run's %s is already gone: %v", d, err)
		}
	}
	report := filepath.Join(t.TempDir(), "report.json")
	// The next run is here for its sweep: -min-checked 0, since on a
	// loaded machine its 100 ms may check fewer sections than it has
	// workers (seen: exit 4, INCONCLUSIVE, in a flake hunt).
	code, stdout, stderr := lockstress(t, "-strategy", "os", "-procs", "2", "-dur", "100ms", "-min-checked", "0", "-dir", dir, "-json", report)
	if code != exitPass {
		t.Fatalf("the next run: exit code %d\n%s", code, stderr)
	}
	doc, b := readDocument(t, report)
	for _, d := range left {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("the next run left the killed run's %s: %v", d, err)
		}
		if !slices.Contains(doc.Runs[0].Swept, d) {
			t.Errorf("the report does not list %s among the directories removed: %v", d, doc.Runs[0].Swept)
		}
	}
	if !strings.Contains(stdout, "  cleaned up   ") {
		t.Errorf("the summary does not say what was removed:\n%s", stdout)
	}
	checkDocumented(t, b)
}

// ownedBy returns the directories lockstress-* in the parents whose owner
// file names the process pid.
func ownedBy(t *testing.T, pid int, parents ...string) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for _, p := range parents {
		owners, _ := filepath.Glob(filepath.Join(p, "lockstress-*", ".lockstress-owner"))
		for _, o := range owners {
			b, err := os.ReadFile(o)
			if err == nil && strings.Contains(string(b), fmt.Sprintf("\npid %d\n", pid)) && !seen[filepath.Dir(o)] {
				seen[filepath.Dir(o)] = true
				out = append(out, filepath.Dir(o))
			}
		}
	}
	return out
}

// waitForAcquisitions waits until the ledger of the run in dir counts n
// acquisitions: the run has certainly started.
func waitForAcquisitions(t *testing.T, dir string, n uint64) {
	t.Helper()
	for give := time.Now().Add(30 * time.Second); time.Now().Before(give); time.Sleep(10 * time.Millisecond) {
		ledgers, _ := filepath.Glob(filepath.Join(dir, "lockstress-*", "ledger"))
		for _, l := range ledgers {
			b, err := os.ReadFile(l)
			if err != nil {
				continue
			}
			if rec, err := detect.ParseRecord(b); err == nil && rec.Seq >= n {
				return
			}
		}
	}
	t.Fatalf("no run in %s made %d acquisitions within 30s", dir, n)
}
