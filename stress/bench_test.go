package stress

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
)

// BenchmarkCycle measures one uncontended acquisition of the worker loop
// (acquire, critical section with no hold, release, log) in this process,
// with the detectors on and off, for every strategy and for None, which
// costs nothing itself: None with the detectors on is the harness's own
// cost per acquisition, and the difference between on and off for a real
// strategy what the detectors add to it.
func BenchmarkCycle(b *testing.B) {
	for _, s := range append(Strategies(), None) {
		for _, detectors := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/detectors=%v", s, detectors), func(b *testing.B) {
				dir := b.TempDir()
				reg, err := createRegion(filepath.Join(dir, "region"), 1)
				if err != nil {
					b.Fatal(err)
				}
				defer reg.close()
				spec := workerSpec{
					Run: "bench", Host: "h", Owner: "w0", Workers: 1, Strategy: s, LockPath: filepath.Join(dir, "lock"),
					Region: filepath.Join(dir, "region"), Detectors: detectors, LogDir: dir, MaxExamples: 10,
				}
				if detectors {
					spec.LedgerPath = filepath.Join(dir, "ledger")
					if err := createLedger(spec.LedgerPath); err != nil {
						b.Fatal(err)
					}
				}
				w, err := newWorker(spec)
				if err != nil {
					b.Fatal(err)
				}
				defer w.close()
				w.deadline = math.MaxInt64
				ctx := context.Background()
				for b.Loop() {
					if err := w.cycle(ctx); err != nil {
						b.Fatal(err)
					}
				}
				if w.acquired == 0 || reg.hdr.occupancy.Load() != 0 {
					b.Fatalf("acquired %d, occupancy %d", w.acquired, reg.hdr.occupancy.Load())
				}
			})
		}
	}
}
