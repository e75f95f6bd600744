package stress

import (
	"context"
	"fmt"
	"time"
)

// progress writes a progress line to Config.Progress once a second until
// the workers are done or ctx is done, then clears it.
func (r *runner) progress(ctx context.Context, done <-chan struct{}) {
	w := r.cfg.Progress
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	lastAt := r.origin
	for {
		select {
		case <-ctx.Done():
			fmt.Fprint(w, "\r\033[K")
			return
		case <-done:
			fmt.Fprint(w, "\r\033[K")
			return
		case <-tick.C:
		}
		now := monotime()
		acq, occupied, flagged := r.reg.totals()
		var rate float64
		if since := now - max(lastAt, r.from); since > 0 {
			rate = float64(acq-last) / time.Duration(since).Seconds()
		}
		last, lastAt = acq, now
		elapsed := time.Duration(now - r.origin).Round(time.Second)
		left := time.Duration(r.deadline - now).Round(time.Second)
		r.mu.Lock()
		kills := len(r.kills)
		r.mu.Unlock()
		line := fmt.Sprintf("%v elapsed, %v left: %d acquisitions, %.0f/s; violations so far: occupancy %d, ledger %d",
			elapsed, max(left, 0), acq, rate, occupied, flagged)
		if now < r.from {
			line = fmt.Sprintf("warm-up, %v left; violations so far: occupancy %d, ledger %d",
				time.Duration(r.from-now).Round(time.Second), occupied, flagged)
		}
		if kills > 0 {
			line += fmt.Sprintf("; %d kills", kills)
		}
		fmt.Fprint(w, "\r\033[K"+line)
	}
}
