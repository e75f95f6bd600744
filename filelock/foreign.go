package filelock

import (
	"bytes"
	"strconv"
	"strings"
)

// A lock file that holds no record of this package was made by another
// program: a shell script, Python's filelock or flufl.lock, liblockfile's
// dotlockfile, or any O_EXCL lock. It is respected as a held lock. Its
// contents are read for what they say of the holder, in the formats such
// programs write, but they prove nothing by themselves: a bare PID does not
// say on which host or in which PID namespace (container) it was written.
// The stale rule (stale.go) therefore breaks such a file only by its age,
// unless WithSharedPIDNamespace says that every holder runs beside this
// process.

// Formats of foreign lock files, as ForeignHolder.Format names them.
const (
	FormatEmpty   = "empty"      // nothing in it (Python's SoftFileLock, touch)
	FormatPID     = "pid"        // a decimal PID alone (libvcs, dotlockfile, pid files, shell scripts)
	FormatPIDHost = "pid-host"   // a PID line, then a host line
	FormatFlufl   = "flufl.lock" // flufl.lock's "lockfile|host|pid|random"
	FormatUnknown = "unknown"    // anything else
)

// ForeignHolder is what a lock file made by another program says of its
// holder, as far as a known format tells.
type ForeignHolder struct {
	// Format names the format recognised (FormatEmpty, FormatPID, …).
	Format string
	// PID is the holder's process id; 0 when the format states none.
	PID int
	// Host is the holder's host name; empty when the format states none.
	Host string
}

// parseForeign recognises the format of a lock file's contents that are
// not a record of this package.
func parseForeign(data []byte) ForeignHolder {
	text := strings.TrimSpace(string(data))
	if text == "" {
		return ForeignHolder{Format: FormatEmpty}
	}
	lines := strings.Split(text, "\n")
	if pid, ok := parsePID(lines[0]); ok {
		switch {
		case len(lines) == 1:
			return ForeignHolder{Format: FormatPID, PID: pid}
		case len(lines) == 2 && validHostName(lines[1]):
			return ForeignHolder{Format: FormatPIDHost, PID: pid, Host: strings.TrimSpace(lines[1])}
		}
	}
	if len(lines) == 1 {
		if f := strings.Split(text, "|"); len(f) >= 4 {
			pid, ok := parsePID(f[len(f)-2])
			if _, err := strconv.ParseUint(f[len(f)-1], 10, 64); ok && err == nil && validHostName(f[len(f)-3]) {
				return ForeignHolder{Format: FormatFlufl, PID: pid, Host: f[len(f)-3]}
			}
		}
	}
	return ForeignHolder{Format: FormatUnknown}
}

// parsePID parses a decimal PID, allowing surrounding blanks.
func parsePID(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 10 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	pid, err := strconv.Atoi(s)
	return pid, err == nil && pid <= 1<<31-1
}

// validHostName reports whether s can be a host name: one word of
// printable characters.
func validHostName(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && len(s) <= 255 && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// sameHostName reports whether the host name a foreign record states is
// this host's: equal, or equal in its first label (one program writes the
// short name, another the fully qualified one).
func sameHostName(recorded, mine string) bool {
	if recorded == "" || recorded == mine {
		return true
	}
	short := func(s string) string { s, _, _ = strings.Cut(s, "."); return s }
	return short(recorded) == short(mine)
}

// String describes the holder for a person.
func (f ForeignHolder) String() string {
	var b bytes.Buffer
	b.WriteString("a lock file of another program (" + f.Format + ")")
	if f.PID > 0 {
		b.WriteString(", pid " + strconv.Itoa(f.PID))
	}
	if f.Host != "" {
		b.WriteString(" on " + f.Host)
	}
	return b.String()
}
