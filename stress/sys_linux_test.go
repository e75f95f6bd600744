//go:build linux

package stress

import (
	"testing"
)

// monotime is CLOCK_MONOTONIC, whichever way it reads it.
func TestMonotimeIsClockMonotonic(t *testing.T) {
	for range 100 {
		a := clockGettime()
		m := monotime()
		b := clockGettime()
		if m < a || m > b {
			t.Fatalf("monotime %d is not between clock_gettime readings %d and %d", m, a, b)
		}
	}
	if !vdsoClock {
		t.Log("the runtime's clock is not CLOCK_MONOTONIC here: monotime uses the system call")
	}
}

func TestProcessGone(t *testing.T) {
	if processGone(1) {
		t.Error("pid 1 is gone")
	}
	if !processGone(1 << 30) {
		t.Error("a pid that cannot exist is not gone")
	}
}
