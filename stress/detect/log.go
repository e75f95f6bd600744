package detect

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Entry is one acquisition in a worker's log.
type Entry struct {
	// Seq is the sequence number the worker wrote into the ledger; 0 if it
	// wrote none (a worker killed before writing).
	Seq uint64
	// Nonce is the worker's nonce for this acquisition.
	Nonce uint64
	// Acquired and Released bound the critical section, in nanoseconds of
	// the host's CLOCK_MONOTONIC: Acquired is read after the lock was
	// acquired, Released before it was released, so the interval lies
	// inside the time the lock was held.
	Acquired, Released int64
	// Seen is the nonce of the record found held on entry (FlagHeld), or
	// found in place of this worker's own on leaving, or by its killer
	// (FlagChanged).
	Seen uint64
	// Flags says what the worker saw.
	Flags Flags
}

// Flags records what a worker saw in the ledger, and whether the
// acquisition was measured.
type Flags uint32

const (
	// FlagHeld: the ledger was held on entry.
	FlagHeld Flags = 1 << iota
	// FlagTornEntry: the ledger record read on entry was torn.
	FlagTornEntry
	// FlagChanged: on leaving (or, for a worker killed inside, when its
	// killer looked), the ledger no longer held this worker's nonce and
	// sequence number.
	FlagChanged
	// FlagTornExit: the ledger record read on leaving (or by its killer)
	// was torn.
	FlagTornExit
	// FlagKilled: the worker was killed inside the critical section. The
	// entry is written by the process that killed it; Released is the
	// time of the kill.
	FlagKilled
	// FlagDied: the worker died on its own, or gave up after an error,
	// inside the critical section. When it died the entry is written by
	// its parent, which does not know when: its Released is its Acquired.
	FlagDied
	// FlagWarmup: the acquisition's wait began in the warm-up of the run.
	// It is checked like any other, but no handoff into it is counted.
	FlagWarmup
)

// EntrySize is the size of an encoded Entry.
const EntrySize = 48

// AppendEntry appends the binary encoding of e to b: six little-endian
// fields (seq, nonce, acquired, released, seen as 64 bits; flags as 32
// bits) and the CRC-32 (Castagnoli) of those 44 bytes.
func AppendEntry(b []byte, e Entry) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint64(b, e.Seq)
	b = binary.LittleEndian.AppendUint64(b, e.Nonce)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Acquired))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Released))
	b = binary.LittleEndian.AppendUint64(b, e.Seen)
	b = binary.LittleEndian.AppendUint32(b, uint32(e.Flags))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// ErrBadLog reports a log that cannot be read to its end: a bad header,
// a damaged entry or a partial one at the end.
var ErrBadLog = errors.New("bad worker log")

// ParseEntry decodes one entry of EntrySize bytes.
func ParseEntry(b []byte) (Entry, error) {
	if len(b) != EntrySize {
		return Entry{}, fmt.Errorf("%w: entry of %d bytes", ErrBadLog, len(b))
	}
	le := binary.LittleEndian
	if crc32.Checksum(b[:44], castagnoli) != le.Uint32(b[44:]) {
		return Entry{}, fmt.Errorf("%w: entry checksum mismatch", ErrBadLog)
	}
	return Entry{
		Seq: le.Uint64(b[0:]), Nonce: le.Uint64(b[8:]),
		Acquired: int64(le.Uint64(b[16:])), Released: int64(le.Uint64(b[24:])),
		Seen: le.Uint64(b[32:]), Flags: Flags(le.Uint32(b[40:])),
	}, nil
}

// LogHeader is the first line of a log: "lockstress-log v1 " and this, as
// JSON.
type LogHeader struct {
	Run         string `json:"run"`
	Host        string `json:"host"`
	Worker      int    `json:"worker"`
	Incarnation int    `json:"incarnation"`
	PID         int    `json:"pid"`
	// Owner names the worker in reports and in the ledger.
	Owner string `json:"owner"`
}

const logMagic = "lockstress-log v1 "

// AppendLogHeader appends the header line of a log to b.
func AppendLogHeader(b []byte, h LogHeader) []byte {
	j, _ := json.Marshal(h) // a struct of strings and ints always marshals
	b = append(b, logMagic...)
	b = append(b, j...)
	return append(b, '\n')
}

// Name returns the worker's name with its incarnation, as used in
// violations: "w3" for the first incarnation, "w3#2" for the third.
func (h LogHeader) Name() string {
	if h.Incarnation == 0 {
		return h.Owner
	}
	return fmt.Sprintf("%s#%d", h.Owner, h.Incarnation)
}

// LogName is the file name of a worker incarnation's log; ObsName that of
// its observations.
func LogName(worker, incarnation int) string {
	return fmt.Sprintf("w%04d.%d.log", worker, incarnation)
}

// ObsName is the file name of the observations that go with the log
// LogName(worker, incarnation).
func ObsName(worker, incarnation int) string {
	return fmt.Sprintf("w%04d.%d.obs", worker, incarnation)
}

// Observation is what a worker saw when it flagged an entry, written as
// one JSON line to its observations file (only the first few are kept).
type Observation struct {
	// Seq and Nonce are those of the entry the observation belongs to.
	Seq   uint64 `json:"seq"`
	Nonce uint64 `json:"nonce"`
	AtNs  int64  `json:"at_ns"`
	Flags Flags  `json:"flags"`
	// Record is the ledger record as read, as text.
	Record string `json:"record"`
	// Error is why the record did not parse, if it did not.
	Error string `json:"error,omitempty"`
}

// Log is one worker incarnation's log file.
type Log struct {
	Path   string
	Header LogHeader
}

// FindLogs returns the logs in dir, sorted by name, with their headers.
func FindLogs(dir string) ([]Log, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "w*.log"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	logs := make([]Log, 0, len(paths))
	for _, p := range paths {
		r, err := OpenLog(p)
		if err != nil {
			return nil, err
		}
		logs = append(logs, Log{Path: p, Header: r.Header})
		r.Close()
	}
	return logs, nil
}

// LogReader reads a log entry by entry.
type LogReader struct {
	Header LogHeader
	f      *os.File
	r      *bufio.Reader
	buf    [EntrySize]byte
	path   string
}

// openRegular opens the file at path for reading if it is a regular file:
// a log or observation file of a run directory that others may write
// could be a FIFO, whose open would wait for a writer for ever, or a link
// to anything. The file opened is the one judged (openNoWait).
func openRegular(path string) (*os.File, error) {
	f, err := openNoWait(path)
	if err != nil {
		// A symbolic link fails the open (ELOOP): say what is there.
		if info, lerr := os.Lstat(path); lerr == nil && !info.Mode().IsRegular() {
			return nil, notRegular(path, info.Mode())
		}
		return nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = notRegular(path, info.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// notRegular is the error for a log or observation file that is not a
// regular file.
func notRegular(path string, mode os.FileMode) error {
	return &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w: not a regular file (%v)", ErrBadLog, mode.Type())}
}

// OpenLog opens a log and reads its header.
func OpenLog(path string) (*LogReader, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	lr := &LogReader{f: f, r: bufio.NewReaderSize(f, 64<<10), path: path}
	line, err := lr.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, logMagic) {
		f.Close()
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: no header line", ErrBadLog)}
	}
	if err := json.Unmarshal([]byte(line[len(logMagic):]), &lr.Header); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: header: %v", ErrBadLog, err)}
	}
	return lr, nil
}

// Next returns the next entry, or io.EOF after the last one. A damaged or
// partial entry is an error matching ErrBadLog.
func (lr *LogReader) Next() (Entry, error) {
	n, err := io.ReadFull(lr.r, lr.buf[:])
	switch {
	case err == io.EOF:
		return Entry{}, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Entry{}, &os.PathError{Op: "read", Path: lr.path, Err: fmt.Errorf("%w: partial entry of %d bytes at the end", ErrBadLog, n)}
	case err != nil:
		return Entry{}, err
	}
	e, err := ParseEntry(lr.buf[:])
	if err != nil {
		return Entry{}, &os.PathError{Op: "read", Path: lr.path, Err: err}
	}
	return e, nil
}

// Close closes the log.
func (lr *LogReader) Close() error { return lr.f.Close() }

// lastEntry returns the last entry of a log, if it has one.
func lastEntry(path string) (Entry, bool, error) {
	f, err := openRegular(path)
	if err != nil {
		return Entry{}, false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Entry{}, false, err
	}
	var b [EntrySize]byte
	if info.Size() < EntrySize {
		return Entry{}, false, nil
	}
	if _, err := f.ReadAt(b[:], info.Size()-EntrySize); err != nil {
		return Entry{}, false, err
	}
	e, err := ParseEntry(b[:])
	if err != nil {
		return Entry{}, false, nil // reported when the log is read in full
	}
	return e, true, nil
}

// observations reads the observations file that goes with a log.
func observations(logPath string) []Observation {
	f, err := openRegular(strings.TrimSuffix(logPath, ".log") + ".obs")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []Observation
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var o Observation
		if json.Unmarshal(sc.Bytes(), &o) == nil {
			out = append(out, o)
		}
	}
	return out
}
