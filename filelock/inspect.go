package filelock

// Inspect: who holds a lock, for each mechanism, without acquiring or
// changing it.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/lockstress/lockstress/internal/fsys"
)

// Status is what Inspect learned of a lock.
type Status struct {
	// Held reports whether some owner holds the lock.
	Held bool
	// Holder is the holder's record. It is nil when the lock is free, when
	// the holder has not written its record yet, when the lock is shared
	// (shared holders write no record), or when an OS or OFD lock file
	// holds other content, which is never written over. An OS lock held by
	// a user who may only read the lock file has no record of its own
	// either: Holder is then nil, or the record of an earlier holder that
	// died holding the lock and left it behind.
	Holder *Record
	// RecordErr says why a lock file that is held has no usable record,
	// when it holds something that is not a record (matches ErrBadRecord).
	RecordErr error
	// Foreign says what a Soft or Link lock file without a record of this
	// package — another program's lock — states of its holder; nil when
	// the lock is free or holds a record.
	Foreign *ForeignHolder
	// Stale reports that the lock is stale by the rule of WithStaleAfter
	// (Soft and Link only); StaleReason says why. A lock stale by its age
	// alone is broken only once this host has seen it unchanged for three
	// fifths of the stale-after age; StaleReason then says how much longer
	// it must be seen so.
	Stale       bool
	StaleReason string
	// Age is the time since the lock file last changed (it was made, or
	// refreshed by its holder), by the filesystem's clock (Soft and Link;
	// 0 when unknown, and never negative).
	Age time.Duration
}

// Inspect reports whether the lock at path is held and by whom, without
// acquiring it and without changing it (but for the sighting file that a
// judgement of a Soft or Link lock stale by age leaves beside it, as an
// acquisition's does; see WithStaleAfter). The options are those the lock's
// users give New: they select the strategy that is inspected, and the
// stale-after age by which a Soft or Link lock is judged (give the age its
// holders use, or a live holder of a longer one is reported stale). It is
// a snapshot: the answer may be out of date when it returns.
//
// For the OS and OFD strategies the kernel is asked whether the lock is
// held, so a record left behind by a holder that died is not reported. For
// the OS strategy that question is asked by trying a non-blocking exclusive
// lock on a new descriptor and releasing it at once, so a TryLock by
// another owner at that very moment may report ErrWouldBlock.
func Inspect(path string, opts ...Option) (Status, error) {
	l, err := New(path, opts...)
	if err != nil {
		return Status{}, err
	}
	return l.Inspect()
}

// Inspect reports whether the handle's lock is held and by whom; see the
// function Inspect. A handle that holds the lock sees itself as the holder.
func (l *Lock) Inspect() (Status, error) { return l.mech.inspect(l) }

// inspect reports who holds a Soft or Link lock: the stale rule's
// verdict on its lock file, with its age.
func (m fileMechanism) inspect(l *Lock) (Status, error) {
	v, err := m.judge(l, l.path, l.cfg.staleAfter, true)
	if errors.Is(err, fs.ErrNotExist) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, pathError("inspect", l.given, err)
	}
	st := Status{Held: true, Holder: v.holder, RecordErr: v.recordErr, Foreign: v.foreign, Stale: v.stale, StaleReason: v.reason}
	if v.ageKnown {
		st.Age = v.age
	}
	if st.Stale {
		// As a break would, which refuses a file held with a kernel lock.
		if err := m.kernelLocked(l, l.path); err != nil {
			st.Stale, st.StaleReason = false, err.Error()+": never broken"
		}
	}
	return st, nil
}

// inspect reports who holds an OS or OFD lock: the kernel is asked, and
// the record is read only if the lock is held.
func (m osMechanism) inspect(l *Lock) (Status, error) {
	info, err := (fsys.OS{}).Lstat(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Status{}, nil
	}
	if err == nil && !info.Mode.IsRegular() {
		err = notRegular(info.Mode)
	}
	if err != nil {
		return Status{}, pathError("inspect", l.given, err)
	}
	f, err := fsys.OpenReadOnly(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, pathError("inspect", l.given, err)
	}
	defer f.Close()
	isHeld, err := m.locker.probe(f.Fd())
	if err != nil {
		return Status{}, pathError("inspect", l.given, err)
	}
	if !isHeld {
		return Status{}, nil
	}
	data := make([]byte, MaxRecordSize+1)
	n, err := f.ReadAt(data, 0)
	if err != nil && n == 0 && !errors.Is(err, io.EOF) {
		return Status{}, pathError("inspect", l.given, err)
	}
	return heldStatus(data[:n]), nil
}

// heldStatus is the status of a held lock whose file contains data.
func heldStatus(data []byte) Status {
	st := Status{Held: true}
	if len(data) == 0 {
		return st
	}
	r, err := ParseRecord(data)
	if err != nil {
		st.RecordErr = err
		return st
	}
	st.Holder = &r
	return st
}

// String describes the status for a person: who holds the lock, or that
// it is free, and whether it may be broken.
func (s Status) String() string {
	var b strings.Builder
	switch {
	case !s.Held:
		return "free"
	case s.Holder != nil:
		fmt.Fprintf(&b, "held by process %d on %s since %s", s.Holder.PID, s.Holder.Host, s.Holder.Acquired.Format(time.RFC3339))
	case s.Foreign != nil && s.Foreign.Format != FormatEmpty:
		b.WriteString("held, by " + s.Foreign.String())
	case s.Foreign != nil:
		b.WriteString("held, by " + s.Foreign.String() + " that states no holder")
	case s.RecordErr != nil:
		fmt.Fprintf(&b, "held, with a record that cannot be read (%v)", s.RecordErr)
	default:
		b.WriteString("held, by a program that leaves no record")
	}
	if s.Age > 0 {
		fmt.Fprintf(&b, ", unchanged for %v", s.Age.Round(time.Millisecond))
	}
	if s.Stale {
		b.WriteString("; stale: " + s.StaleReason)
	}
	return b.String()
}
