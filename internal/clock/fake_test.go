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
	<-f.TimerAdded()
	require.Equal(t, 3, f.Pending())
	select {
	case <-a.C():
		t.Fatal("fired before the clock moved")
	default:
	}
	f.Advance(10 * time.Millisecond)
	require.Equal(t, start.Add(5*time.Millisecond), <-b.C())
	require.Equal(t, start.Add(10*time.Millisecond), <-a.C())
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
	<-f.NewTimer(0).C() // a zero timer fires at once
}

func TestRealClock(t *testing.T) {
	var k Clock = Real{}
	require.WithinDuration(t, time.Now(), k.Now(), time.Minute)
	tm := k.NewTimer(time.Hour)
	require.True(t, tm.Stop())
}
