//go:build linux

package stress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseExecStrategy(t *testing.T) {
	s, err := ParseStrategy("exec:adapters/flock.sh -x")
	if err != nil || s.Adapter() != "adapters/flock.sh -x" || s.String() != "exec:adapters/flock.sh -x" || s.Broken() {
		t.Fatalf("ParseStrategy = %+v, %v", s, err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Strategy
	if err := json.Unmarshal(b, &back); err != nil || back != s {
		t.Errorf("JSON round trip: %s → %+v, %v", b, back, err)
	}
	for _, name := range []string{"exec:", "exec:   "} {
		if _, err := ParseStrategy(name); err == nil || !strings.Contains(err.Error(), "no adapter command") {
			t.Errorf("ParseStrategy(%q) = %v, want an error saying the command is missing", name, err)
		}
	}
}

// An adapter that answers ok without locking must trip every detector:
// the detectors apply to adapters as to the built-in strategies.
func TestBrokenAdapterTripsEveryDetector(t *testing.T) {
	rep := runStress(t, Config{Strategy: Exec("testdata/adapters/ok-without-locking.sh"), Procs: 8, Duration: time.Second, Hold: Fixed(time.Millisecond)})
	d := rep.Detectors
	for name, dr := range map[string]DetectorReport{"ledger": d.Ledger, "occupancy": d.Occupancy, "interval": d.Interval} {
		if dr.Count == 0 {
			t.Errorf("%s detector saw no violation in %d critical sections", name, dr.Checked)
		}
	}
	if rep.Verdict != VerdictFail || len(rep.Failures) > 0 {
		t.Errorf("verdict %s, failures %+v; want FAIL, none", rep.Verdict, rep.Failures)
	}
}

// The shipped adapters exclude: every detector checks every acquisition
// and sees no violation.
func TestPeerAdaptersPass(t *testing.T) {
	goflock := buildGoAdapter(t, "goflock")
	for _, tc := range []struct {
		name, command string
		need          []string      // commands, or py:MODULE for /usr/bin/python3
		timeout       time.Duration // of each acquisition; 0: none
	}{
		{"flock", "../adapters/flock.sh", []string{"flock"}, 0},
		{"filelock", "../adapters/pylock.py filelock", []string{"py:filelock"}, 0},
		{"softfilelock", "../adapters/pylock.py softfilelock", []string{"py:filelock"}, 0},
		{"flufl", "../adapters/pylock.py flufl", []string{"py:flufl.lock"}, 0},
		{"kernel flock", goflock + " kernel", nil, 0},
		// Waits that run out leave their flock calls in the kernel, to be
		// taken up by the next request or released when granted late.
		{"kernel flock, waits running out", goflock + " kernel", nil, time.Millisecond},
		{"gofrs", goflock + " gofrs", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireTools(t, tc.need)
			// A millisecond between a release and the next request lets
			// the waiters of a lock that polls slowly (flufl.lock) in: a
			// run in which one worker alone held the lock is no pass.
			rep := runStress(t, Config{Strategy: Exec(tc.command), Procs: 4, Duration: time.Second, Hold: Fixed(100 * time.Microsecond), Think: Fixed(time.Millisecond), Timeout: tc.timeout})
			if rep.Acquisitions == 0 || rep.Violations != 0 || len(rep.Failures) > 0 || rep.Verdict != VerdictPass {
				t.Errorf("%d acquisitions, %d violations, failures %+v, verdict %s; want some, 0, none, PASS",
					rep.Acquisitions, rep.Violations, rep.Failures, rep.Verdict)
			}
			if tc.timeout > 0 && rep.Errors["acquire:timeout"].Count == 0 {
				t.Errorf("no wait ran out in %d acquisitions: the row tests nothing of its own", rep.Acquisitions)
			}
			d := rep.Detectors
			for name, dr := range map[string]DetectorReport{"ledger": d.Ledger, "occupancy": d.Occupancy, "interval": d.Interval} {
				if dr.Checked != rep.Acquisitions {
					t.Errorf("%s detector checked %d of %d acquisitions", name, dr.Checked, rep.Acquisitions)
				}
			}
		})
	}
}

// requireTools fails the test for each command, or py:MODULE for
// /usr/bin/python3, that is missing.
func requireTools(t *testing.T, need []string) {
	t.Helper()
	for _, n := range need {
		if mod, ok := strings.CutPrefix(n, "py:"); ok {
			// Linux has every peer; scripts/check installs them
			// (scripts/setup-deps), so a missing one is a failure.
			if err := exec.Command("/usr/bin/python3", "-I", "-c", "import "+mod).Run(); err != nil {
				t.Fatalf("python module %s missing: run scripts/setup-deps, which installs it: %v", mod, err)
			}
		} else if _, err := exec.LookPath(n); err != nil {
			t.Fatalf("%s missing: run scripts/setup-deps, which installs it", n)
		}
	}
}

// buildGoAdapter builds the Go adapter adapters/name, without the race
// detector, into a temporary directory of t, and returns the binary's path.
// (go test puts its own go first in PATH.)
func buildGoAdapter(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, "./adapters/"+name)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./adapters/%s: %v\n%s", name, err, out)
	}
	return bin
}

// An adapter that breaks the protocol makes its workers fail with an
// error that says what it did, and the run ends on time.
func TestMisbehavingAdapters(t *testing.T) {
	defer func(start, slack time.Duration) { adapterStartTimeout, adapterSlack = start, slack }(adapterStartTimeout, adapterSlack)
	adapterStartTimeout, adapterSlack = 2*time.Second, 500*time.Millisecond
	for _, tc := range []struct{ adapter, want string }{
		{"testdata/adapters/exits.sh", "it closed its output (exit status 3)"},
		{"testdata/adapters/garbage.sh", `answer "granted, probably", want ok, timeout or error TEXT`},
		{"testdata/adapters/hangs.sh", "lock: no answer within"},
		{"testdata/adapters/never-ready.sh", "start: no answer within 2s: killed it"},
		{"testdata/adapters/missing.sh", "start: it closed its output (exit status 127)"},
	} {
		t.Run(tc.adapter, func(t *testing.T) {
			t0 := time.Now()
			rep := runStress(t, Config{Strategy: Exec(tc.adapter), Procs: 2, Duration: time.Second})
			if took := time.Since(t0); took > 20*time.Second {
				t.Errorf("the run took %v", took)
			}
			if len(rep.Failures) == 0 || rep.Verdict != VerdictError {
				t.Fatalf("failures %+v, verdict %s; want some, ERROR", rep.Failures, rep.Verdict)
			}
			for _, f := range rep.Failures {
				if !strings.Contains(f.Stderr, "lock adapter failed: \""+tc.adapter+"\"") || !strings.Contains(f.Stderr, tc.want) {
					t.Errorf("worker %s: stderr %q; want the adapter named and %q", f.Worker, f.Stderr, tc.want)
				}
			}
		})
	}
}

// A lock that never recovers from the kill of its holder does not pass: the
// run ends in ERROR, naming the kills after which nobody acquired it again.
func TestLockThatNeverRecoversIsAnError(t *testing.T) {
	rep := runStress(t, Config{Strategy: Exec("testdata/adapters/no-recovery.sh"), Procs: 3, Duration: 3 * time.Second,
		Hold: Fixed(time.Millisecond), Timeout: 200 * time.Millisecond, KillRate: 5})
	if rep.Faults.NeverRecovered == 0 || rep.Verdict != VerdictError || !strings.Contains(rep.Reason, "never recovered") {
		t.Errorf("faults %+v, verdict %s (%s); want a kill never recovered, ERROR", rep.Faults, rep.Verdict, rep.Reason)
	}
}

// A mixed population whose one member never acquires tested no mixing: the
// run is inconclusive, naming that member.
func TestIdleMemberIsInconclusive(t *testing.T) {
	mix, err := Mix(mustStrategy(t, "soft"), Exec("testdata/adapters/never-acquires.sh"))
	if err != nil {
		t.Fatal(err)
	}
	rep := runStress(t, Config{Strategy: mix, Procs: 4, Duration: time.Second, Timeout: 50 * time.Millisecond})
	if rep.Verdict != VerdictInconclusive || !strings.Contains(rep.Reason, "never-acquires.sh of the mixed population never held the lock") {
		t.Errorf("verdict %s (%s); want INCONCLUSIVE for the idle member", rep.Verdict, rep.Reason)
	}
}

// An adapter that leaves a child behind holding its output open neither
// holds the run up nor outlives it: the worker stops reading it, and what
// is left of the worker's process group is killed once it has exited.
func TestAdapterChildLeftBehindIsKilled(t *testing.T) {
	// The slack is what a worker gives its adapter to answer beyond the
	// wait it asked for, and to exit once told to: long enough for a shell
	// script on a loaded machine (500 ms was not, at a load of 24), short
	// enough that the run's end is not held up for long by the child.
	defer func(start, slack time.Duration) { adapterStartTimeout, adapterSlack = start, slack }(adapterStartTimeout, adapterSlack)
	adapterStartTimeout, adapterSlack = 10*time.Second, 3*time.Second
	mark := "60." + strconv.Itoa(os.Getpid()) // sleep's seconds: a minute, and this run's own
	t.Setenv("LEFT_CHILD_MARK", mark)
	t0 := time.Now()
	rep := runStress(t, Config{Strategy: Exec("testdata/adapters/leaves-a-child.sh"), Procs: 2, Duration: time.Second, Grace: 15 * time.Second})
	if took := time.Since(t0); took > 30*time.Second {
		t.Errorf("the run took %v", took)
	}
	if rep.Verdict != VerdictError || len(rep.Failures) == 0 || !strings.Contains(rep.Failures[0].Reason, "left processes holding its output open") {
		t.Errorf("verdict %s, failures %+v; want ERROR, the left processes named", rep.Verdict, rep.Failures)
	}
	// Killed, the child is gone once the kernel has ended it, which a
	// loaded machine may take a moment to do.
	for deadline := time.Now().Add(time.Minute); len(markedSleeps(mark)) > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("processes %v: the adapter's child is still running a minute after the run", markedSleeps(mark))
		}
	}
}

// markedSleeps returns the processes running sleep with the argument mark.
func markedSleeps(mark string) []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || string(b) != "sleep\x00"+mark+"\x00" {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// An adapter killed while a process it started (a shell's command waiting
// for the lock) holds its output open is let go at once: Close does not
// wait out the adapter's slack for an exit that the child prevents. (With
// the default slack of 5 s, its worker was taken for hung and killed with
// a stack dump, where the adapter's error was what it had to say.) The
// child is left to the end of its worker, which kills its process group.
func TestKilledAdapterIsLetGoAtOnce(t *testing.T) {
	mark := "60." + strconv.Itoa(os.Getpid()) + "1" // sleep's seconds: this test's own
	t.Setenv("LEFT_CHILD_MARK", mark)
	t.Cleanup(func() {
		for _, pid := range markedSleeps(mark) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	a, err := startAdapter("testdata/adapters/waits-in-a-child.sh", filepath.Join(t.TempDir(), "lock"), adapterTimeouts{Start: time.Minute, Slack: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	locked := make(chan error, 1)
	go func() { locked <- a.LockContext(ctx) }()
	// The kill must come once the child is running: before, the adapter
	// alone holds its output, and its kill would end it.
	for deadline := time.Now().Add(time.Minute); len(markedSleeps(mark)) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("the adapter's child did not start within a minute")
		}
	}
	cancel()
	if err := <-locked; !errors.Is(err, context.Canceled) {
		t.Fatalf("LockContext: %v, want context.Canceled", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v, want nil (cancelled, not broken)", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Close still waits a minute after the adapter was killed: it waits out the slack (an hour)")
	}
}

// An adapter's "timeout" says the wait it was asked for and how long it
// took to answer: one that gives up at once is not taken for one that
// waited, and the error still matches context.DeadlineExceeded.
func TestAdapterTimeoutSaysWhen(t *testing.T) {
	a, err := startAdapter("testdata/adapters/never-acquires.sh", filepath.Join(t.TempDir(), "lock"), adapterTimeouts{Start: time.Minute, Slack: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	err = a.LockContext(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want context.DeadlineExceeded", err)
	}
	var te adapterTimeoutError
	if !errors.As(err, &te) || te.wait < time.Hour-time.Minute || te.wait > time.Hour || te.took <= 0 || te.took > time.Minute {
		t.Fatalf("err %#v: want the hour asked and the moment it took", err)
	}
	if want := fmt.Sprintf("asked to wait up to %v, it answered timeout after %v", te.wait, te.took.Round(time.Millisecond)); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q", err)
	}
}
