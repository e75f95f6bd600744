package main

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// errRegressSpec marks a -max-regress value that cannot be parsed.
var errRegressSpec = errors.New("bad -max-regress")

// regressLimits are the regressions -max-regress allows, as fractions: one
// for every figure, and some for figures named on their own.
// The zero value has no limits.
type regressLimits struct {
	spec   string
	all    float64 // for the figures not named, if hasAll
	hasAll bool
	byName map[string]float64
}

// String returns the limits as they were given.
func (l *regressLimits) String() string { return l.spec }

// Set parses "10%" (every figure), "p99=10%,throughput=5%" (those named)
// or both ("10%,max=50%"); the % sign may be left out.
func (l *regressLimits) Set(spec string) error {
	*l = regressLimits{spec: spec, byName: map[string]float64{}}
	for item := range strings.SplitSeq(spec, ",") {
		name, pct, named := strings.Cut(strings.TrimSpace(item), "=")
		if !named {
			name, pct = "", name
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(pct), "%"), 64)
		switch {
		case err != nil || v < 0 || math.IsInf(v, 0):
			return fmt.Errorf("%w %q: %q is not a percentage (want e.g. 10%% or p99=10%%,throughput=5%%)", errRegressSpec, spec, pct)
		case !named && l.hasAll:
			return fmt.Errorf("%w %q: two limits for every figure", errRegressSpec, spec)
		case !named:
			l.all, l.hasAll = v/100, true
		case !slices.Contains(gatedNames(), name):
			return fmt.Errorf("%w %q: no figure %q (want one of %s)", errRegressSpec, spec, name, strings.Join(gatedNames(), ", "))
		case hasKey(l.byName, name):
			return fmt.Errorf("%w %q: two limits for %s", errRegressSpec, spec, name)
		default:
			l.byName[name] = v / 100
		}
	}
	return nil
}

func hasKey(m map[string]float64, k string) bool { _, ok := m[k]; return ok }

// limit returns the allowed regression of a figure, if there is one.
func (l *regressLimits) limit(name string) (float64, bool) {
	if v, ok := l.byName[name]; ok {
		return v, true
	}
	return l.all, l.hasAll && slices.Contains(gatedNames(), name)
}

// verdict is what -max-regress found over the rows of one comparison.
type verdict struct {
	// regressed lists the figures that regressed significantly beyond
	// their limits; unjudged those with a limit that the reports cannot
	// decide, with the reason.
	regressed, unjudged []string
}

// judge judges the rows of one comparison against the limits.
func (v *verdict) judge(title string, rows []row, l *regressLimits, alpha float64) {
	var reasons []string
	byReason := map[string][]string{}
	unjudged := func(name, reason string) {
		if _, ok := byReason[reason]; !ok {
			reasons = append(reasons, reason)
		}
		byReason[reason] = append(byReason[reason], name)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.fig.name] = true
		lim, ok := l.limit(r.fig.name)
		switch {
		case !ok:
		case !r.canShow(alpha):
			unjudged(r.fig.name, r.why(alpha))
		case r.significant(alpha) && r.worse() && math.Abs(r.delta) > lim:
			v.regressed = append(v.regressed, fmt.Sprintf("%s %s %s (limit %g%%, %s)", title, r.fig.name, percent(r.delta), 100*lim, r.stat()))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(l.byName)) {
		if !seen[name] {
			unjudged(name, "not in the reports of both sides")
		}
	}
	for _, reason := range reasons {
		v.unjudged = append(v.unjudged, fmt.Sprintf("%s %s: %s", title, strings.Join(byReason[reason], ", "), reason))
	}
}
