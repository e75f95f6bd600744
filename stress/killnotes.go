package stress

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A worker that finds the ledger held by a holder killed on purpose takes
// it over: not a violation, if the holder was killed. A host's own logs
// show the kills of that host only, so in a run that several hosts share,
// a worker that takes over from a holder another host killed would be a
// violation in its host's report (and in the merged logs Verify reads,
// none). So each host notes in its directory of the shared run the nonce
// of every acquisition it kills (killNotesName, one hexadecimal nonce a
// line), before the kill, and a host judging its share reads the other
// hosts' notes at its end.
//
// The note is written and closed before the kill, and the takeover can
// only follow the kill: a filesystem with close-to-open consistency (NFS)
// shows the note to a host that opens the file after the takeover. The
// holder is stopped (SIGSTOP) while its note is written, so the write is
// given noteBound and no more: a slow or hung filesystem would otherwise
// stretch a kill into a stop long enough for the lock to be broken as
// stale (a tenth of the stale-after age leaves it far from that), or
// hang the run. A host whose note fails, or is not done within
// the bound, resumes the holder, kills no more, and reports it (ERROR). A
// note done after its bound names an acquisition that was not killed,
// which only a host's own report can take for a takeover; Verify, which
// reads the logs of every host and not the notes, judges it. A worker
// that died inside the critical section is noted too, as soon as its
// host sees it gone, within the same bound. Notes that cannot be read
// make the reading host's report an ERROR (a FAIL still wins), never a run
// that tested nothing.

// killNotesName is the file, in a host's directory of a shared run, of
// the nonces of the acquisitions that host killed.
const killNotesName = "kills"

// noteBound is how long the steps made while a holder is stopped for its
// kill (the look at the ledger, the note) may take together, and a note
// of a death alone: a second, or a tenth of a shorter stale-after age.
func (r *runner) noteBound() time.Duration {
	if a := r.cfg.StaleAfter; a > 0 && a/10 < time.Second {
		return a / 10
	}
	return time.Second
}

// openKillNotes opens the kill notes at path for appending (a variable
// for tests, which make it fail or hang).
var openKillNotes = func(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
}

// noteKill notes, in a shared run, that the acquisition of nonce has died
// inside the critical section, within noteBound; elsewhere it does
// nothing.
func (r *runner) noteKill(nonce uint64) error {
	if r.hostDir == "" {
		return nil
	}
	return r.withinBound(filepath.Join(r.hostDir, killNotesName), r.killNote(nonce))
}

// killNote returns the write of the note of nonce, for withinBound.
func (r *runner) killNote(nonce uint64) func() error {
	open, path := openKillNotes, filepath.Join(r.hostDir, killNotesName) // read here: the write may outlive the run
	return func() error { return writeKillNote(open, path, nonce) }
}

// withinBound runs fn, a step made while a holder is stopped (or about its
// death), and returns its error, or one that says that what it does (a
// phrase) was not done within noteBound; fn may then go on, on its own.
func (r *runner) withinBound(what string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	bound := r.noteBound()
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("%s: not done within %v", what, bound)
	}
}

// writeKillNote appends nonce to the notes at path, opened with open.
func writeKillNote(open func(string) (*os.File, error), path string, nonce uint64) error {
	f, err := open(path)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%016x\n", nonce)
	return errors.Join(err, f.Close())
}

// addChaosErr records a step of the faults that failed (a look at the
// ledger, a note), the first one kept.
func (r *runner) addChaosErr(err error) {
	r.mu.Lock()
	r.chaosErr = cmp.Or(r.chaosErr, err)
	r.mu.Unlock()
}

// otherHostsKills returns the nonces that the hosts of the shared run in
// runDir other than the one whose directory is own noted killed, and the
// notes it could not read, each described.
func otherHostsKills(runDir, own string) (killed map[uint64]bool, unread []string) {
	killed = map[uint64]bool{}
	notes, err := filepath.Glob(filepath.Join(runDir, "hosts", "*", killNotesName))
	if err != nil {
		return killed, []string{err.Error()}
	}
	for _, p := range notes {
		if filepath.Dir(p) == own {
			continue
		}
		if err := readKillNotes(p, killed); err != nil && !errors.Is(err, fs.ErrNotExist) {
			unread = append(unread, err.Error())
		}
	}
	return killed, unread
}

// readKillNotes adds the nonces noted in the file at path to killed. A
// last line without its newline is being written, and is left out.
func readKillNotes(path string, killed map[uint64]bool) error {
	// Looked at before it is opened: opening a FIFO would wait for a
	// writer.
	if info, err := os.Lstat(path); err != nil {
		return err
	} else if !info.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := bufio.NewReader(f)
	for line := 1; ; line++ {
		s, err := rd.ReadString('\n')
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		n, perr := strconv.ParseUint(strings.TrimSuffix(s, "\n"), 16, 64)
		if perr != nil {
			return fmt.Errorf("%s:%d: not a nonce: %q", path, line, s)
		}
		killed[n] = true
	}
}
