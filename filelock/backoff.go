package filelock

// The backoff between attempts of a blocking acquisition (WithBackoff).

import (
	"math/rand/v2"
	"time"
)

// backoff yields the waits between attempts: exponential from min to max,
// each drawn from the upper half of the current step.
type backoff struct{ step time.Duration }

func (b *backoff) next(min, max time.Duration) time.Duration {
	if b.step < min {
		b.step = min
	}
	d := b.step/2 + rand.N(b.step/2+1)
	if d < min {
		d = min
	}
	b.step *= 2
	if b.step > max {
		b.step = max
	}
	return d
}
