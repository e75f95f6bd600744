//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/stress"
)

// writeReport writes a lockstress JSON report of one run and returns
// its path.
func writeReport(t *testing.T, r stress.Report) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"runs": []stress.Report{r}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "r.json")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func report(throughput, util float64, maxWait time.Duration, verdict string) stress.Report {
	ratio := 0.25
	return stress.Report{
		Throughput:     throughput,
		Utilization:    util,
		AcquireLatency: stress.Latency{Count: 10, MaxNs: int64(maxWait), P99Ns: int64(maxWait / 2)},
		HandoffLatency: stress.Latency{Count: 10, P50Ns: 150_000, P99Ns: 2_000_000},
		WorkerCPUShare: 0.05,
		Fairness:       stress.Fairness{Jain: 0.99, RetakeRatio: &ratio, Starved: []string{"w1"}},
		Verdict:        verdict,
	}
}

// TestMediansAndWorst: a row holds the medians of its runs, and the worst
// longest wait; rows keep the order of their first appearance.
func TestMediansAndWorst(t *testing.T) {
	a1 := writeReport(t, report(100, 0.90, 10*time.Millisecond, "PASS"))
	a2 := writeReport(t, report(300, 0.96, 50*time.Millisecond, "PASS"))
	a3 := writeReport(t, report(200, 0.95, 20*time.Millisecond, "FAIL"))
	b := writeReport(t, report(1, 0.5, 2*time.Second, "PASS"))
	var out strings.Builder
	require.NoError(t, run([]string{"fair=" + a1, "events=" + b, "fair=" + a2, "fair=" + a3}, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 4)
	require.Equal(t, "| fair | 3 | 200 | 95.0% | 0.990 | 1 | 25.0% | 20 ms (50 ms) | 10 ms | 150 µs / 2 ms | 5.0% | PASS ×2, FAIL |", lines[2])
	require.True(t, strings.HasPrefix(lines[3], "| events | 1 | 1 | 50.0% |"), lines[3])
	require.Contains(t, lines[3], "| 2 s (2 s) |")
}

// TestAdapterCPU: where the lock ran in adapter processes, their median
// CPU share stands beside the workers'.
func TestAdapterCPU(t *testing.T) {
	var paths []string
	for _, share := range []float64{0.40, 0.10, 0.20} {
		r := report(100, 0.9, time.Second, "PASS")
		r.AdapterCPUShare = share
		paths = append(paths, "peer="+writeReport(t, r))
	}
	var out strings.Builder
	require.NoError(t, run(paths, &out))
	require.Contains(t, out.String(), "| 5.0% + 20.0% adapter | PASS ×3 |")
}

func TestBadArguments(t *testing.T) {
	var out strings.Builder
	require.Error(t, run(nil, &out))
	require.ErrorContains(t, run([]string{"no-equals"}, &out), "LABEL=REPORT.json")
	require.ErrorContains(t, run([]string{"x=" + filepath.Join(t.TempDir(), "missing.json")}, &out), "missing.json")
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"runs": []}`), 0o644))
	require.ErrorContains(t, run([]string{"x=" + bad}, &out), "0 runs")
}
