//go:build linux

package stress

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members []string
		err     string
	}{
		{name: "soft,exec:adapters/pylock.py softfilelock", members: []string{"soft", "exec:adapters/pylock.py softfilelock"}},
		{name: "os,exec:adapters/flock.sh,ofd", members: []string{"os", "exec:adapters/flock.sh", "ofd"}},
		{name: "exec:sh -c 'a,b',link", members: []string{"exec:sh -c 'a,b'", "link"}},
		{name: "exec:x,y", members: []string{"exec:x,y"}},
		{name: "soft,none", err: "broken on purpose"},
		{name: "soft,", err: "unknown strategy"},
		{name: "soft,bogus", err: "unknown strategy"},
	} {
		s, err := ParseStrategy(tc.name)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseStrategy(%q) = %v, %v; want an error saying %q", tc.name, s, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseStrategy(%q): %v", tc.name, err)
			continue
		}
		var got []string
		for _, m := range s.Members() {
			got = append(got, m.String())
		}
		if strings.Join(got, "|") != strings.Join(tc.members, "|") || s.String() != tc.name {
			t.Errorf("ParseStrategy(%q) = %q with members %q; want members %q", tc.name, s, got, tc.members)
		}
		b, err := json.Marshal(s)
		var back Strategy
		if err == nil {
			err = json.Unmarshal(b, &back)
		}
		if err != nil || back != s {
			t.Errorf("JSON round trip of %q: %+v, %v", tc.name, back, err)
		}
	}
}

func TestMixMembersByWorker(t *testing.T) {
	s, err := ParseStrategy("soft,os,ofd")
	if err != nil {
		t.Fatal(err)
	}
	for w, want := range []string{"soft", "os", "ofd", "soft", "os"} {
		if got := s.member(w).String(); got != want {
			t.Errorf("worker %d runs %s, want %s", w, got, want)
		}
	}
	if s.waitsInKernel() {
		t.Error("a mix with soft waits in the kernel")
	}
	if k, _ := ParseStrategy("os,ofd"); !k.waitsInKernel() {
		t.Error("a mix of os and ofd does not wait in the kernel")
	}
}

func TestMixWarnings(t *testing.T) {
	for name, want := range map[string]int{
		"soft,exec:adapters/pylock.py softfilelock": 0,
		"link,exec:adapters/pylock.py flufl":        0,
		"os,exec:adapters/flock.sh":                 0,
		"ofd,exec:adapters/flock.sh":                1,
		"soft,exec:adapters/pylock.py filelock":     1,
		"soft,os,ofd":                               3,
		"soft,exec:./my-lock":                       0, // unknown: no claim either way
	} {
		s, err := ParseStrategy(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Warnings(); len(got) != want {
			t.Errorf("%s: warnings %q, want %d", name, got, want)
		}
	}
}

// A mixed population of locks that exclude each other passes; one of
// locks that do not (ofd beside flock(1)) is caught by the detectors.
func TestMixedPopulations(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		need     string
		pass     bool
	}{
		{"soft,exec:../adapters/pylock.py softfilelock", "py:filelock", true},
		{"os,exec:../adapters/flock.sh", "flock", true},
		{"ofd,exec:../adapters/flock.sh", "flock", false},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			if mod, ok := strings.CutPrefix(tc.need, "py:"); ok {
				if err := exec.Command("/usr/bin/python3", "-I", "-c", "import "+mod).Run(); err != nil {
					t.Fatalf("python module %s missing: run scripts/setup-deps, which installs it: %v", mod, err)
				}
			} else if _, err := exec.LookPath(tc.need); err != nil {
				t.Fatalf("%s missing: run scripts/setup-deps, which installs it", tc.need)
			}
			s, err := ParseStrategy(tc.strategy)
			if err != nil {
				t.Fatal(err)
			}
			rep := runStress(t, Config{Strategy: s, Procs: 4, Duration: 2 * time.Second, Hold: Fixed(time.Millisecond)})
			if len(rep.Failures) > 0 {
				t.Fatalf("failures: %+v", rep.Failures)
			}
			if tc.pass && (rep.Violations != 0 || rep.Verdict != VerdictPass) {
				t.Errorf("%d violations, verdict %s; want none, PASS", rep.Violations, rep.Verdict)
			}
			if !tc.pass && (rep.Violations == 0 || rep.Verdict != VerdictFail) {
				t.Errorf("%d violations in %d acquisitions, verdict %s; want some, FAIL", rep.Violations, rep.Acquisitions, rep.Verdict)
			}
			checkMembers(t, rep, s)
		})
	}
}

// checkMembers checks that the members' shares of a mixed population's
// report add up to the report's: its workers taken in turn, their
// acquisitions and latency samples.
func checkMembers(t *testing.T, rep *Report, s Strategy) {
	t.Helper()
	members := s.Members()
	if len(rep.Members) != len(members) {
		t.Fatalf("%d members in the report, want %d", len(rep.Members), len(members))
	}
	var workers int
	var acquisitions, samples int64
	for i, m := range rep.Members {
		if m.Strategy != members[i].String() || m.Workers != rep.Config.Procs/len(members) {
			t.Errorf("member %d: %s with %d workers, want %s with %d", i, m.Strategy, m.Workers, members[i], rep.Config.Procs/len(members))
		}
		workers += m.Workers
		acquisitions += m.Acquisitions
		samples += m.AcquireLatency.Count
	}
	if workers != len(rep.Workers) || acquisitions != rep.Acquisitions || samples != rep.AcquireLatency.Count {
		t.Errorf("members add up to %d workers, %d acquisitions, %d latency samples; the report has %d, %d, %d",
			workers, acquisitions, samples, len(rep.Workers), rep.Acquisitions, rep.AcquireLatency.Count)
	}
}
