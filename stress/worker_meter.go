package stress

import (
	"runtime"
	"sync"
	"time"
)

// meter measures the processor time and the memory this process uses
// from time from (at once if it has passed: see meterLead) until the
// returned function is called, which stores them in w.
func (w *worker) meter(from int64) (stop func()) {
	var mu sync.Mutex
	var start, adapterStart time.Duration
	var mem runtime.MemStats
	started, adapterStarted := false, false
	begin := func() {
		mu.Lock()
		defer mu.Unlock()
		runtime.ReadMemStats(&mem)
		start, started = cpuTime(), true
		adapterStart, adapterStarted = lockProcessCPU(w.lock)
	}
	var t *time.Timer
	if wait := time.Duration(from - monotime()); wait > 0 {
		t = time.AfterFunc(wait, begin)
	} else {
		begin()
	}
	return func() {
		if t != nil {
			t.Stop()
		}
		mu.Lock()
		defer mu.Unlock()
		if started {
			w.cpu = cpuTime() - start
			if end, ok := lockProcessCPU(w.lock); ok && adapterStarted {
				w.adapterCPU = end - adapterStart
			}
			var end runtime.MemStats
			runtime.ReadMemStats(&end)
			w.allocBytes, w.allocs, w.gcs = end.TotalAlloc-mem.TotalAlloc, end.Mallocs-mem.Mallocs, end.NumGC-mem.NumGC
		}
	}
}

// lockProcessCPU returns the CPU time used so far by the process of l's
// own, if it runs in one (an adapter); false if there is none, or if its
// time cannot be known.
func lockProcessCPU(l locker) (time.Duration, bool) {
	if a, ok := l.(*adapterLock); ok {
		return a.cpu()
	}
	return 0, false
}
