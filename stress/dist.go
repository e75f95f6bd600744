package stress

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"
)

// Dist is a distribution of durations: a fixed duration, a uniform
// distribution between two bounds, or an exponential distribution with a
// given mean. The zero Dist is always 0.
type Dist struct {
	kind distKind
	a, b time.Duration // fixed: a; uniform: [a, b]; exp: mean a
}

type distKind int

const (
	distFixed distKind = iota
	distUniform
	distExp
)

// Fixed returns the distribution that is always d.
func Fixed(d time.Duration) Dist { return Dist{kind: distFixed, a: d} }

// Uniform returns the uniform distribution on [lo, hi].
func Uniform(lo, hi time.Duration) Dist { return Dist{kind: distUniform, a: lo, b: hi} }

// Exp returns the exponential distribution with the given mean.
func Exp(mean time.Duration) Dist { return Dist{kind: distExp, a: mean} }

// ParseDist parses a distribution: a duration ("1ms", "0"), "uniform:LO-HI"
// ("uniform:0-2ms"; a bound without a unit takes the other's) or
// "exp:MEAN" ("exp:1ms"). Durations must not be negative.
func ParseDist(s string) (Dist, error) {
	kind, arg, found := strings.Cut(s, ":")
	if !found {
		d, err := parseNonNegative(s)
		if err != nil {
			return Dist{}, distError(s, err)
		}
		return Fixed(d), nil
	}
	switch kind {
	case "uniform":
		lo, hi, ok := strings.Cut(arg, "-")
		if !ok {
			return Dist{}, distError(s, fmt.Errorf("want uniform:LO-HI"))
		}
		lo, hi = withUnit(lo, hi), withUnit(hi, lo)
		a, err := parseNonNegative(lo)
		if err != nil {
			return Dist{}, distError(s, err)
		}
		b, err := parseNonNegative(hi)
		if err != nil {
			return Dist{}, distError(s, err)
		}
		if a > b {
			return Dist{}, distError(s, fmt.Errorf("lower bound %v is above upper bound %v", a, b))
		}
		return Uniform(a, b), nil
	case "exp":
		m, err := parseNonNegative(arg)
		if err != nil {
			return Dist{}, distError(s, err)
		}
		return Exp(m), nil
	}
	return Dist{}, distError(s, fmt.Errorf("unknown distribution %q", kind))
}

func distError(s string, err error) error {
	return fmt.Errorf("bad duration or distribution %q: %w (want e.g. 1ms, uniform:0-2ms or exp:1ms)", s, err)
}

func parseNonNegative(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %v", d)
	}
	return d, nil
}

// withUnit gives s the unit of other when s is a bare non-zero number.
func withUnit(s, other string) string {
	if s == "" || s == "0" || strings.IndexFunc(s, unicode.IsLetter) >= 0 {
		return s
	}
	i := strings.IndexFunc(other, unicode.IsLetter)
	if i < 0 {
		return s
	}
	return s + other[i:]
}

// String returns the distribution in the form ParseDist accepts.
func (d Dist) String() string {
	switch d.kind {
	case distUniform:
		return fmt.Sprintf("uniform:%v-%v", d.a, d.b)
	case distExp:
		return fmt.Sprintf("exp:%v", d.a)
	}
	return d.a.String()
}

// Mean returns the distribution's mean.
func (d Dist) Mean() time.Duration {
	if d.kind == distUniform {
		return (d.a + d.b) / 2
	}
	return d.a
}

// IsZero reports whether the distribution is always 0.
func (d Dist) IsZero() bool { return d.a == 0 && d.b == 0 }

// Sample draws one duration.
func (d Dist) Sample(r *rand.Rand) time.Duration {
	switch d.kind {
	case distUniform:
		return d.a + time.Duration(r.Int64N(int64(d.b-d.a)+1))
	case distExp:
		return time.Duration(r.ExpFloat64() * float64(d.a))
	}
	return d.a
}

// Set parses s into d; with String it makes *Dist a flag.Value.
func (d *Dist) Set(s string) error {
	v, err := ParseDist(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText encodes the distribution as String does.
func (d Dist) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes a distribution as ParseDist does.
func (d *Dist) UnmarshalText(b []byte) error { return d.Set(string(b)) }
