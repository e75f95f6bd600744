package filelock

import (
	"sync"

	"github.com/lockstress/lockstress/internal/fsys"
)

// ownRecords counts the records of the lock files and guards that this
// process image has made, or is making, and not yet given up. A lock file
// or guard whose record names this very process (same PID, start time and
// boot) but is not among them was written by this process before it
// executed a new program (exec keeps the PID and the start time), and its
// holder is gone.
var ownRecords = struct {
	sync.Mutex
	m map[string]int
}{m: map[string]int{}}

// holdRecord counts data as a record this process image holds. It is
// called before the file is made, so that no judge ever sees the file
// without it.
func holdRecord(data []byte) {
	ownRecords.Lock()
	ownRecords.m[string(data)]++
	ownRecords.Unlock()
}

// dropRecord undoes one holdRecord.
func dropRecord(data []byte) {
	ownRecords.Lock()
	defer ownRecords.Unlock()
	if n := ownRecords.m[string(data)]; n > 1 {
		ownRecords.m[string(data)] = n - 1
	} else {
		delete(ownRecords.m, string(data))
	}
}

// leftBeforeExec reports whether a record naming r, with the bytes data,
// of the file id (the lock file, or else the guard), was written by this
// process before an exec: r names this process, no file of this process
// image holds data, and, where holders keep their lock files open, the
// file is a lock file and no descriptor of this process refers to it
// (openHere: another copy of this package may hold it). A guard is not
// kept open, so there another copy's guard cannot be told from one left
// before an exec, and it is left to its age: an exec in the middle of a
// break is rare, two copies that lock one path less so.
func (fileMechanism) leftBeforeExec(l *Lock, r *Record, data []byte, id fsys.FileID, lockFile bool) bool {
	if r.identity() != l.cfg.self {
		return false
	}
	ownRecords.Lock()
	n := ownRecords.m[string(data)]
	ownRecords.Unlock()
	return n == 0 && !(l.keepsOpen() && (!lockFile || openHere(id)))
}
