package filelock

import (
	"context"
	"errors"
	"io/fs"
	"time"

	"github.com/lockstress/lockstress/internal/notify"
	"github.com/lockstress/lockstress/internal/proc"
)

// How a waiter in the fair queue waits for the ticket just ahead of its
// own: watched where it can be, polled where not.

// aliveRecheck is how often a waiter that watches the ticket of a live
// waiter on this host checks that it is still alive, and its ticket's age
// (a waiter or holder stopped for longer than the stale-after age). Its
// death is an event (the close of its ticket's descriptor), so the check
// is only a safety net. A variable for tests.
var aliveRecheck = 5 * time.Second

// aliveRecheckPolled replaces aliveRecheck where waiters keep no
// descriptor of their tickets open (see Lock.keepsOpen), so that a death
// raises no event.
const aliveRecheckPolled = 500 * time.Millisecond

// dyingRecheck and maxDyingRecheck bound the rechecks of a waiter ahead
// that still looks alive right after an event of its ticket: it may be
// exiting, its descriptors closed but its process not yet gone.
const (
	dyingRecheck    = time.Millisecond
	maxDyingRecheck = 64 * time.Millisecond
)

// turnWait is the waiting state of one awaitTurn.
type turnWait struct {
	q     *queue
	b     backoff
	w     *notify.Watcher
	watch bool // watch the ticket ahead, while watching works
	// woke is set when an event ended the last wait, or a recheck of a
	// dying waiter ahead; dying is the last such recheck.
	woke  bool
	dying time.Duration
}

func (tw *turnWait) close() {
	if tw.w != nil {
		tw.w.Close()
	}
}

// watchAhead watches the ticket ahead, if watching works here; it reports
// false if that ticket is gone.
func (tw *turnWait) watchAhead(ahead ticket) bool {
	if tw.watch && tw.w == nil {
		var err error
		if tw.w, err = notify.New(); err != nil {
			tw.w, tw.watch = nil, false
		}
	}
	if tw.w == nil {
		return true
	}
	err := tw.w.WatchWrites(ahead.path)
	if errors.Is(err, fs.ErrNotExist) && tw.q.gone(ahead) {
		return false
	}
	if err != nil {
		// Watching failed, or the path no longer leads to the ticket
		// that the open queue directory holds (the queue was moved
		// aside): poll from now on.
		tw.w.Close()
		tw.w, tw.watch = nil, false
	}
	return true
}

// waitAhead waits for the waiter ahead, judged to be in state with its
// ticket expiring in expiresIn (0: never), and reports whether an event
// ended the wait.
//
// Without a watch, it polls, at backoff steps. With one, the removal of
// the ticket ahead wakes this waiter, and so does its waiter's death on
// this host; the timer looks only for what raises no event here: a waiter
// ahead on another host that died (its ticket expires by age), and events
// lost.
// Right after an event, the waiter ahead may be dying but not yet dead (a
// process's descriptors are closed before it ends): recheck it soon, at
// growing steps, until a wait ends without an event. A ticket's expiry
// raises no event (its waiter or holder was stopped): the wait ends by
// then, polling or not.
func (tw *turnWait) waitAhead(ctx context.Context, state proc.State, expiresIn time.Duration) (bool, error) {
	cfg := &tw.q.l.cfg
	wait := tw.b.next(cfg.minWait, cfg.maxWait)
	var woken <-chan struct{}
	if tw.w != nil {
		woken = tw.w.C()
		switch {
		case state != proc.Alive:
			wait = cfg.maxWait
		case tw.woke:
			tw.dying = min(max(2*tw.dying, dyingRecheck), maxDyingRecheck)
			wait = tw.dying
		case tw.q.l.keepsOpen():
			wait = aliveRecheck
		default:
			// Its death raises no event here (it keeps no descriptor of
			// its ticket open on this filesystem).
			wait = aliveRecheckPolled
		}
	}
	if expiresIn > 0 {
		wait = min(wait, max(expiresIn, judgeEvery))
	}
	err := tw.sleep(ctx, wait, woken)
	if errors.Is(err, errWoken) {
		tw.woke = true
		return true, nil
	}
	if err == nil {
		// The rechecks of a dying waiter go on up to the longest.
		if tw.woke = tw.dying > 0 && tw.dying < maxDyingRecheck; !tw.woke {
			tw.dying = 0
		}
	}
	return false, err
}

// errWoken is sleep's report of an event.
var errWoken = errors.New("woken")

// sleep waits for d to pass, ctx to be done (its error), or woken to
// receive (errWoken).
func (tw *turnWait) sleep(ctx context.Context, d time.Duration, woken <-chan struct{}) error {
	t := tw.q.l.cfg.clock.NewTimer(d)
	select {
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	case <-t.C():
		return nil
	case <-woken:
		t.Stop()
		return errWoken
	}
}
