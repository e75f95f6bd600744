package filelock

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockstress/lockstress/internal/clock"
)

// The documented defaults and limits, read from the documents' own words
// and compared with the code: a change to either side alone fails here.

// docText returns a document of the repository with every run of white
// space made one space, so that a sentence matches across line breaks.
func docText(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

var proseNumber = regexp.MustCompile(`^(\d+|a|once a)\s*(ms|s|min|minutes?|minute)?$`)

// proseDuration reads a duration as the documents write it ("5 minutes",
// "100 ms", "10 s", "a minute", "once a minute"), or a bare number ("40",
// "third", "half") as a plain count. unit is the unit of a bare number
// that stands for a duration ("" for a count).
func proseDuration(t *testing.T, s, unit string) time.Duration {
	t.Helper()
	switch s {
	case "half":
		return 2
	case "third":
		return 3
	}
	m := proseNumber.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("cannot read %q as a duration", s)
	}
	n := int64(1)
	if m[1] != "a" && m[1] != "once a" {
		var err error
		if n, err = strconv.ParseInt(m[1], 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	u := m[2]
	if u == "" {
		u = unit
	}
	switch u {
	case "":
		return time.Duration(n)
	case "ms":
		return time.Duration(n) * time.Millisecond
	case "s":
		return time.Duration(n) * time.Second
	case "min", "minute", "minutes":
		return time.Duration(n) * time.Minute
	}
	t.Fatalf("unknown unit in %q", s)
	return 0
}

// heartbeatDivisor is n in "the heartbeat is every StaleAfter/n by
// default", as the configuration computes it.
func heartbeatDivisor(staleAfter time.Duration) time.Duration {
	c := config{staleAfter: staleAfter}
	return staleAfter / c.heartbeatEvery()
}

// longestHeartbeatDivisor is n in "WithHeartbeat accepts at most
// StaleAfter/n": the heartbeat StaleAfter/n is accepted, one nanosecond
// more is not. 0 if no n from 1 to 10 fits.
func longestHeartbeatDivisor(t *testing.T, staleAfter time.Duration) time.Duration {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lock")
	accepted := func(hb time.Duration) bool {
		_, err := New(path, WithStaleAfter(staleAfter), WithHeartbeat(hb))
		if err != nil && !errors.Is(err, ErrInvalidOption) {
			t.Fatal(err)
		}
		return err == nil
	}
	for n := time.Duration(1); n <= 10; n++ {
		if accepted(staleAfter/n) && !accepted(staleAfter/n+1) {
			return n
		}
	}
	return 0
}

// youngDivisor is n in "release takes no guard when the lock was refreshed
// less than StaleAfter/n ago": refreshed just less than that ago it is
// young, exactly that ago it is not. 0 if no n from 1 to 10 fits.
func youngDivisor(staleAfter time.Duration) time.Duration {
	clk := clock.NewFake(time.Unix(1_000_000, 0))
	h := &fileHeld{l: &Lock{cfg: config{staleAfter: staleAfter, clock: clk}}}
	youngAt := func(ago time.Duration) bool {
		h.refreshed = clk.Now().Add(-ago)
		return h.young()
	}
	for n := time.Duration(1); n <= 10; n++ {
		if youngAt(staleAfter/n-1) && !youngAt(staleAfter/n) {
			return n
		}
	}
	return 0
}

// A lock refreshed at this very instant is young; one refreshed after
// it (a clock stepped back since) is not, and so is released under the
// guard.
func TestYoungFromItsRefresh(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_000_000, 0))
	h := &fileHeld{l: &Lock{cfg: config{staleAfter: DefaultStaleAfter, clock: clk}}}
	for _, tc := range []struct {
		ago  time.Duration
		want bool
	}{
		{0, true},
		{time.Nanosecond, true},
		{-time.Nanosecond, false},
		{-time.Minute, false},
	} {
		h.refreshed = clk.Now().Add(-tc.ago)
		if got := h.young(); got != tc.want {
			t.Errorf("refreshed %v ago: young %v, want %v", tc.ago, got, tc.want)
		}
	}
}

// shown prints a duration, or a count as a plain number.
func shown(d time.Duration) string {
	if d < time.Microsecond {
		return strconv.FormatInt(int64(d), 10)
	}
	return d.String()
}

func TestDocumentedDefaults(t *testing.T) {
	// A lock made without options has the documented defaults.
	l, err := New(filepath.Join(t.TempDir(), "lock"))
	if err != nil {
		t.Fatal(err)
	}
	if l.cfg.staleAfter != DefaultStaleAfter || l.cfg.minWait != DefaultMinWait || l.cfg.maxWait != DefaultMaxWait || l.cfg.perm != DefaultPerm || l.cfg.strategy != Soft {
		t.Errorf("New without options: stale-after %v, backoff %v → %v, perm %v, strategy %v; want %v, %v → %v, %v, soft",
			l.cfg.staleAfter, l.cfg.minWait, l.cfg.maxWait, l.cfg.perm, l.cfg.strategy, DefaultStaleAfter, DefaultMinWait, DefaultMaxWait, DefaultPerm)
	}

	for _, tc := range []struct {
		name    string
		doc     string
		pattern string // each group a duration or a count, as the document writes it
		unit    string // of a group written without one
		code    func(t *testing.T) []time.Duration
	}{
		{"stale-after default (design)", "docs/design.md", "`StaleAfter` \\(default (\\d+ minutes);", "",
			func(*testing.T) []time.Duration { return []time.Duration{DefaultStaleAfter} }},
		{"stale-after default (README)", "README.md", "`WithStaleAfter` \\(default (\\d+ min);", "",
			func(*testing.T) []time.Duration { return []time.Duration{DefaultStaleAfter} }},
		{"stale-after of foreign lock files (README)", "README.md", "unchanged for the stale-after age \\((\\d+ min);", "",
			func(*testing.T) []time.Duration { return []time.Duration{DefaultStaleAfter} }},
		{"backoff default (README)", "README.md", "`WithBackoff\\(min, max\\)` \\(default (\\d+ ms) → (\\d+ ms)\\)", "",
			func(*testing.T) []time.Duration { return []time.Duration{DefaultMinWait, DefaultMaxWait} }},
		{"heartbeat default (README)", "README.md", "`WithHeartbeat` \\(default a (third) of the stale-after age\\)", "",
			func(*testing.T) []time.Duration {
				return []time.Duration{heartbeatDivisor(DefaultStaleAfter), heartbeatDivisor(7 * time.Second)}
			}},
		{"heartbeat default (design)", "docs/design.md", "every `StaleAfter/(\\d)` by default", "",
			func(*testing.T) []time.Duration { return []time.Duration{heartbeatDivisor(DefaultStaleAfter)} }},
		{"longest heartbeat", "docs/design.md", "\\(`WithHeartbeat`, at most `StaleAfter/(\\d)`\\)", "",
			func(t *testing.T) []time.Duration { return []time.Duration{longestHeartbeatDivisor(t, 6*time.Second)} }},
		{"release without the guard", "docs/design.md", "unless the lock was made or refreshed less than `StaleAfter/(\\d)` ago", "",
			func(*testing.T) []time.Duration {
				return []time.Duration{youngDivisor(DefaultStaleAfter), youngDivisor(6 * time.Second)}
			}},
		{"judging interval", "docs/design.md", "judges it \\(at most every (\\d+ ms)\\)", "",
			func(*testing.T) []time.Duration { return []time.Duration{judgeEvery} }},
		{"judging interval (waiting)", "docs/design.md", "once the judging interval \\((\\d+ ms)\\)", "",
			func(*testing.T) []time.Duration { return []time.Duration{judgeEvery} }},
		{"probe reuse", "docs/design.md", "a probe is reused for (\\d+ s)\\)", "",
			func(*testing.T) []time.Duration { return []time.Duration{probeEvery} }},
		{"coarse timestamps", "docs/design.md", "(\\d+ s) are added to every limit", "",
			func(*testing.T) []time.Duration { return []time.Duration{coarseSlack} }},
		{"debris age (protocol)", "docs/design.md", "moved-aside files\\) older than (a minute)", "",
			func(*testing.T) []time.Duration { return []time.Duration{debrisAge} }},
		{"debris age (left behind)", "docs/design.md", "the next break removes those older than (a minute)", "",
			func(*testing.T) []time.Duration { return []time.Duration{debrisAge} }},
		{"slow poll of a watching waiter", "docs/design.md", "polls only every (\\d+) × the longest backoff wait \\((\\d+ s) by default\\)", "",
			func(*testing.T) []time.Duration {
				return []time.Duration{trustedPollFactor, trustedPollFactor * DefaultMaxWait}
			}},
		{"backoff of a waiter that lost a race (os)", "docs/design.md", "An os or ofd waiter keeps its backoff \\(up to (\\d+) × the longest wait", "",
			func(*testing.T) []time.Duration { return []time.Duration{lostRaceFactor} }},
		{"backoff of a waiter that lost a race (herd)", "docs/design.md", "backoff grows up to (\\d+) × the longest wait instead of 1 ×", "",
			func(*testing.T) []time.Duration { return []time.Duration{lostRaceFactor} }},
		{"grace of an empty ticket", "docs/design.md", "writing it\\) when it is more than (\\d+ s) before", "",
			func(*testing.T) []time.Duration { return []time.Duration{emptyTicketGrace} }},
		{"record grace of a ticket", "docs/design.md", "`RecordGrace` \\((\\d+ s)\\)", "",
			func(*testing.T) []time.Duration { return []time.Duration{RecordGrace} }},
		{"ticket refresh", "docs/design.md", "every waiter touches its ticket (once a minute)", "",
			func(*testing.T) []time.Duration { return []time.Duration{ticketRefresh} }},
		{"ticket refresh, short stale-after ages", "docs/design.md", "once a minute, or every (third) of the stale-after age if that is shorter", "",
			func(t *testing.T) []time.Duration {
				// A minute's third is shorter than a minute.
				l := newLock(t, filepath.Join(t.TempDir(), "lock"), WithStaleAfter(time.Minute))
				return []time.Duration{time.Minute / newQueue(l).refreshEvery()}
			}},
		{"rechecks of a dying waiter ahead", "docs/design.md", "rechecked after (\\d+), 2, 4 … (\\d+) ms", "ms",
			func(*testing.T) []time.Duration { return []time.Duration{dyingRecheck, maxDyingRecheck} }},
		{"recheck of a live waiter ahead", "docs/design.md", "otherwise rechecked only every (\\d+ s), as a safety net", "",
			func(*testing.T) []time.Duration { return []time.Duration{aliveRecheck} }},
		{"watch of a lock stale by age alone", "docs/design.md", "only after three fifths of the age \\((\\d+ minutes) by default\\)", "",
			func(*testing.T) []time.Duration { return []time.Duration{watchNeed(DefaultStaleAfter)} }},
		{"look again at a record's live process (os)", "docs/design.md", "looks alive is looked at again for up to (\\d+ ms)", "",
			func(*testing.T) []time.Duration { return []time.Duration{dyingRecheckTotal} }},
		{"recheck of a live waiter ahead, polled", "docs/design.md", "rechecks it every (\\d+ ms) instead of every (\\d+ s)", "",
			func(*testing.T) []time.Duration { return []time.Duration{aliveRecheckPolled, aliveRecheck} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := regexp.MustCompile(tc.pattern).FindStringSubmatch(docText(t, tc.doc))
			if m == nil {
				t.Fatalf("%s no longer says %q: the test must follow the document", tc.doc, tc.pattern)
			}
			code := tc.code(t)
			for i, s := range m[1:] {
				doc := proseDuration(t, s, tc.unit)
				for j, c := range code {
					if j%len(m[1:]) == i && c != doc {
						t.Errorf("%s says %q (%s); the code has %s", tc.doc, s, shown(doc), shown(c))
					}
				}
			}
		})
	}
}
