package stress

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A host of a shared run reads the kills the other hosts noted, not its
// own, and a note being written (no newline yet) is left out; outside a
// shared run nothing is noted.
func TestKillNotes(t *testing.T) {
	runDir := t.TempDir()
	hostDir := func(name string) string {
		d := filepath.Join(runDir, "hosts", name)
		if err := os.MkdirAll(d, 0o777); err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b, c := hostDir("a-1-x"), hostDir("b-2-y"), hostDir("c-3-z")
	for host, nonces := range map[string][]uint64{a: {1, 2}, b: {0xfeedface00000001, 3}} {
		r := &runner{hostDir: host}
		for _, n := range nonces {
			if err := r.noteKill(n); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(c, killNotesName), []byte("0000000000000004\n00000000000"), 0o666); err != nil {
		t.Fatal(err)
	}
	got, unread := otherHostsKills(runDir, a)
	if len(unread) != 0 {
		t.Fatal(unread)
	}
	if len(got) != 3 || !got[0xfeedface00000001] || !got[3] || !got[4] {
		t.Errorf("host a read %v; want b's and c's whole notes: feedface00000001, 3 and 4", got)
	}
	if err := (&runner{}).noteKill(5); err != nil {
		t.Errorf("outside a shared run: %v", err)
	}

	// Damaged notes, and notes that are no file, are named, and the
	// others are read.
	if err := os.WriteFile(filepath.Join(c, killNotesName), []byte("not a nonce\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(hostDir("d-4-w"), killNotesName), 0o777); err != nil {
		t.Fatal(err)
	}
	got, unread = otherHostsKills(runDir, a)
	if len(unread) != 2 || !strings.Contains(strings.Join(unread, "\n"), "c-3-z/kills:1: not a nonce") || !strings.Contains(strings.Join(unread, "\n"), "d-4-w/kills: not a regular file") || !got[3] {
		t.Errorf("unread %q, read %v; want c's and d's notes named, b's read", unread, got)
	}
}

// A host of a shared run that cannot note a kill for the other hosts, or
// not within noteBound (a hung filesystem), kills no holder (the one it
// stopped goes on) and no more after, and its report says why: an ERROR,
// after a run of its set length.
func TestUnnotedKillIsNotMade(t *testing.T) {
	defer func(open func(string) (*os.File, error)) { openKillNotes = open }(openKillNotes)
	for _, tc := range []struct {
		name string
		open func(release <-chan struct{}) func(string) (*os.File, error)
		want string
	}{
		{"fails", func(<-chan struct{}) func(string) (*os.File, error) {
			return func(string) (*os.File, error) { return nil, os.ErrPermission }
		}, "permission denied"},
		{"hangs", func(release <-chan struct{}) func(string) (*os.File, error) {
			return func(string) (*os.File, error) { <-release; return nil, os.ErrDeadlineExceeded }
		}, "not written within " + noteBound.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			openKillNotes = tc.open(release)
			var rep *Report
			var err error
			done := make(chan struct{})
			go func() {
				defer close(done)
				rep, err = Run(context.Background(), Config{Dir: t.TempDir(), Join: true, RunID: "unnoted", Host: "a",
					Strategy: mustStrategy(t, "os"), Procs: 3, Duration: time.Second, Hold: Fixed(200 * time.Microsecond), KillRate: 20})
			}()
			select {
			case <-done:
				close(release)
			case <-time.After(time.Minute):
				close(release) // the notes return: the run ends
				<-done
				t.Fatal("a run of 1s still ran after a minute: it waited for its note")
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Faults.Kills != 0 || len(rep.Failures) != 1 || rep.Failures[0].Worker != "kill notes" ||
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
