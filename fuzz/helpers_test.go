package fuzz

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstress/lockstress/filelock"
	"github.com/lockstress/lockstress/internal/notify"
)

// hangAfter is how long one lock operation may run before the input counts
// as a hang. Every operation in these targets is bounded far below it (an
// attempt that must wait has a deadline of milliseconds), so reaching it
// means a wait that ignores its bound, not a slow machine.
const hangAfter = 10 * time.Second

// within runs op and fails the input if it has not returned after hangAfter.
// A hung op is left running: the input has failed and the worker ends.
func within(t *testing.T, what string, op func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		op()
	}()
	timer := time.NewTimer(hangAfter)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s: still running after %v (hang)", what, hangAfter)
	}
}

// sentinels are filelock's error values that an error may match.
var sentinels = []error{
	filelock.ErrTimeout, filelock.ErrWouldBlock, filelock.ErrNotLocked,
	filelock.ErrLockLost, filelock.ErrInvalidPath, filelock.ErrNotRegular,
	filelock.ErrInvalidOption, filelock.ErrBadRecord, filelock.ErrUnsupported,
}

// unclear says what is wrong with err as an error about the lock at path, or
// returns "" when it is what the package promises: an *fs.PathError whose
// Path is the lock path and whose Err matches one of filelock's sentinels,
// context.Canceled (a wait ended by its context; a deadline matches
// ErrTimeout), or is the operating system's error.
func unclear(err error, path string) string {
	var pe *fs.PathError
	if !errors.As(err, &pe) || err != error(pe) {
		return fmt.Sprintf("error %q (%T) is not an *fs.PathError", err, err)
	}
	if pe.Path != path {
		return fmt.Sprintf("error %q names path %q, want %q", err, pe.Path, path)
	}
	if pe.Op == "" {
		return fmt.Sprintf("error %q has no Op", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return ""
		}
	}
	if errors.Is(err, context.Canceled) || errors.As(err, new(syscall.Errno)) {
		return ""
	}
	return fmt.Sprintf("error %q matches no filelock sentinel, no context error and is no OS error", err)
}

// requireClear fails the input unless err is a clear error about path that
// matches each of wants.
func requireClear(t *testing.T, what string, err error, path string, wants ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want one matching %v", what, wants)
	}
	if msg := unclear(err, path); msg != "" {
		t.Fatalf("%s: %s", what, msg)
	}
	for _, w := range wants {
		if !errors.Is(err, w) {
			t.Fatalf("%s: error %q does not match %q", what, err, w)
		}
	}
}

// requireNoError fails the input if err is not nil.
func requireNoError(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// entry is one file in a listing.
type entry struct {
	mode    fs.FileMode // type and permission bits
	content string      // a regular file's content, a symbolic link's target
}

func (e entry) String() string {
	return fmt.Sprintf("%v %q", e.mode, e.content)
}

// listing describes every file below dir (dir itself excluded) by its path
// relative to dir, without following symbolic links.
func listing(t *testing.T, dir string) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := entry{mode: info.Mode()}
		switch {
		case info.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			e.content = string(data)
		case info.Mode()&fs.ModeSymlink != 0:
			if e.content, err = os.Readlink(path); err != nil {
				return err
			}
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = e
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", dir, err)
	}
	return out
}

// changes describes how listing after differs from before, one line per
// file, sorted; it is empty when they are the same.
func changes(before, after map[string]entry) []string {
	var out []string
	for name, b := range before {
		a, ok := after[name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("removed %s (%v)", name, b))
		case a != b:
			out = append(out, fmt.Sprintf("changed %s: %v -> %v", name, b, a))
		}
	}
	for name, a := range after {
		if _, ok := before[name]; !ok {
			out = append(out, fmt.Sprintf("added %s (%v)", name, a))
		}
	}
	slices.Sort(out)
	return out
}

// openFDs counts this process's open file descriptors, or returns -1 where
// that cannot be seen.
func openFDs(t *testing.T) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		return -1
	}
	notify.Settle() // closed watchers release their descriptors in the background
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting descriptors: %v", err)
	}
	return len(fds)
}

// requireNoNewFDs fails the input if more descriptors are open than before.
func requireNoNewFDs(t *testing.T, before int) {
	t.Helper()
	if before < 0 {
		return
	}
	if now := openFDs(t); now > before {
		t.Fatalf("%d file descriptors open, %d before: a descriptor leaked", now, before)
	}
}

// requireHeldByMe fails the input unless st says this process holds the
// lock and names it in the holder record.
func requireHeldByMe(t *testing.T, what string, st filelock.Status) {
	t.Helper()
	switch {
	case !st.Held:
		t.Fatalf("%s: lock held by this process, Inspect says free", what)
	case st.RecordErr != nil:
		t.Fatalf("%s: record of this process's lock unreadable: %v", what, st.RecordErr)
	case st.Holder == nil:
		t.Fatalf("%s: no holder record for this process's lock", what)
	case st.Holder.PID != os.Getpid():
		t.Fatalf("%s: holder PID %d, this process is %d", what, st.Holder.PID, os.Getpid())
	}
}

// requireHeldWithoutRecord fails the input unless st says the lock is
// held with no record of ours: a kernel strategy's lock on a file that
// held something else, which it leaves as it is.
func requireHeldWithoutRecord(t *testing.T, what string, st filelock.Status) {
	t.Helper()
	if !st.Held || st.Holder != nil {
		t.Fatalf("%s: lock held by this process over another file's content, Inspect says %s", what, showStatus(st))
	}
}

// requireFree fails the input unless st says the lock is free.
func requireFree(t *testing.T, what string, st filelock.Status) {
	t.Helper()
	if st.Held || st.Holder != nil || st.RecordErr != nil {
		t.Fatalf("%s: lock should be free, Inspect says %s", what, showStatus(st))
	}
}

// sameRecord reports whether a and b hold the same fields (times compared
// as instants).
func sameRecord(a, b filelock.Record) bool {
	ta, tb := a.Acquired, b.Acquired
	a.Acquired, b.Acquired = time.Time{}, time.Time{}
	return a == b && ta.Equal(tb)
}

// marshal is MarshalText, failing the input on error.
func marshal(t *testing.T, r filelock.Record) []byte {
	t.Helper()
	data, err := r.MarshalText()
	if err != nil {
		t.Fatalf("MarshalText(%s): %v", show(r), err)
	}
	return data
}

// show formats a record for a message, shortening long values.
func show(r filelock.Record) string {
	return fmt.Sprintf("{PID:%d Host:%s BootID:%s MachineID:%s PIDNS:%s Start:%d Acquired:%s Token:%s}",
		r.PID, quoteShort(r.Host), quoteShort(r.BootID), quoteShort(r.MachineID), quoteShort(r.PIDNS), r.Start,
		r.Acquired.Format(time.RFC3339Nano), quoteShort(r.Token))
}

// quoteShort quotes s for a message, shortening a long one.
func quoteShort(s string) string {
	const max = 200
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:max], len(s))
}

// isUnder reports whether the cleaned path p lies strictly below dir.
func isUnder(p, dir string) bool {
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}

// showStatus formats a Status for a message.
func showStatus(st filelock.Status) string {
	holder := "none"
	if st.Holder != nil {
		holder = show(*st.Holder)
	}
	return fmt.Sprintf("{Held:%v Holder:%s RecordErr:%v}", st.Held, holder, st.RecordErr)
}

// fileBased reports whether the strategy's lock is the lock file itself
// (soft and link), made on acquiring and removed on release.
func fileBased(s filelock.Strategy) bool { return s == filelock.Soft || s == filelock.Link }
