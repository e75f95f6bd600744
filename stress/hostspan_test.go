package stress

import (
	"testing"
	"time"
)

func TestCoveredLength(t *testing.T) {
	at := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	span := func(from, to time.Duration) interval { return interval{at.Add(from), at.Add(to)} }
	s := time.Second
	for _, tc := range []struct {
		name  string
		spans []interval
		want  time.Duration
	}{
		{"none", nil, 0},
		{"one host", []interval{span(0, 10*s)}, 10 * s},
		{"side by side", []interval{span(0, 10*s), span(s, 11*s)}, 11 * s},
		{"one after another", []interval{span(20*s, 30*s), span(0, 10*s)}, 20 * s},
		{"one within another", []interval{span(0, 10*s), span(2*s, 5*s), span(3*s, 4*s)}, 10 * s},
		{"chained", []interval{span(0, 4*s), span(3*s, 8*s), span(7*s, 12*s)}, 12 * s},
		// Hosts' clocks a day apart: the run lasted no longer than the
		// hosts' times together.
		{"clocks apart", []interval{span(0, 10*s), span(24*time.Hour, 24*time.Hour+5*s)}, 15 * s},
		// A clock that went back: a run no shorter than its longest host.
		{"inverted", []interval{span(0, 10*s), span(3*s, s)}, 10 * s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := coveredLength(tc.spans); got != tc.want {
				t.Errorf("coveredLength = %v, want %v", got, tc.want)
			}
		})
	}
}
