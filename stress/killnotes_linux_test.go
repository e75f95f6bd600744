//go:build linux

package stress

import (
	"os"
	"strings"
	"testing"
	"time"
)

// A host of a shared run that cannot note a kill for the other hosts, or
// not within noteBound (a hung filesystem), kills no holder (the one it
// stopped goes on once the note's bound has passed) and no more after,
// and its report says why: an ERROR, after a run of its set length.
func TestUnnotedKillIsNotMade(t *testing.T) {
	defer func(open func(string) (*os.File, error)) { openKillNotes = open }(openKillNotes)
	for _, tc := range []struct {
		name string
		open func(release <-chan struct{}) func(string) (*os.File, error)
		want string
		dur  time.Duration // the holder stays stopped for the note's bound, a second: the others wait
	}{
		{"fails", func(<-chan struct{}) func(string) (*os.File, error) {
			return func(string) (*os.File, error) { return nil, os.ErrPermission }
		}, "permission denied", time.Second},
		{"hangs", func(release <-chan struct{}) func(string) (*os.File, error) {
			return func(string) (*os.File, error) { <-release; return nil, os.ErrDeadlineExceeded }
		}, "not done within 1s", 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			openKillNotes = tc.open(release)
			rep := runDespiteAHang(t, release, Config{Dir: t.TempDir(), Join: true, RunID: "unnoted", Host: "a",
				Strategy: mustStrategy(t, "os"), Procs: 3, Duration: tc.dur, Hold: Fixed(200 * time.Microsecond), KillRate: 20})
			if rep.Faults.Kills != 0 || len(rep.Failures) != 1 || rep.Failures[0].Worker != "kills" ||
				!strings.Contains(rep.Failures[0].Reason, "noting a kill for the other hosts of the run") ||
				!strings.Contains(rep.Failures[0].Reason, tc.want) || rep.Verdict != VerdictError {
				t.Errorf("kills %d, failures %+v, verdict %s; want no kill, the note's failure alone (%q), ERROR", rep.Faults.Kills, rep.Failures, rep.Verdict, tc.want)
			}
			for _, w := range rep.Workers {
				if w.Incarnations != 1 || w.Acquisitions == 0 {
					t.Errorf("worker %+v: want it never killed, and going on", w)
				}
			}
		})
	}
}
