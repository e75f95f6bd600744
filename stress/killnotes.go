package stress

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
// shows the note to a host that opens the file after the takeover. A
// host whose note cannot be written does not kill; one whose note was
// written but not closed cleanly kills, and reports the error: the note
// may be lost, which can only make another host's report fail, never
// pass. A worker that died inside the critical section is noted too, as
// soon as its host sees it gone. Notes that cannot be read make the
// reading host's report an ERROR (a FAIL still wins), never a run that
// tested nothing.

// killNotesName is the file, in a host's directory of a shared run, of
// the nonces of the acquisitions that host killed (a variable for tests,
// which make it one that cannot be written).
var killNotesName = "kills"

// errNoteNotWritten: a kill note was not written at all.
var errNoteNotWritten = errors.New("not written")

// noteKill notes, in a shared run, that the acquisition of nonce is about
// to be killed, or has died; elsewhere it does nothing. An error that
// matches errNoteNotWritten says that no note was made.
func (r *runner) noteKill(nonce uint64) error {
	if r.hostDir == "" {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(r.hostDir, killNotesName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return errors.Join(errNoteNotWritten, err)
	}
	if _, err := fmt.Fprintf(f, "%016x\n", nonce); err != nil {
		return errors.Join(errNoteNotWritten, err, f.Close())
	}
	return f.Close()
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
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return err
	} else if !info.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
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
