package clock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFakeTimersFireInOrderOnlyWhenAdvanced(t *testing.T) {
	start := time.Unix(1000, 0)
	f := NewFake(start)
	a, b, c := f.NewTimer(10*time.Millisecond), f.NewTimer(5*time.Millisecond), f.NewTimer(time.Hour)
	receive(t, f.TimerAdded())
	require.Equal(t, 3, f.Pending())
	select {
	case <-a.C():
		t.Fatal("fired before the clock moved")
	default:
	}
	f.Advance(10 * time.Millisecond)
	require.Equal(t, start.Add(5*time.Millisecond), receive(t, b.C()))
	require.Equal(t, start.Add(10*time.Millisecond), receive(t, a.C()))
	require.Equal(t, start.Add(10*time.Millisecond), f.Now())
	require.True(t, c.Stop())
	require.False(t, c.Stop())
	require.Zero(t, f.Pending())
	f.Advance(2 * time.Hour)
	select {
	case <-c.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	receive(t, f.NewTimer(0).C()) // a zero timer fires at once
}

// receive returns what c delivers, failing the test if nothing comes
// within a minute: a broken fake fails its test rather than hanging the
// package.
func receive[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(time.Minute):
		t.Fatal("nothing received in a minute")
		panic("unreachable")
	}
}

func TestRealClock(t *testing.T) {
	var k Clock = Real{}
	require.WithinDuration(t, time.Now(), k.Now(), time.Minute)
	tm := k.NewTimer(time.Hour)
	require.True(t, tm.Stop())
}

func TestFakeAfterFunc(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	fired := make(chan struct{}, 2)
	t1 := f.AfterFunc(time.Second, func() { fired <- struct{}{} })
	t2 := f.AfterFunc(time.Second, func() { fired <- struct{}{} })
	if t1.C() != nil {
		t.Error("an AfterFunc timer has a channel")
	}
	if !t2.Stop() {
		t.Error("Stop of a pending timer reported false")
	}
	f.Advance(999 * time.Millisecond)
	select {
	case <-fired:
		t.Fatal("fired early")
	case <-time.After(10 * time.Millisecond):
	}
	f.Advance(time.Millisecond)
	receive(t, fired)
	select {
	case <-fired:
		t.Fatal("a stopped timer fired")
	case <-time.After(10 * time.Millisecond):
	}
	if f.Pending() != 0 {
		t.Errorf("%d timers pending", f.Pending())
	}
}

// TestFakeSettle: Settle returns once every function called so far has
// returned, and at once when none is running.
func TestFakeSettle(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	f.Settle()
	release, done := make(chan struct{}), make(chan struct{})
	ran := false
	f.AfterFunc(time.Second, func() { <-release; ran = true })
	f.Advance(time.Second)
	go func() { f.Settle(); close(done) }()
	select {
	case <-done:
		t.Fatal("settled while a function was running")
	case <-time.After(10 * time.Millisecond):
	}
	close(release)
	receive(t, done)
	require.True(t, ran)
}

// TestFakeDeadlines: Deadlines lists the timers still to fire, by the time
// each has left, shortest first; fired and stopped ones are not listed.
func TestFakeDeadlines(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	require.Empty(t, f.Deadlines())
	f.NewTimer(3 * time.Second)
	stopped := f.NewTimer(2 * time.Second)
	f.AfterFunc(time.Second, func() {})
	f.NewTimer(5 * time.Second)
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second}, f.Deadlines())
	stopped.Stop()
	f.Advance(1500 * time.Millisecond)
	f.Settle()
	require.Equal(t, []time.Duration{1500 * time.Millisecond, 3500 * time.Millisecond}, f.Deadlines())
}
