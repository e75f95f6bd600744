package stress

import (
	"context"
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
	// The ticks of /proc (10 ms) round each reading down.
	if min := locks*burnPerLock - 10*time.Millisecond; !ok || live-before < min {
		t.Errorf("the adapter burned %v in %d locks; want %v at least", live-before, locks, min)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waited, ok := a.cpu()
	if !ok || waited < live {
		t.Errorf("once waited for, the adapter used %v (known %v); want %v at least", waited, ok, live)
	}
}

// A run's adapter processes are metered beside the workers, and their
// time is not counted as the workers'.
func TestReportCountsAdapterCPU(t *testing.T) {
	const procs = 2
	rep := runStress(t, Config{Strategy: Exec(burnAdapter(t)), Procs: procs, Duration: time.Second, DetectorsOff: true})
	burned := time.Duration(rep.Acquisitions) * burnPerLock
	// Each worker's two readings lose up to a tick each, and its metering
	// may begin during its first burn.
	if min := burned - procs*(burnPerLock+20*time.Millisecond); time.Duration(rep.AdapterCPUNs) < min {
		t.Errorf("adapters used %v in %d acquisitions; want %v at least", time.Duration(rep.AdapterCPUNs), rep.Acquisitions, min)
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
