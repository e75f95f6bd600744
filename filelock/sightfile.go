package filelock

// The sighting file: since when this host has seen a lock file stale by
// age unchanged, kept beside it for the processes of this host that come
// after the one that saw it.
//
// A file stale by age is broken only once it has been seen unchanged for
// three fifths of the age limit (sighting.go). A process that judges a lock
// once and exits, a cron job's TryLock, would never see that much alone;
// the sighting file lets the next process of the same boot count from the
// first sighting. A process reads it, and writes it if it says nothing of
// the file as it is now, once per state of the file it judges, and only
// when it finds the file stale by age but not yet breakable: never on the
// path of an acquisition that finds the lock free or its holder alive.
//
// What it holds is measured on the host's monotonic clock (proc.Monotonic),
// which no one can step and which every process of one boot reads alike,
// so it counts only for processes of the boot it names. It counts only if
// this user or root owns it and no one else may write it: another user who
// could forge it could make a live lock look watched long enough for a
// clock step to break it. The breaker's sweep removes it with the file it
// was about (sweep.go); one about a file that its holder refreshed or
// released stays until the next break of that lock, out of date and
// ignored. It is named after the boot and the user, so that hosts, and
// users, sharing a directory keep one each, and the containers of one
// host, which share its boot and its clocks, share one.

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/proc"
)

// kindSeen names a sighting file: "<lock>.seen.<boot>.<uid>", where boot
// is the first bootPrefix bytes of the boot id.
const kindSeen = "seen"

// seenMagic opens a sighting file's one line.
const seenMagic = "filelock-seen v1 "

// bootPrefix is how much of the boot id a sighting file's name carries:
// enough to tell boots apart, the whole being in the file.
const bootPrefix = 8

// seenMaxSize bounds what is read of a sighting file.
const seenMaxSize = 512

// seenPerm is a sighting file's permission: no one but its owner may
// write it, or it would not count.
const seenPerm = 0o644

// seenFile is what a sighting file says: the state of the file seen, and
// since when it has been seen so, by the monotonic clock of the boot
// named.
type seenFile struct {
	boot    string
	id      fsys.FileID
	changed int64 // the file's last change, Unix nanoseconds
	size    int64
	sum     uint64 // its contents' FNV-1a hash
	since   time.Duration
}

// marshal returns the file's one line.
func (s seenFile) marshal() []byte {
	return fmt.Appendf(nil, "%s%s %d %d %d %d %x %d\n", seenMagic, s.boot, s.id.Dev, s.id.Ino, s.changed, s.size, s.sum, s.since)
}

// parseSeen decodes a sighting file; ok is false unless data is exactly
// what marshal writes.
func parseSeen(data []byte) (s seenFile, ok bool) {
	rest, found := strings.CutPrefix(string(data), seenMagic)
	f := strings.Fields(rest)
	if !found || len(f) != 7 || !proc.Printable(f[0]) {
		return s, false
	}
	dev, err1 := strconv.ParseUint(f[1], 10, 64)
	ino, err2 := strconv.ParseUint(f[2], 10, 64)
	changed, err3 := strconv.ParseInt(f[3], 10, 64)
	size, err4 := strconv.ParseInt(f[4], 10, 64)
	sum, err5 := strconv.ParseUint(f[5], 16, 64)
	since, err6 := strconv.ParseInt(f[6], 10, 64)
	if errors.Join(err1, err2, err3, err4, err5, err6) != nil {
		return s, false
	}
	s = seenFile{boot: f[0], id: fsys.FileID{Dev: dev, Ino: ino}, changed: changed, size: size, sum: sum, since: time.Duration(since)}
	return s, bytes.Equal(s.marshal(), data)
}

// seenTemp reports whether rest, what follows "<lock>.seen." in a name,
// is that of a sighting file's temporary name: "<boot>.<uid>.tmp.<hex>".
func seenTemp(rest string) bool {
	f := strings.Split(rest, ".")
	return len(f) == 4 && len(f[0]) <= bootPrefix && digits(f[1]) && f[2] == kindTemp && len(f[3]) == 16 && hexDigits(f[3])
}

// seenDebris reports whether the file p, of a sighting file's temporary
// name (rest, as seenTemp takes it), is what a writer killed half-way
// leaves: a regular file of the user the name gives with no permission
// bits, as writeSeen makes it until written (so never read: only root
// could), or one that begins as a sighting does. Any other file, an empty
// one that its owner may open among them, may be another lock's (an OS
// lock file holds nothing once released) and is left.
func seenDebris(fsy fsys.FS, p, rest string) bool {
	info, err := fsy.Lstat(p)
	if err != nil || !info.Mode.IsRegular() {
		return false
	}
	if info.Mode.Perm() == 0 {
		uid := strings.Split(rest, ".")[1]
		return uid == strconv.FormatUint(uint64(info.Uid), 10)
	}
	data, _, err := fsys.ReadAll(fsy, p, seenMaxSize)
	return err == nil && seenLike(data)
}

// seenLike reports whether data may be what the writer of a sighting file
// wrote, or began to: the start of its line, or more.
func seenLike(data []byte) bool {
	n := min(len(data), len(seenMagic))
	return n > 0 && string(data[:n]) == seenMagic[:n]
}

func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func hexDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}

// seenOf describes the file that info describes, holding data, seen since
// since by the monotonic clock of this boot.
func seenOf(l *Lock, info fsys.Info, data []byte, since time.Duration) seenFile {
	h := fnv.New64a()
	h.Write(data)
	return seenFile{boot: l.cfg.self.BootID, id: info.ID, changed: info.Changed().UnixNano(), size: info.Size, sum: h.Sum64(), since: since}
}

// sameState reports whether s and o tell of the same file in the same
// state, in the same boot.
func (s seenFile) sameState(o seenFile) bool {
	return s.boot == o.boot && s.id == o.id && s.changed == o.changed && s.size == o.size && s.sum == o.sum
}

// seenPath returns the path of this user's sighting file, in this boot, of
// the file at path.
func seenPath(l *Lock, path string) string {
	boot := l.cfg.self.BootID
	return besideName(path, kindSeen, boot[:min(len(boot), bootPrefix)], strconv.Itoa(euid))
}

// seenBefore returns how long this host has seen the file at path, which
// info describes and which holds data, unchanged before this process first
// saw it, seen ago: by its sighting file if that tells of this very state
// of the file, in this boot; 0 otherwise, after writing one that does. It
// is 0 too where the host's monotonic clock or boot is unknown, and for a
// process of the overflow user ID.
func seenBefore(l *Lock, path string, info fsys.Info, data []byte, seen time.Duration) time.Duration {
	now, ok := l.cfg.monotonic()
	if !ok || l.cfg.self.BootID == "" || euid == overflowUID() {
		return 0
	}
	sp := seenPath(l, path)
	got, sinfo, err := fsys.ReadAll(l.cfg.fs, sp, seenMaxSize)
	want := seenOf(l, info, data, now-seen)
	if s, ok := parseSeen(got); err == nil && ok && trustedSighting(sinfo) && s.sameState(want) {
		// The sighting and this process's overlap: count the time
		// before this process's own once only.
		return max(now-s.since-seen, 0)
	}
	writeSeen(l, sp, want.marshal())
	return 0
}

// overflowUID is the user ID that files of users not mapped into a user
// namespace show there (Linux's overflowuid, 65534 unless set): a process
// of that ID would take every such file for its own, so it keeps no
// sightings.
var overflowUID = sync.OnceValue(func() int {
	return parseOverflowUID(os.ReadFile("/proc/sys/kernel/overflowuid"))
})

// parseOverflowUID is the overflow user ID of a read of
// /proc/sys/kernel/overflowuid, or Linux's default where the read failed.
func parseOverflowUID(b []byte, err error) int {
	if n, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil {
		return n
	}
	return 65534
}

// trustedSighting reports whether a sighting file that info describes
// counts: this user's or root's, and no one else's to write.
func trustedSighting(info fsys.Info) bool {
	return trustedUser(info.Uid) && !othersMayWrite(info)
}

// giveSeenPerm gives a sighting's temporary file its permission, or as
// near as the filesystem allows (FAT shows one mode for every file), as
// long as its owner may read it: where a chmod is refused or ignored and
// the file keeps the no permission it was made with, it is not put in
// place, since it would be read by nobody but root.
func giveSeenPerm(f fsys.File) error {
	if _, err := fsys.SetPerm(f, seenPerm); err != nil {
		return err
	}
	info, err := f.Stat()
	if err == nil && info.Mode.Perm()&0o400 == 0 {
		err = fs.ErrPermission
	}
	return err
}

// writeSeen puts data in place as the sighting file sp, by a rename that
// a reader never sees half done; a failure (a full disk, a read-only
// filesystem, another user's file in a sticky directory) only leaves the
// next process to watch on its own.
func writeSeen(l *Lock, sp string, data []byte) {
	fsy := l.cfg.fs
	tmp := tempName(sp, kindTemp)
	// No permission bits until it is written: what a writer killed in
	// between leaves is then known for debris (seenDebris).
	f, err := fsy.CreateExcl(tmp, 0)
	if err != nil {
		return
	}
	_, err = f.Write(data)
	if err == nil {
		err = giveSeenPerm(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsy.Rename(tmp, sp)
	}
	if err != nil {
		fsy.Remove(tmp)
	}
}
