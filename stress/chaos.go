package stress

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/lockstress/lockstress/stress/detect"
)

// Fault injection picks a worker that holds the lock: one whose slot says
// phaseInside. It stops it with SIGSTOP, waits until the kernel reports it
// stopped, and checks again that it is inside; otherwise it resumes it and
// picks again. A stopped holder cannot move, so what the parent does next
// is exact: a kill takes the worker's share of the occupancy counter back
// and logs the acquisition it was in (with the time of the kill as its
// end) before sending SIGKILL; a stop resumes it after Config.Stop.
// Faults are injected one at a time.

const (
	// pickTimeout bounds the search for a holder.
	pickTimeout = 250 * time.Millisecond
	// stopTimeout bounds the wait for a stopped process to be reported
	// stopped.
	stopTimeout = time.Second
)

// chaos injects faults until ctx is done.
func (r *runner) chaos(ctx context.Context) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x6661756c7473)) // "faults"
	next := func(rate float64) time.Time {
		if rate <= 0 {
			return time.Time{}
		}
		return time.Now().Add(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
	}
	nextKill := next(r.cfg.KillRate)
	var nextStop time.Time
	if r.cfg.Stop > 0 {
		nextStop = next(r.cfg.StopRate)
	}
	for {
		kill := !nextKill.IsZero() && (nextStop.IsZero() || nextKill.Before(nextStop))
		at := nextStop
		if kill {
			at = nextKill
		}
		if at.IsZero() || !sleepUntil(ctx, at) {
			return
		}
		if kill {
			err := r.killHolder(ctx, rng)
			nextKill = next(r.cfg.KillRate)
			if err != nil {
				r.addChaosErr(fmt.Errorf("%w; no more kills", err))
				nextKill = time.Time{}
			}
		} else {
			r.stopHolder(ctx, rng)
			nextStop = next(r.cfg.StopRate)
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// pickHolder finds a worker inside the critical section and stops it.
func (r *runner) pickHolder(ctx context.Context, rng *rand.Rand) (*workerRun, *proc, bool) {
	give := time.Now().Add(pickTimeout)
	var inside []int
	for ctx.Err() == nil && time.Now().Before(give) {
		inside = inside[:0]
		for i := range r.reg.slots {
			if r.reg.slots[i].phase.Load() == phaseInside {
				inside = append(inside, i)
			}
		}
		if len(inside) == 0 {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		wr := r.workers[inside[rng.IntN(len(inside))]]
		p := wr.current()
		if p == nil || p.cmd == nil || p.exited() {
			continue
		}
		if p.cmd.Process.Signal(sigStop) != nil {
			continue
		}
		// Stopped in a write of the ledger, it may have left its record
		// half written in the mapped ledger, for the next holder to find
		// torn: let it finish.
		slot := &r.reg.slots[wr.id]
		if waitStopped(p) && slot.phase.Load() == phaseInside && slot.writing.Load() == 0 {
			return wr, p, true
		}
		_ = p.cmd.Process.Signal(sigCont)
	}
	return nil, nil, false
}

// waitStopped waits until the kernel reports p stopped.
func waitStopped(p *proc) bool {
	give := time.Now().Add(stopTimeout)
	for time.Now().Before(give) {
		state, err := processState(p.pid())
		if err != nil || p.exited() {
			return false
		}
		if state == 'T' || state == 't' {
			return true
		}
		time.Sleep(20 * time.Microsecond)
	}
	return false
}

// killHolder kills a holder and waits until some worker acquires the lock,
// or ctx is done. An error says that it could not note the kill for the
// other hosts of a shared run, and killed none.
func (r *runner) killHolder(ctx context.Context, rng *rand.Rand) error {
	wr, p, ok := r.pickHolder(ctx, rng)
	if !ok {
		return nil
	}
	hdr, slot := r.reg.hdr, &r.reg.slots[wr.id]
	entry := slot.entry(detect.FlagKilled)
	if err := r.beforeKill(&entry); err != nil {
		// Unlooked at, a violation could go unseen; unnoted, the other
		// hosts would take the takeover for one: no kill.
		_ = p.cmd.Process.Signal(sigCont)
		return err
	}
	r.reg.noteKilled(entry.Nonce)
	hdr.recoveredAt.Store(0)
	hdr.killPending.Store(1)
	if !r.cfg.DetectorsOff {
		hdr.occupancy.Add(-1)
	}
	slot.phase.Store(phaseOut)
	p.mu.Lock()
	p.killed = true
	entry.Released = monotime()
	p.killEntry = entry
	p.mu.Unlock()
	_ = p.cmd.Process.Kill()

	ev := KillEvent{Worker: p.name, AtNs: entry.Released - r.origin, Seq: entry.Seq, RecoveryNs: -1}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for ev.RecoveryNs < 0 {
		if at := hdr.recoveredAt.Load(); at != 0 {
			ev.RecoveryNs = at - entry.Released
			break
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	hdr.killPending.Store(0)
	if ev.RecoveryNs < 0 {
		ev.UnrecoveredNs = monotime() - entry.Released
	}
	r.mu.Lock()
	r.kills = append(r.kills, ev)
	r.mu.Unlock()
	return nil
}

// stopHolder stops a holder for Config.Stop (less if the run ends first).
func (r *runner) stopHolder(ctx context.Context, rng *rand.Rand) {
	_, p, ok := r.pickHolder(ctx, rng)
	if !ok {
		return
	}
	at := monotime()
	timer := time.NewTimer(r.cfg.Stop)
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
	timer.Stop()
	_ = p.cmd.Process.Signal(sigCont)
	r.mu.Lock()
	r.stops = append(r.stops, StopEvent{Worker: p.name, AtNs: at - r.origin, DurationNs: monotime() - at})
	r.mu.Unlock()
}
