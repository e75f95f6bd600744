//go:build unix

package stress

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
	if err := syscall.Mkfifo(filepath.Join(hostDir("e-5-v"), killNotesName), 0o666); err != nil {
		t.Fatal(err)
	}
	got, unread = otherHostsKills(runDir, a) // a FIFO opened would wait here
	all := strings.Join(unread, "\n")
	if len(unread) != 3 || !strings.Contains(all, "c-3-z/kills:1: not a nonce") || !strings.Contains(all, "d-4-w/kills: not a regular file") ||
		!strings.Contains(all, "e-5-v/kills: not a regular file") || !got[3] {
		t.Errorf("unread %q, read %v; want c's, d's and e's notes named, b's read", unread, got)
	}
}

// A kill note may take a second, or a tenth of a shorter stale-after age.
func TestNoteBound(t *testing.T) {
	for _, tc := range []struct{ staleAfter, want time.Duration }{
		{0, time.Second}, {-1, time.Second}, {time.Hour, time.Second}, {10 * time.Second, time.Second}, {time.Second, 100 * time.Millisecond},
	} {
		r := &runner{cfg: Config{StaleAfter: tc.staleAfter}}
		if got := r.noteBound(); got != tc.want {
			t.Errorf("stale-after %v: bound %v, want %v", tc.staleAfter, got, tc.want)
		}
	}
}

// TestWorkersOfASharedRunReadTheNotes: a worker of a host of a shared run
// is told where the other hosts note their kills, so that its live count
// leaves their takeovers out (TestLedgerLiveCount); one of a run of its
// own is told nothing of the kind.
func TestWorkersOfASharedRunReadTheNotes(t *testing.T) {
	wr := &workerRun{id: 1, name: "w1"}
	r := &runner{runDir: "/d/run", hostDir: "/d/run/hosts/a-1-x"}
	spec := r.spec(wr, 0, false)
	if spec.RunDir != r.runDir || spec.HostDir != r.hostDir {
		t.Errorf("a shared run's worker told run %q, host %q; want %q, %q", spec.RunDir, spec.HostDir, r.runDir, r.hostDir)
	}
	r.hostDir = ""
	if spec := r.spec(wr, 0, false); spec.RunDir != "" || spec.HostDir != "" {
		t.Errorf("a worker of a run of its own told run %q, host %q", spec.RunDir, spec.HostDir)
	}
}
