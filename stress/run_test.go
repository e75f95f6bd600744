//go:build linux

package stress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstress/lockstress/stress/detect"
	"github.com/lockstress/lockstress/stress/proctest"
)

// runStress runs cfg on a fresh directory (unless cfg.Dir is set) and
// checks that the run leaves nothing behind, neither in the directory under
// test nor in its scratch directory.
func runStress(t *testing.T, cfg Config) *Report {
	t.Helper()
	return runStressCtx(t, context.Background(), cfg)
}

// runStressCtx is runStress, the run cut short when ctx is done.
func runStressCtx(t *testing.T, ctx context.Context, cfg Config) *Report {
	t.Helper()
	fresh := cfg.Dir == ""
	if fresh {
		cfg.Dir = t.TempDir()
	}
	if cfg.Grace == 0 {
		// A run that passes never waits for the grace period; on a busy
		// machine workers may need long to finish.
		cfg.Grace = time.Minute
	}
	before := runDirs(t, cfg.Dir)
	scratch := t.TempDir()
	scratchParent = scratch
	defer func() { scratchParent = "" }()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if left, _ := os.ReadDir(scratch); len(left) > 0 {
		t.Errorf("the run left %v in its scratch directory", names(left))
	}
	if left, _ := os.ReadDir(cfg.Dir); fresh && !cfg.Join && len(left) > 0 {
		t.Errorf("the run left %v in %s", names(left), cfg.Dir)
	}
	for d := range runDirs(t, cfg.Dir) {
		if !before[d] {
			t.Errorf("the run left %s in %s", d, cfg.Dir)
		}
	}
	if t.Failed() || testing.Verbose() {
		var b bytes.Buffer
		if err := WriteSummary(&b, rep); err != nil {
			t.Fatal(err)
		}
		t.Logf("summary:\n%s", b.String())
	}
	return rep
}

// runDirs returns the run directories in dir.
func runDirs(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if strings.HasPrefix(e.Name(), "lockstress-") && !strings.HasPrefix(e.Name(), "lockstress-scratch-") &&
			!ownedByAnother(filepath.Join(dir, e.Name())) {
			out[e.Name()] = true
		}
	}
	return out
}

// ownedByAnother reports whether the run directory dir names another
// process as its owner: a run of another test binary or lockstress sharing
// a directory such as /dev/shm, whose directories come and go meanwhile.
func ownedByAnother(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return false
	}
	o, err := parseOwner(b)
	return err == nil && o.pid != os.Getpid()
}

func names(es []os.DirEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// The broken strategies must trip every detector. Eight workers holding
// the lock for a millisecond each collide many times a second, so each
// detector sees hundreds of violations: a run without one would be a
// detector that does not work, not bad luck.
func TestBrokenStrategiesTripEveryDetector(t *testing.T) {
	for _, s := range BrokenStrategies() {
		t.Run(s.String(), func(t *testing.T) {
			rep := runStress(t, Config{Strategy: s, Procs: 8, Duration: time.Second, Hold: Fixed(time.Millisecond)})
			d := rep.Detectors
			for name, dr := range map[string]DetectorReport{"ledger": d.Ledger, "occupancy": d.Occupancy, "interval": d.Interval} {
				if dr.Count == 0 {
					t.Errorf("%s detector saw no violation in %d critical sections", name, dr.Checked)
				}
				if len(dr.Examples) == 0 || dr.Examples[0].Detail == "" || len(dr.Examples[0].Workers) < 1 {
					t.Errorf("%s detector described no violation: %+v", name, dr.Examples)
				}
			}
			if len(d.Interval.Examples) > 0 && len(d.Interval.Examples[0].Workers) != 2 {
				t.Errorf("an overlap names %v, want two workers", d.Interval.Examples[0].Workers)
			}
			if !rep.Broken || rep.Verdict != VerdictFail {
				t.Errorf("broken %v, verdict %s; want true, FAIL", rep.Broken, rep.Verdict)
			}
			if len(rep.Failures) > 0 {
				t.Errorf("failures: %+v", rep.Failures)
			}
		})
	}
}

// Every real strategy passes on a disk directory and on tmpfs, and every
// acquisition is seen by every detector.
func TestRealStrategiesPass(t *testing.T) {
	dirs := map[string]string{"tempdir": ""}
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		dirs["devshm"] = "/dev/shm"
	}
	for _, s := range Strategies() {
		for dname, dir := range dirs {
			t.Run(s.String()+"/"+dname, func(t *testing.T) {
				rep := runStress(t, Config{Strategy: s, Procs: 8, Duration: 700 * time.Millisecond, Dir: dir})
				if rep.Violations != 0 || rep.Verdict != VerdictPass || rep.Reason != "" {
					t.Errorf("%d violations, verdict %s (%s); want 0, PASS", rep.Violations, rep.Verdict, rep.Reason)
				}
				if len(rep.Failures) > 0 {
					t.Errorf("failures: %+v", rep.Failures)
				}
				if rep.Acquisitions == 0 {
					t.Fatal("no acquisitions")
				}
				d := rep.Detectors
				for name, n := range map[string]int64{"ledger": d.Ledger.Checked, "occupancy": d.Occupancy.Checked, "interval": d.Interval.Checked} {
					if n != rep.Acquisitions {
						t.Errorf("%s detector checked %d of %d acquisitions", name, n, rep.Acquisitions)
					}
				}
				if rep.AcquireLatency.Count != rep.Acquisitions || rep.HoldTime.Count != rep.Acquisitions {
					t.Errorf("latency samples %d, hold samples %d, acquisitions %d", rep.AcquireLatency.Count, rep.HoldTime.Count, rep.Acquisitions)
				}
				if rep.Fairness.Handoffs == nil || *rep.Fairness.Handoffs != rep.Acquisitions-1 {
					t.Errorf("handoffs %v, want %d", rep.Fairness.Handoffs, rep.Acquisitions-1)
				}
				if rep.Filesystem.Type == "" || rep.Filesystem.MountPoint == "" {
					t.Errorf("filesystem not named: %+v", rep.Filesystem)
				}
				if dname == "devshm" && rep.Filesystem.Type != "tmpfs" {
					t.Errorf("/dev/shm reported as %q, want tmpfs", rep.Filesystem.Type)
				}
			})
		}
	}
}

// TestNoWorkerStarvedByDefault: with the library's default options, 16
// workers that hold the lock 1 ms and take it again at once each acquire
// it, for every strategy, in a run in which the lock changed hands at
// least starvationTurns times. (Barging, which the default was before
// turns, leaves several of them out on an idle machine:
// docs/performance.md.) Starvation is a matter of turns, not of time: on
// an idle machine every worker is served within 150 ms and a run of three
// seconds makes some 1,700 acquisitions, but on a machine so loaded that
// a 1 ms hold lasts 100 ms a run of three seconds made 21, too few to
// serve 16 workers in any order; such a run is made again, twice as
// long, up to twice.
func TestNoWorkerStarvedByDefault(t *testing.T) {
	const procs, starvationTurns = 16, 16 * 20
	for _, s := range Strategies() {
		t.Run(s.String(), func(t *testing.T) {
			var rep *Report
			longerRuns(t, 3*time.Second, 12*time.Second, func(d time.Duration) string {
				rep = runStress(t, Config{Strategy: s, Procs: procs, Duration: d, Hold: Fixed(time.Millisecond)})
				if rep.Violations != 0 || len(rep.Failures) != 0 {
					t.Fatalf("%d violations, failures %+v", rep.Violations, rep.Failures)
				}
				if rep.Acquisitions >= starvationTurns {
					return ""
				}
				return fmt.Sprintf("%d acquisitions, fewer than %d", rep.Acquisitions, starvationTurns)
			})
			if len(rep.Fairness.Starved) > 0 {
				t.Errorf("%d of %d workers never acquired in %d acquisitions: %v", len(rep.Fairness.Starved), procs, rep.Acquisitions, rep.Fairness.Starved)
			}
		})
	}
}

// Without the detectors the harness measures the lock alone and sees no
// violations, even where there are some.
func TestDetectorsOff(t *testing.T) {
	rep := runStress(t, Config{Strategy: None, Procs: 4, Duration: 300 * time.Millisecond, Hold: Fixed(time.Millisecond), DetectorsOff: true})
	if rep.Detectors.Enabled || rep.Violations != 0 || rep.Detectors.Ledger.Checked != 0 {
		t.Errorf("detectors %+v, violations %d; want them off and blind", rep.Detectors, rep.Violations)
	}
	if rep.Acquisitions == 0 || rep.AcquireLatency.Count != rep.Acquisitions {
		t.Errorf("acquisitions %d, latency samples %d", rep.Acquisitions, rep.AcquireLatency.Count)
	}
	if rep.Fairness.RetakeRatio != nil {
		t.Errorf("retake ratio %v without the ledger", *rep.Fairness.RetakeRatio)
	}
	if rep.Utilization < 1.5 {
		t.Errorf("utilization %.2f: four workers always inside at once should show well above 1", rep.Utilization)
	}
}

// Killing holders of a kernel lock: the kernel drops the lock, the lock
// recovers, and the detectors, which see the killed holder's ledger state,
// report no violation.
func TestKillRecovers(t *testing.T) {
	rep := killRun(t, Config{Strategy: mustStrategy(t, "ofd"), Procs: 4, Hold: Fixed(500 * time.Microsecond), KillRate: 5})
	f := rep.Faults
	if f.Recovered+f.Unrecovered != f.Kills || f.Recovery.Count != int64(f.Recovered) {
		t.Errorf("faults do not add up: %+v", f)
	}
	restarted := 0
	for _, w := range rep.Workers {
		restarted += w.Incarnations - 1
	}
	if restarted == 0 {
		t.Error("no worker was restarted")
	}
	if rep.Detectors.Ledger.Takeovers > int64(f.Kills) {
		t.Errorf("%d takeovers for %d kills", rep.Detectors.Ledger.Takeovers, f.Kills)
	}
}

// A killed soft or link holder leaves its lock file behind, naming a
// process that is now dead on this host: the next waiter breaks it, so
// every kill recovers (but one at the very end of the run) and the run
// sees no violation.
func TestKillFileLockRecovers(t *testing.T) {
	for _, name := range []string{"soft", "link"} {
		t.Run(name, func(t *testing.T) {
			rep := runStress(t, Config{Strategy: mustStrategy(t, name), Procs: 4, Duration: 2 * time.Second,
				Hold: Fixed(200 * time.Microsecond), KillRate: 10, Timeout: 5 * time.Second})
			f := rep.Faults
			if f.Kills == 0 || f.Recovered+f.Unrecovered != f.Kills || f.Unrecovered > 1 {
				t.Fatalf("faults %+v; want every kill recovered", f)
			}
			if rep.Violations != 0 || len(rep.Failures) != 0 {
				t.Errorf("%d violations, failures %+v; want none", rep.Violations, rep.Failures)
			}
		})
	}
}

// A holder stopped for longer than the stale-after age loses its lock to a
// waiter while it still believes it holds it: the documented limit of any
// lock broken by age. The detectors must report it.
func TestStopLongerThanStaleAfterIsReported(t *testing.T) {
	rep := runStress(t, Config{Strategy: mustStrategy(t, "soft"), Procs: 3, Duration: 4 * time.Second,
		Hold: Fixed(100 * time.Microsecond), StaleAfter: time.Second, Stop: 2500 * time.Millisecond, StopRate: 2,
		Timeout: 10 * time.Second})
	if rep.Faults.Stops == 0 {
		t.Fatalf("no stop: %+v", rep.Faults)
	}
	if rep.Violations == 0 || rep.Verdict != VerdictFail {
		t.Errorf("%d violations, verdict %s; a lock broken under a stopped holder must be reported", rep.Violations, rep.Verdict)
	}
	if rep.Config.StaleAfterNs != int64(time.Second) {
		t.Errorf("report config stale_after_ns %d", rep.Config.StaleAfterNs)
	}
}

func TestStop(t *testing.T) {
	rep := runStress(t, Config{Strategy: mustStrategy(t, "os"), Procs: 4, Duration: 1500 * time.Millisecond,
		Hold: Fixed(500 * time.Microsecond), Stop: 200 * time.Millisecond, StopRate: 4})
	if rep.Faults.Stops == 0 || len(rep.Faults.StopEvents) == 0 || rep.Faults.StopEvents[0].DurationNs < int64(100*time.Millisecond) {
		t.Errorf("stops %+v", rep.Faults)
	}
	if rep.Violations != 0 || len(rep.Failures) != 0 {
		t.Errorf("%d violations, failures %+v; want none", rep.Violations, rep.Failures)
	}
	if rep.HoldTime.MaxNs < int64(150*time.Millisecond) {
		t.Errorf("longest hold %v: a stopped holder should have held the lock while stopped", time.Duration(rep.HoldTime.MaxNs))
	}
}

func mustStrategy(t *testing.T, name string) Strategy {
	t.Helper()
	for _, s := range Strategies() {
		if s.String() == name {
			return s
		}
	}
	t.Skipf("strategy %s is not supported here", name)
	return Strategy{}
}

// A worker that crashes is reported with its standard error.
func TestWorkerCrashReported(t *testing.T) {
	script := filepath.Join(t.TempDir(), "crash")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho boom >&2\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rep := runStress(t, Config{Strategy: None, Procs: 2, Duration: time.Second, Executable: script})
	if len(rep.Failures) != 2 || rep.Verdict != VerdictError {
		t.Fatalf("failures %+v, verdict %s; want 2 failures, ERROR", rep.Failures, rep.Verdict)
	}
	for _, f := range rep.Failures {
		if f.Reason != "exited with status 7" || f.Stderr != "boom" || f.PID == 0 {
			t.Errorf("failure %+v", f)
		}
	}
}

// A worker that is killed by someone else is reported. The run would last
// a minute: it is cut short once the kill is made, so that a loaded
// machine cannot end it first.
func TestWorkerDeathReported(t *testing.T) {
	dir := t.TempDir()
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer close(done)
		defer cancel()
		// Once the worker has certainly begun: a worker stopped before
		// the start barrier holds up the start instead.
		waitForLedger(dir, 1)
		proctest.SignalChild(t, os.Getpid(), syscall.SIGKILL, 0, 10*time.Second)
	}()
	rep := runStressCtx(t, ctx, Config{Dir: dir, Strategy: mustStrategy(t, "os"), Procs: 3, Duration: time.Minute})
	<-done
	if len(rep.Failures) != 1 || rep.Failures[0].Reason != "killed by signal killed" {
		t.Fatalf("failures %+v, want one killed by a signal", rep.Failures)
	}
	if rep.Verdict != VerdictError || rep.Violations != 0 {
		t.Errorf("verdict %s with %d violations, want ERROR and none", rep.Verdict, rep.Violations)
	}
}

// A worker that stops responding is killed after the grace period and
// reported hung. The run would last a minute: it is cut short once the
// worker is stopped, so that a loaded machine cannot end it first.
func TestWorkerHangReported(t *testing.T) {
	dir := t.TempDir()
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer close(done)
		defer cancel()
		// Once the worker has certainly begun: a worker stopped before
		// the start barrier holds up the start instead.
		waitForLedger(dir, 1)
		proctest.SignalChild(t, os.Getpid(), syscall.SIGSTOP, 0, 10*time.Second)
	}()
	start := time.Now()
	rep := runStressCtx(t, ctx, Config{Dir: dir, Strategy: mustStrategy(t, "os"), Procs: 1, Duration: time.Minute, Grace: time.Second})
	<-done
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the run took %v", took)
	}
	if len(rep.Failures) != 1 || !strings.HasPrefix(rep.Failures[0].Reason, "hung: still running 1s after the end of the run") {
		t.Fatalf("failures %+v, want one hung", rep.Failures)
	}
	if rep.Verdict != VerdictError {
		t.Errorf("verdict %s, want ERROR", rep.Verdict)
	}
}

func TestConfigErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string // for a ConfigError
		path  string // for a *fs.PathError
	}{
		{"no strategy", Config{}, "Strategy", ""},
		{"negative procs", Config{Strategy: None, Procs: -1}, "Procs", ""},
		{"negative duration", Config{Strategy: None, Duration: -time.Second}, "Duration", ""},
		{"negative timeout", Config{Strategy: None, Timeout: -1}, "Timeout", ""},
		{"negative warm-up", Config{Strategy: None, Warmup: -time.Second}, "Warmup", ""},
		{"negative kill rate", Config{Strategy: None, KillRate: -1}, "KillRate", ""},
		{"no deadline with a timeout", Config{Strategy: None, NoDeadline: true, Timeout: time.Second}, "NoDeadline", ""},
		{"no deadline with faults", Config{Strategy: None, NoDeadline: true, KillRate: 1}, "NoDeadline", ""},
		{"no deadline with polling", Config{Strategy: None, NoDeadline: true, Polling: true}, "NoDeadline", ""},
		{"fair and barging", Config{Strategy: None, Fair: true, Barging: true}, "Barging", ""},
		{"stale-after below the minimum", Config{Strategy: None, StaleAfter: 500 * time.Millisecond}, "StaleAfter", ""},
		{"join without run id", Config{Strategy: None, Join: true, Dir: t.TempDir()}, "RunID", ""},
		{"bad run id", Config{Strategy: None, RunID: "../x"}, "RunID", ""},
		{"missing dir", Config{Strategy: None, Dir: "/nonexistent/lockstress"}, "", "/nonexistent/lockstress"},
		{"dir is a file", Config{Strategy: None, Dir: file}, "", file},
		{"dir where nothing can be made", Config{Strategy: None, Dir: "/proc"}, "", "/proc"},
		{"shared dir where nothing can be made", Config{Strategy: None, Dir: "/proc", Join: true, RunID: "r"}, "", "/proc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Run(context.Background(), tc.cfg)
			if err == nil {
				t.Fatalf("Run succeeded: %+v", rep)
			}
			var ce *ConfigError
			var pe *fs.PathError
			switch {
			case tc.field != "":
				if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("err = %v, want a ConfigError for %s", err, tc.field)
				}
			case !errors.As(err, &pe) || pe.Path != tc.path:
				t.Errorf("err = %v, want a PathError for %s", err, tc.path)
			}
		})
	}
}

// runTwoHosts runs two hosts, a and b, of the shared run runID in dir, each
// with three workers, for 600 ms. A host whose detectors checked too few
// critical sections to judge (a machine so loaded that its workers barely
// ran) makes the test tell nothing: the two are run again, under a new ID,
// twice as long, up to twice. It returns the ID of the run made last.
func runTwoHosts(t *testing.T, dir, runID string, s Strategy, procs int, killRate float64) (string, []*Report, []error) {
	t.Helper()
	var (
		id   string
		reps []*Report
		errs []error
	)
	const first = 600 * time.Millisecond
	longerRuns(t, first, 4*first, func(d time.Duration) string {
		id = runID
		if d > first {
			id = fmt.Sprintf("%s-%v", runID, d)
		}
		reps, errs = make([]*Report, 2), make([]error, 2)
		done := make(chan int)
		for i, host := range []string{"a", "b"} {
			go func() {
				reps[i], errs[i] = Run(context.Background(), Config{Dir: dir, Join: true, RunID: id, Host: host,
					Strategy: s, Procs: procs, Duration: d, Hold: Fixed(200 * time.Microsecond), KillRate: killRate})
				done <- i
			}()
		}
		<-done
		<-done
		for i := range reps {
			if errs[i] == nil && reps[i].Verdict == VerdictInconclusive {
				return fmt.Sprintf("run %s: a host could not judge its share (%s)", id, reps[i].Reason)
			}
		}
		return ""
	})
	return id, reps, errs
}

// Two hosts (here two runs with different host names) join one run; Verify
// merges them.
func TestJoinAndVerify(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		runID    string
		strategy Strategy
		killRate float64
		fail     bool
	}{
		{"good", mustStrategy(t, "os"), 0, false},
		// A worker that takes the ledger over from a holder killed on the
		// other host: that host's note of the kill tells this one that it
		// is no violation (it was a FAIL).
		{"kills", mustStrategy(t, "os"), 5, false},
		{"broken", None, 0, true},
	} {
		t.Run(tc.runID, func(t *testing.T) {
			runID, reps, errs := runTwoHosts(t, dir, tc.runID, tc.strategy, 3, tc.killRate)
			var acquisitions int64
			for i, err := range errs {
				if err != nil {
					t.Fatalf("host %d: %v", i, err)
				}
				acquisitions += reps[i].Acquisitions
				if !tc.fail && reps[i].Verdict != VerdictPass {
					t.Errorf("host %d: verdict %s (%s), want PASS", i, reps[i].Verdict, reps[i].Reason)
				}
				t.Logf("host %d: %d kills, %d takeovers", i, reps[i].Faults.Kills, reps[i].Detectors.Ledger.Takeovers)
			}
			rep, err := Verify(filepath.Join(dir, runID), 0)
			if err != nil {
				t.Fatal(err)
			}
			// A killed worker's log loses what it had not written yet.
			checked := rep.Detectors.Ledger.Checked
			if len(rep.Hosts) != 2 || len(rep.Workers) != 6 || rep.Acquisitions != acquisitions || checked > acquisitions || checked < acquisitions && tc.killRate == 0 {
				t.Errorf("hosts %v, %d workers, %d acquisitions (ledger checked %d); want 2 hosts, 6 workers, %d",
					rep.Hosts, len(rep.Workers), rep.Acquisitions, checked, acquisitions)
			}
			if got := rep.Detectors.Ledger.Count > 0; got != tc.fail {
				t.Errorf("ledger violations %d, want some: %v", rep.Detectors.Ledger.Count, tc.fail)
			}
			if tc.fail && rep.Verdict != VerdictFail || !tc.fail && rep.Verdict != VerdictPass {
				t.Errorf("verdict %s", rep.Verdict)
			}
		})
	}
	t.Run("mismatch", func(t *testing.T) {
		_, err := Run(context.Background(), Config{Dir: dir, Join: true, RunID: "good", Strategy: None, Procs: 1, Duration: 100 * time.Millisecond})
		if !errors.Is(err, ErrRunMismatch) {
			t.Errorf("joining with another strategy: %v, want ErrRunMismatch", err)
		}
	})
	t.Run("one worker a host", func(t *testing.T) {
		// Each host alone has one worker, which nothing on that host
		// contends with; together they contend, and only verify can
		// tell: a host's own verdict leaves that to it.
		runID, reps, errs := runTwoHosts(t, dir, "single", mustStrategy(t, "os"), 1, 0)
		for i, err := range errs {
			if err != nil || reps[i].Verdict != VerdictPass {
				t.Fatalf("host %d: %v, verdict %s (%s), want PASS", i, err, reps[i].Verdict, reps[i].Reason)
			}
		}
		rep, err := Verify(filepath.Join(dir, runID), 0)
		if err != nil || rep.Verdict != VerdictPass || len(rep.Workers) != 2 {
			t.Errorf("verify: %v, verdict %s (%s), %d workers; want PASS over 2", err, rep.Verdict, rep.Reason, len(rep.Workers))
		}
	})
	t.Run("logs removed", func(t *testing.T) {
		// A worker's logs removed from the run directory leave its
		// critical sections unchecked: an error, not a pass (one log
		// gone) nor inconclusive (all gone).
		rep, err := Run(context.Background(), Config{Dir: dir, Join: true, RunID: "unlogged", Host: "a",
			Strategy: mustStrategy(t, "os"), Procs: 2, Duration: 500 * time.Millisecond, Hold: Fixed(time.Millisecond)})
		if err != nil {
			t.Fatal(err)
		}
		logs, _ := filepath.Glob(filepath.Join(dir, "unlogged", "hosts", "a-*", "logs"))
		if len(logs) != 1 {
			t.Fatalf("the host's logs: %v, want one directory", logs)
		}
		for i, w := range rep.Workers {
			if w.Acquisitions == 0 {
				continue
			}
			gone, _ := filepath.Glob(filepath.Join(logs[0], fmt.Sprintf("w%04d.*.log", i)))
			for _, p := range gone {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
			vrep, err := Verify(filepath.Join(dir, "unlogged"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if vrep.Verdict != VerdictError || len(vrep.Failures) != 1 || vrep.Failures[0].Worker != w.Name ||
				!strings.Contains(vrep.Failures[0].Reason, "no log of it") {
				t.Errorf("verify with %v removed: verdict %s (%s), failures %+v; want ERROR naming %s", gone, vrep.Verdict, vrep.Reason, vrep.Failures, w.Name)
			}
			return
		}
		t.Fatal("no worker acquired the lock in 500 ms")
	})
	t.Run("hosts one after another", func(t *testing.T) {
		// Each host holds the lock most of its time; the run lasted both
		// hosts' times, so the lock was held less than all of it, and the
		// acquisitions were made over both times.
		var elapsed time.Duration
		var acquisitions int64
		for _, host := range []string{"a", "b"} {
			rep, err := Run(context.Background(), Config{Dir: dir, Join: true, RunID: "after", Host: host,
				Strategy: mustStrategy(t, "os"), Procs: 2, Duration: 500 * time.Millisecond, Hold: Fixed(time.Millisecond)})
			if err != nil {
				t.Fatalf("host %s: %v", host, err)
			}
			elapsed += time.Duration(rep.ElapsedNs)
			acquisitions += rep.Acquisitions
		}
		rep, err := Verify(filepath.Join(dir, "after"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if want := float64(acquisitions) / elapsed.Seconds(); rep.Utilization >= 1 || math.Abs(rep.Throughput-want) > want/100 {
			t.Errorf("utilization %.2f, throughput %.1f/s; want below 1 and %.1f/s (%d acquisitions in %v)",
				rep.Utilization, rep.Throughput, want, acquisitions, elapsed)
		}
	})
	t.Run("a host that did not finish", func(t *testing.T) {
		// It made its directory, and was killed before it wrote its
		// host.json: the run is not verified without it.
		if err := os.Mkdir(filepath.Join(dir, "good", "hosts", "c-killed"), 0o777); err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(filepath.Join(dir, "good"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verdict != VerdictError || len(rep.Failures) != 1 || rep.Failures[0].Worker != "host c-killed" {
			t.Errorf("verdict %s, failures %+v; want ERROR naming host c-killed", rep.Verdict, rep.Failures)
		}
	})
	t.Run("no hosts", func(t *testing.T) {
		empty := filepath.Join(dir, "empty")
		if err := os.MkdirAll(empty, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := joinRun(empty, "empty", Config{Strategy: None}); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(empty, 0); !errors.Is(err, ErrNoHosts) || errors.Is(err, ErrHostsUnfinished) {
			t.Errorf("Verify of a run no host joined: %v, want ErrNoHosts alone", err)
		}
		if err := os.MkdirAll(filepath.Join(empty, "hosts", "a-killed"), 0o777); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(empty, 0); !errors.Is(err, ErrNoHosts) || !errors.Is(err, ErrHostsUnfinished) || !strings.Contains(err.Error(), "a-killed") {
			t.Errorf("Verify of a run no host finished: %v, want ErrNoHosts and ErrHostsUnfinished naming a-killed", err)
		}
	})
	t.Run("detectors off", func(t *testing.T) {
		// No worker writes a log then: none is missing, and the run is
		// inconclusive, as any run without detectors, not an error.
		if _, err := Run(context.Background(), Config{Dir: dir, Join: true, RunID: "blind", Host: "a",
			Strategy: mustStrategy(t, "os"), Procs: 2, Duration: 200 * time.Millisecond, DetectorsOff: true}); err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(filepath.Join(dir, "blind"), 0)
		if err != nil || rep.Verdict != VerdictInconclusive || len(rep.Failures) != 0 {
			t.Errorf("verify: %v, verdict %s (%s), failures %+v; want INCONCLUSIVE, none", err, rep.Verdict, rep.Reason, rep.Failures)
		}
	})
	t.Run("host.json not a regular file", func(t *testing.T) {
		// The run directory is shared: verify reads no file through a
		// link planted there, and never waits on a FIFO.
		if _, err := Run(context.Background(), Config{Dir: dir, Join: true, RunID: "planted", Host: "a",
			Strategy: mustStrategy(t, "os"), Procs: 2, Duration: 200 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		hosts, _ := filepath.Glob(filepath.Join(dir, "planted", "hosts", "a-*"))
		if len(hosts) != 1 {
			t.Fatalf("the host's directory: %v, want one", hosts)
		}
		host, real := hosts[0], filepath.Join(dir, "planted", "elsewhere")
		if err := os.Rename(host, real); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			plant func() error
		}{
			{"host directory a link", func() error { return os.Symlink(real, host) }},
			{"host.json a link", func() error {
				return errors.Join(os.Mkdir(host, 0o777), os.Symlink(filepath.Join(real, "host.json"), filepath.Join(host, "host.json")))
			}},
			{"host.json a FIFO", func() error {
				return errors.Join(os.Mkdir(host, 0o777), syscall.Mkfifo(filepath.Join(host, "host.json"), 0o666))
			}},
		} {
			if err := tc.plant(); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			verified := make(chan error, 1)
			go func() {
				_, err := Verify(filepath.Join(dir, "planted"), 0)
				verified <- err
			}()
			select {
			case err := <-verified:
				if err == nil || !strings.Contains(err.Error(), host) {
					t.Errorf("%s: Verify: %v, want an error naming %s", tc.name, err, host)
				}
			case <-time.After(time.Minute):
				t.Fatalf("%s: Verify still waiting after a minute", tc.name)
			}
			if err := os.RemoveAll(host); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Rename(real, host); err != nil {
			t.Fatal(err)
		}
		if rep, err := Verify(filepath.Join(dir, "planted"), 0); err != nil || rep.Verdict == VerdictError {
			t.Errorf("Verify of the host put back: %v, verdict %s (%s)", err, rep.Verdict, rep.Reason)
		}
	})
}

// Cancelling the context ends the run early, with a report that says so:
// an adapter's worker too, whose wait for its adapter's answer it cuts
// short, which is no failure of the adapter.
func TestInterrupt(t *testing.T) {
	for _, s := range []Strategy{mustStrategy(t, "os"), Exec("testdata/adapters/no-recovery.sh")} {
		t.Run(s.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dir := t.TempDir()
			cancelled := make(chan time.Time, 1)
			go func() {
				waitForLedger(dir, 10) // once the workers have certainly begun
				cancelled <- time.Now()
				cancel()
			}()
			rep, err := Run(ctx, Config{Dir: dir, Strategy: s, Procs: 3, Duration: time.Minute, Hold: Fixed(20 * time.Millisecond)})
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(<-cancelled); took > 10*time.Second {
				t.Errorf("the run ended %v after it was interrupted", took)
			}
			if !rep.Interrupted || len(rep.Failures) != 0 || rep.Acquisitions == 0 {
				t.Errorf("interrupted %v, failures %+v, acquisitions %d", rep.Interrupted, rep.Failures, rep.Acquisitions)
			}
			if rep.Verdict != VerdictInterrupted || !strings.HasPrefix(rep.Reason, "interrupted after ") {
				t.Errorf("verdict %s (%s), want INTERRUPTED", rep.Verdict, rep.Reason)
			}
		})
	}
}

// A run interrupted while its workers are being started starts no more of
// them, kills those it started and says so at once: starting thousands of
// workers (as root, whom no process limit stops) takes a minute.
func TestInterruptWhileStarting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := 0
	workerStarted = func(i int) {
		if started = i + 1; started == 3 {
			cancel()
		}
	}
	defer func() { workerStarted = nil }()
	dir := t.TempDir()
	_, err := Run(ctx, Config{Dir: dir, Strategy: mustStrategy(t, "os"), Procs: 50, Duration: time.Minute})
	if !errors.Is(err, context.Canceled) || started != 3 || !strings.Contains(err.Error(), "after starting 3 of 50 workers") {
		t.Errorf("Run: %v, %d workers started; want context.Canceled after 3 of 50", err, started)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("the run left %v in %s", names(left), dir)
	}
}

// ledgerAt reports whether the ledger of a run in dir has reached sequence
// number seq.
// waitForLedger waits until ledgerAt(dir, seq), or a minute.
func waitForLedger(dir string, seq uint64) {
	for deadline := time.Now().Add(time.Minute); !ledgerAt(dir, seq) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

func ledgerAt(dir string, seq uint64) bool {
	ledgers, _ := filepath.Glob(filepath.Join(dir, "lockstress-*", "ledger"))
	for _, l := range ledgers {
		if b, err := os.ReadFile(l); err == nil {
			if rec, err := detect.ParseRecord(b); err == nil && rec.Seq >= seq {
				return true
			}
		}
	}
	return false
}

// TestFairRun: with Fair the workers take turns, so a worker that releases
// the lock rarely takes it again while others wait; the report carries the
// handoff latency and the workers' CPU time.
func TestFairRun(t *testing.T) {
	for _, s := range Strategies() {
		t.Run(s.String(), func(t *testing.T) {
			rep := runStress(t, Config{Strategy: s, Procs: 6, Duration: time.Second, Hold: Fixed(time.Millisecond), Fair: true})
			if rep.Violations != 0 || len(rep.Failures) != 0 {
				t.Fatalf("%d violations, failures %+v", rep.Violations, rep.Failures)
			}
			if !rep.Config.Fair || rep.Config.Polling {
				t.Errorf("config %+v: want fair, not polling", rep.Config)
			}
			if len(rep.Fairness.Starved) > 0 {
				t.Errorf("starved: %v", rep.Fairness.Starved)
			}
			// Six workers that always queue again at once: a re-take
			// needs all five others to be out of the queue.
			if r := rep.Fairness.RetakeRatio; r == nil || *r > 0.5 {
				t.Errorf("re-take ratio %v, want well below 0.5", r)
			}
			if rep.HandoffLatency.Count == 0 || rep.HandoffLatency.P50Ns <= 0 {
				t.Errorf("handoff latency %+v", rep.HandoffLatency)
			}
			if rep.WorkerCPUNs <= 0 || rep.WorkerCPUShare <= 0 {
				t.Errorf("worker CPU %d ns, share %f", rep.WorkerCPUNs, rep.WorkerCPUShare)
			}
		})
	}
}

// TestFairKillRecovers: SIGKILL chaos with fair locks; the kernel releases
// a killed holder's lock, the queue goes on, and nothing is violated.
func TestFairKillRecovers(t *testing.T) {
	killRun(t, Config{Strategy: mustStrategy(t, "ofd"), Procs: 6, Hold: Fixed(500 * time.Microsecond), KillRate: 5, Fair: true})
}

// longerRuns calls run with d, and again with twice the duration while it
// says why its run told too little (too few acquisitions, kills or the
// like), up to most; it returns the duration of the last run. On a machine
// loaded enough a short run makes too little to judge: a longer run, not a
// looser check, is what tells.
func longerRuns(t *testing.T, d, most time.Duration, run func(d time.Duration) (tooLittle string)) time.Duration {
	t.Helper()
	for ; ; d *= 2 {
		why := run(d)
		if why == "" || d >= most {
			return d
		}
		t.Logf("run of %v: %s: the machine is too loaded to tell; again, for %v", d, why, 2*d)
	}
}

// killRun runs cfg, which kills holders, for two seconds, and requires a
// pass with no violation or failure in which kills were recovered from,
// all but one at the end at most.
//
// The next kill waits for the recovery from the last, so a run in which
// the first kill came late, or on a machine so loaded that the recovery
// took the rest of the run, has one kill and no recovery, which tells
// nothing as long as the run did not go on for the recovery bound after
// it: such a run is made again twice as long, up to twice. Any run whose
// verdict is not a PASS (a lock that never recovered is an ERROR) fails
// the test at once.
func killRun(t *testing.T, cfg Config) *Report {
	t.Helper()
	var rep *Report
	longerRuns(t, 2*time.Second, 8*time.Second, func(d time.Duration) string {
		cfg.Duration = d
		rep = runStress(t, cfg)
		f := rep.Faults
		if rep.Violations != 0 || len(rep.Failures) != 0 || rep.Verdict != VerdictPass {
			t.Fatalf("run of %v: %d violations, failures %+v, verdict %s (%s); want a PASS (kills %+v)",
				d, rep.Violations, rep.Failures, rep.Verdict, rep.Reason, f.KillEvents)
		}
		if f.Recovered > 0 {
			return ""
		}
		return fmt.Sprintf("no kill recovered (kills %+v)", f.KillEvents)
	})
	f := rep.Faults
	if f.Kills == 0 || f.Recovered == 0 || f.Unrecovered > 1 || rep.Verdict != VerdictPass {
		t.Fatalf("kills %d, recovered %d, unrecovered %d, verdict %s (%s); want kills, all recovered but one at the end at most (kills %+v)",
			f.Kills, f.Recovered, f.Unrecovered, rep.Verdict, rep.Reason, f.KillEvents)
	}
	return rep
}

// TestNothingCountedAfterTheEnd: a hold longer than the run is cut at its
// end, and the waiters that take the lock after the end are not counted:
// one acquisition, the lock held no more than the whole run.
func TestNothingCountedAfterTheEnd(t *testing.T) {
	for _, fair := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "fair"}[fair], func(t *testing.T) {
			rep := runStress(t, Config{Strategy: mustStrategy(t, "soft"), Procs: 4, Duration: 500 * time.Millisecond, Hold: Fixed(time.Hour), Fair: fair})
			if rep.Violations != 0 || len(rep.Failures) != 0 {
				t.Fatalf("%d violations, failures %+v", rep.Violations, rep.Failures)
			}
			if rep.Acquisitions != 1 {
				t.Errorf("%d acquisitions, want 1 (the first holder's)", rep.Acquisitions)
			}
			if rep.Utilization > 1 {
				t.Errorf("lock held %.3f of the run, more than all of it", rep.Utilization)
			}
		})
	}
}

// TestWarmupIsLeftOut: the acquisitions of the warm-up are checked by
// every detector but counted in no figure, and the figures cover exactly
// the measured run.
func TestWarmupIsLeftOut(t *testing.T) {
	const dur = 400 * time.Millisecond
	rep := runStress(t, Config{Strategy: mustStrategy(t, "soft"), Procs: 4, Warmup: 300 * time.Millisecond, Duration: dur, Hold: Fixed(time.Millisecond), Fair: true})
	if rep.Violations != 0 || len(rep.Failures) != 0 {
		t.Fatalf("%d violations, failures %+v", rep.Violations, rep.Failures)
	}
	if rep.Acquisitions == 0 || rep.WarmupAcquisitions == 0 {
		t.Fatalf("%d acquisitions measured, %d in the warm-up: want some of each", rep.Acquisitions, rep.WarmupAcquisitions)
	}
	all := rep.Acquisitions + rep.WarmupAcquisitions
	d := rep.Detectors
	if d.Ledger.Checked != all || d.Occupancy.Checked != all || d.Interval.Checked != all {
		t.Errorf("detectors checked %d, %d, %d critical sections; want all %d", d.Ledger.Checked, d.Occupancy.Checked, d.Interval.Checked, all)
	}
	if rep.AcquireLatency.Count != rep.Acquisitions || rep.HoldTime.Count != rep.Acquisitions {
		t.Errorf("%d latencies and %d holds recorded for %d measured acquisitions", rep.AcquireLatency.Count, rep.HoldTime.Count, rep.Acquisitions)
	}
	// Every measured acquisition follows another: the first ones follow
	// the warm-up's last.
	if h := rep.Fairness.Handoffs; h == nil {
		t.Error("no handoffs counted")
	} else if *h != rep.Acquisitions {
		t.Errorf("%d handoffs, want one into each of the %d measured acquisitions", *h, rep.Acquisitions)
	}
	if rep.ElapsedNs != int64(dur) {
		t.Errorf("measured %v, want the duration %v", time.Duration(rep.ElapsedNs), dur)
	}
	if rep.Config.WarmupNs != int64(300*time.Millisecond) {
		t.Errorf("report's warmup_ns %d", rep.Config.WarmupNs)
	}
	var sum int64
	for _, w := range rep.Workers {
		sum += w.Acquisitions
	}
	if sum != rep.Acquisitions {
		t.Errorf("workers' acquisitions add up to %d, the run's are %d", sum, rep.Acquisitions)
	}
	// Memory is metered from shortly before the end of the warm-up, and
	// divided by the acquisitions of that time (no worker was killed).
	if m := rep.Memory; m.Acquisitions < rep.Acquisitions || m.Acquisitions > all || m.AllocBytes == 0 || m.Allocs == 0 {
		t.Errorf("memory %+v, for %d acquisitions measured and %d in all", m, rep.Acquisitions, all)
	}
}

// TestWarmupKilledHolder: a holder whose wait began in the warm-up and
// that is killed after it (faults begin then) is still of the warm-up: no
// handoff into it is counted.
func TestWarmupKilledHolder(t *testing.T) {
	rep := runStress(t, Config{Strategy: mustStrategy(t, "ofd"), Procs: 2, Warmup: 500 * time.Millisecond, Duration: time.Second,
		Hold: Fixed(150 * time.Millisecond), KillRate: 30})
	if rep.Violations != 0 {
		t.Fatalf("%d violations", rep.Violations)
	}
	if rep.Faults.Kills == 0 {
		t.Fatal("no kill: nothing shown")
	}
	if h := rep.Fairness.Handoffs; h == nil {
		t.Error("no handoffs counted")
	} else if *h > rep.Acquisitions {
		t.Errorf("%d handoffs, more than the %d measured acquisitions they can lead into", *h, rep.Acquisitions)
	}
}

// TestWarmupHoldCountsFromItsEnd: a hold taken in the warm-up that lasts
// the whole run holds the lock for all of the measured run, and no more;
// the acquisition itself is not counted.
func TestWarmupHoldCountsFromItsEnd(t *testing.T) {
	rep := runStress(t, Config{Strategy: mustStrategy(t, "soft"), Procs: 2, Warmup: 300 * time.Millisecond, Duration: 300 * time.Millisecond, Hold: Fixed(time.Hour)})
	if rep.Violations != 0 || len(rep.Failures) != 0 {
		t.Fatalf("%d violations, failures %+v", rep.Violations, rep.Failures)
	}
	if rep.Acquisitions != 0 || rep.WarmupAcquisitions != 1 {
		t.Errorf("%d acquisitions measured, %d in the warm-up; want 0 and 1", rep.Acquisitions, rep.WarmupAcquisitions)
	}
	if rep.Utilization < 0.99 || rep.Utilization > 1 {
		t.Errorf("lock held %.3f of the measured run, want all of it (1)", rep.Utilization)
	}
}

// TestFaultsAfterWarmup: no fault is injected in the warm-up.
func TestFaultsAfterWarmup(t *testing.T) {
	const warmup = 400 * time.Millisecond
	rep := runStress(t, Config{Strategy: mustStrategy(t, "ofd"), Procs: 4, Warmup: warmup, Duration: 600 * time.Millisecond,
		Hold: Fixed(2 * time.Millisecond), KillRate: 20})
	if rep.Violations != 0 {
		t.Fatalf("%d violations", rep.Violations)
	}
	if rep.Faults.Kills == 0 {
		t.Fatal("no kill at 20 a second: nothing shown")
	}
	for _, k := range rep.Faults.KillEvents {
		if k.AtNs < int64(warmup) {
			t.Errorf("%s killed %v after the start, in the warm-up", k.Worker, time.Duration(k.AtNs))
		}
	}
}

// TestNoDeadline: os and ofd workers that wait without a deadline (in the
// kernel) pass, and the run ends although nothing cancels their waits; the
// other strategies are not affected.
func TestNoDeadline(t *testing.T) {
	for _, name := range []string{"os", "ofd", "soft"} {
		t.Run(name, func(t *testing.T) {
			s := mustStrategy(t, name)
			rep := runStress(t, Config{Strategy: s, Procs: 6, Duration: time.Second, Hold: Fixed(time.Millisecond), NoDeadline: true})
			if rep.Violations != 0 || len(rep.Failures) != 0 {
				t.Fatalf("%d violations, failures %+v", rep.Violations, rep.Failures)
			}
			if rep.Acquisitions == 0 || len(rep.Fairness.Starved) == 6 {
				t.Errorf("%d acquisitions, starved %v", rep.Acquisitions, rep.Fairness.Starved)
			}
			if want := name != "soft"; rep.Config.NoDeadline != want {
				t.Errorf("report's no_deadline %v, want %v", rep.Config.NoDeadline, want)
			}
		})
	}
}
