package clock

import (
	"slices"
	"sort"
	"sync"
	"time"
)

// Fake is a clock that moves only when Advance is called. Timers fire when
// the fake time reaches their deadline. It is safe for concurrent use.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	added  chan struct{}
	// running counts the AfterFunc functions called and not yet
	// returned; settled is signalled when it falls to 0.
	running int
	settled *sync.Cond
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake {
	f := &Fake{now: start, added: make(chan struct{}, 1)}
	f.settled = sync.NewCond(&f.mu)
	return f
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires when the fake time has advanced by d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, at: f.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- f.now
		return t
	}
	f.timers = append(f.timers, t)
	select {
	case f.added <- struct{}{}:
	default:
	}
	return t
}

// AfterFunc returns a timer that calls f in its own goroutine when the
// fake time has advanced by d.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, at: f.now.Add(d), fn: fn}
	if d <= 0 {
		f.call(fn)
		return t
	}
	f.timers = append(f.timers, t)
	select {
	case f.added <- struct{}{}:
	default:
	}
	return t
}

// Advance moves the fake time forward by d and fires every timer whose
// deadline has been reached, in deadline order.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	sort.Slice(f.timers, func(i, j int) bool { return f.timers[i].at.Before(f.timers[j].at) })
	kept := f.timers[:0]
	for _, t := range f.timers {
		if !t.at.After(f.now) {
			if t.fn != nil {
				f.call(t.fn)
			} else {
				t.c <- t.at
			}
			continue
		}
		kept = append(kept, t)
	}
	f.timers = kept
}

// call calls fn in its own goroutine, counted in f.running; f.mu is held.
func (f *Fake) call(fn func()) {
	f.running++
	go func() {
		defer func() {
			f.mu.Lock()
			if f.running--; f.running == 0 {
				f.settled.Broadcast()
			}
			f.mu.Unlock()
		}()
		fn()
	}()
}

// Settle waits until no function that an AfterFunc timer called is still
// running, so that a test sees what they did.
func (f *Fake) Settle() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.running > 0 {
		f.settled.Wait()
	}
}

// Pending returns the number of timers that have not fired or been stopped.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// Deadlines returns how long from the fake time each timer that has not
// fired or been stopped has to run, shortest first.
func (f *Fake) Deadlines() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := make([]time.Duration, len(f.timers))
	for i, t := range f.timers {
		d[i] = t.at.Sub(f.now)
	}
	slices.Sort(d)
	return d
}

// TimerAdded returns a channel that receives after a timer was created, so a
// test can wait until the code under test has started waiting.
func (f *Fake) TimerAdded() <-chan struct{} { return f.added }

type fakeTimer struct {
	f  *Fake
	at time.Time
	c  chan time.Time // nil for AfterFunc
	fn func()         // AfterFunc's function
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	for i, x := range t.f.timers {
		if x == t {
			t.f.timers = append(t.f.timers[:i], t.f.timers[i+1:]...)
			return true
		}
	}
	return false
}
