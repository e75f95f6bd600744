package stress

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// burnAdapter returns the adapter command of the burning adapter.
func burnAdapter(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(burnAdapterEnv, "1")
	return self
}

// An adapter's CPU time is read from its live process, and from the
// kernel's account once it has been waited for.
func TestAdapterCPU(t *testing.T) {
	a, err := startAdapter(burnAdapter(t), filepath.Join(t.TempDir(), "lock"), adapterTimeouts{Start: time.Minute, Slack: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	before, ok := a.cpu()
	if !ok {
		t.Fatal("the CPU time of a running adapter is unknown")
	}
	const locks = 5
	for range locks {
		if err := a.LockContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := a.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	live, ok := a.cpu()
	// /proc rounds utime and stime down to a tick (10 ms) each, so each
	// reading is short by less than two (the adapter has no children).
	if min := locks*burnPerLock - 20*time.Millisecond; !ok || live-before < min {
		t.Errorf("the adapter burned %v in %d locks; want %v at least", live-before, locks, min)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Once waited for, the kernel's exact account: no less than the last
	// reading, and more only by what the reading left out and the exit.
	waited, ok := a.cpu()
	if !ok || waited < live || waited-live > 100*time.Millisecond {
		t.Errorf("once waited for, the adapter used %v (known %v); want %v to %v", waited, ok, live, live+100*time.Millisecond)
	}
}

// A run's adapter processes are metered beside the workers, and their
// time is not counted as the workers'.
//
// Each acquisition burns burnPerLock of processor time, which a machine
// loaded enough takes seconds of real time to give: a run with fewer
// acquisitions than minBurns tells little and is made again twice as
// long, up to three times (a run of 1 s under a CPU hog and other tests
// made none).
func TestReportCountsAdapterCPU(t *testing.T) {
	const procs, minBurns = 2, 4
	var rep *Report
	d := longerRuns(t, time.Second, 8*time.Second, func(d time.Duration) string {
		// After a warm-up the metering begins meterLead before the
		// acquisitions counted, so none of their burns falls before it.
		rep = runStress(t, Config{Strategy: Exec(burnAdapter(t)), Procs: procs, Warmup: 300 * time.Millisecond, Duration: d, DetectorsOff: true})
		if rep.Acquisitions < minBurns {
			return fmt.Sprintf("%d acquisitions, fewer than %d", rep.Acquisitions, minBurns)
		}
		return ""
	})
	if rep.Acquisitions < minBurns {
		t.Fatalf("%d acquisitions in %v, fewer than %d", rep.Acquisitions, d, minBurns)
	}
	burned := time.Duration(rep.Acquisitions) * burnPerLock
	// Each worker's two readings lose less than two ticks between them
	// (utime and stime rounded down apart); a burn more may begin late.
	// Beyond the counted burns, each worker's adapter may burn through the
	// lead and in an acquisition the end of the run cut short.
	min := burned - procs*(burnPerLock+20*time.Millisecond)
	max := burned + procs*(meterLead+2*burnPerLock) + 50*time.Millisecond
	if got := time.Duration(rep.AdapterCPUNs); got < min || got > max {
		t.Errorf("adapters used %v in %d acquisitions; want %v to %v", got, rep.Acquisitions, min, max)
	}
	if rep.AdapterCPUShare <= 0 {
		t.Errorf("adapter CPU share %v", rep.AdapterCPUShare)
	}
	if time.Duration(rep.WorkerCPUNs) > burned/2 {
		t.Errorf("workers used %v, adapters %v: the adapters' burn (%v) counted as the workers'",
			time.Duration(rep.WorkerCPUNs), time.Duration(rep.AdapterCPUNs), burned)
	}
	var sum strings.Builder
	if err := WriteSummary(&sum, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.String(), "their adapters' processes "+time.Duration(rep.AdapterCPUNs).Round(time.Millisecond).String()) {
		t.Errorf("the summary does not give the adapters' CPU:\n%s", sum.String())
	}
}
