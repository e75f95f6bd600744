package stress

import (
	"fmt"
	"strings"
)

// A mixed population runs several locks on one lock path at once, the
// workers taken by the members in turn: "-strategy soft,exec:adapters/pylock.py
// softfilelock" runs half the workers with filelock's soft lock and half
// with Python's SoftFileLock. The detectors see every worker alike, so a
// violation means the members do not exclude each other. Its name is the
// members' names joined by mixSep.

// mixSep separates the members of a mixed population in a strategy name.
const mixSep = ","

// Mix returns the Strategy whose workers run members in turn: worker i
// runs members[i % len(members)]. It needs at least two members, none of
// them broken or itself a mix.
func Mix(members ...Strategy) (Strategy, error) {
	if len(members) < 2 {
		return Strategy{}, fmt.Errorf("a mixed population needs at least two strategies, got %d", len(members))
	}
	names := make([]string, len(members))
	for i, m := range members {
		switch {
		case m.IsZero():
			return Strategy{}, fmt.Errorf("member %d of the mixed population has no strategy", i+1)
		case m.broken:
			return Strategy{}, fmt.Errorf("strategy %s is broken on purpose and cannot be part of a mixed population", m)
		case m.mixed:
			return Strategy{}, fmt.Errorf("strategy %s is itself a mixed population", m)
		}
		names[i] = m.name
	}
	return Strategy{name: strings.Join(names, mixSep), mixed: true}, nil
}

// Members returns the strategies of a mixed population in order, and s
// alone for any other strategy.
func (s Strategy) Members() []Strategy {
	if !s.mixed {
		return []Strategy{s}
	}
	members, _ := splitMix(s.name)
	return members
}

// member returns the strategy worker runs.
func (s Strategy) member(worker int) Strategy {
	members := s.Members()
	return members[worker%len(members)]
}

// splitMix parses the members of a mixed population's name. A comma
// inside an adapter's command stays part of it: a piece that names no
// strategy continues the exec: member before it.
func splitMix(name string) ([]Strategy, error) {
	var parts []string
	for _, p := range strings.Split(name, mixSep) {
		if n := len(parts); n > 0 && strings.HasPrefix(parts[n-1], execPrefix) {
			if _, err := parseSingle(p); err != nil && !strings.HasPrefix(p, execPrefix) {
				parts[n-1] += mixSep + p
				continue
			}
		}
		parts = append(parts, p)
	}
	members := make([]Strategy, len(parts))
	for i, p := range parts {
		s, err := parseSingle(p)
		if err != nil {
			return nil, err
		}
		members[i] = s
	}
	return members, nil
}

// parseMix returns the mixed population that name describes.
func parseMix(name string) (Strategy, error) {
	members, err := splitMix(name)
	if err != nil {
		return Strategy{}, err
	}
	if len(members) == 1 {
		return members[0], nil // an adapter whose command holds a comma
	}
	return Mix(members...)
}

// lockFamily names the kind of lock a strategy takes on Linux, as far as
// it is known: locks of one family exclude each other, locks of two
// families do not. "" is unknown.
func (s Strategy) lockFamily() string {
	if s.adapter == "" {
		switch s.lock.String() {
		case "soft", "link":
			return "a lock file made exclusively"
		case "os":
			return "flock(2)"
		case "ofd":
			return "fcntl(2) record locks"
		}
		return ""
	}
	f := strings.Fields(s.adapter)
	switch {
	case len(f) > 0 && strings.HasSuffix(f[0], "flock.sh"):
		return "flock(2)"
	case len(f) > 1 && strings.HasSuffix(f[0], "pylock.py") && f[1] == "filelock":
		return "flock(2)"
	case len(f) > 1 && strings.HasSuffix(f[0], "pylock.py") && (f[1] == "softfilelock" || f[1] == "flufl"):
		return "a lock file made exclusively"
	}
	return ""
}

// Warnings says which members of a mixed population are known not to
// exclude each other on Linux, one sentence each; nil when none are, or s
// is not a mix.
func (s Strategy) Warnings() []string {
	members := s.Members()
	var out []string
	for i, a := range members {
		for _, b := range members[i+1:] {
			fa, fb := a.lockFamily(), b.lockFamily()
			if fa != "" && fb != "" && fa != fb {
				out = append(out, fmt.Sprintf("%s (%s) and %s (%s) do not exclude each other: expect violations", a, fa, b, fb))
			}
		}
	}
	return out
}
