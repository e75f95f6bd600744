package fuzz

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstress/lockstress/filelock"
)

// maxOps bounds the operations decoded from one input; longer inputs are
// skipped.
const maxOps = 64

// waitForOther is the context timeout of a Lock that the model says must
// wait for another handle: it has to time out, so it is short.
const waitForOther = 200 * time.Microsecond

// The operations of FuzzOps, by the value of bits 2–4 of an op byte.
const (
	opTryLock       = iota // TryLock
	opLock                 // LockContext with a short context
	opUnlock               // Unlock
	opLockExpired          // LockContext with a context past its deadline
	opLockCanceled         // LockContext with a canceled context
	opDepth                // Depth
	opInspect              // the handle's Inspect
	opInspectByPath        // the function Inspect, by the handle's path
)

var opNames = [...]string{"TryLock", "Lock", "Unlock", "LockContext(expired)", "LockContext(canceled)", "Depth", "Inspect", "filelock.Inspect"}

// FuzzOps decodes its input into operations on two or three handles of one
// lock and checks each result against a model that knows which handle owns
// the lock and how deep. The first byte picks the number of handles; in
// each following byte, bits 0–1 pick the handle (modulo the number) and
// bits 2–4 the operation. The third handle spells the path differently.
func FuzzOps(f *testing.F) {
	f.Fuzz(func(t *testing.T, input []byte) {
		if len(input) > 1+maxOps {
			// Longer inputs only make the fuzzer's minimization slow.
			return
		}
		handles := 2
		if len(input) > 0 {
			handles += int(input[0] % 2)
			input = input[1:]
		}
		for _, s := range filelock.Strategies() {
			runOps(t, s, handles, input)
		}
	})
}

// model is what the lock's state must be.
type model struct {
	owner int   // the handle that holds the lock, or -1
	depth []int // per handle
	token string
	ever  bool // the lock was acquired at least once
}

func (m *model) acquire(h int) {
	m.owner = h
	m.depth[h]++
	m.ever = true
}

func (m *model) free(h int) bool { return m.owner == -1 || m.owner == h }

func runOps(t *testing.T, s filelock.Strategy, handles int, input []byte) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths := []string{
		filepath.Join(dir, "lock"),
		filepath.Join(dir, "lock"),
		filepath.Join(dir, "sub") + string(filepath.Separator) + ".." + string(filepath.Separator) + "lock",
	}[:handles]
	locks := make([]*filelock.Lock, handles)
	for i, p := range paths {
		var err error
		locks[i], err = filelock.New(p, filelock.WithStrategy(s))
		requireNoError(t, "New", err)
	}
	fds := openFDs(t)
	m := &model{owner: -1, depth: make([]int, handles)}
	var trace []string

	for _, b := range input {
		h := int(b&3) % handles
		op := int(b>>2) & 7
		trace = append(trace, fmt.Sprintf("%d:%s", h, opNames[op]))
		step := func() string { return fmt.Sprintf("%v [%s]", s, strings.Join(trace, " ")) }
		doOp(t, step, m, locks[h], paths[h], h, op)
		for i, l := range locks {
			if d := l.Depth(); d != m.depth[i] {
				t.Fatalf("%s: handle %d has Depth %d, want %d", step(), i, d, m.depth[i])
			}
		}
	}

	// Release everything; then the lock must be free, and nothing but the
	// kept lock file of the OS strategies may be left.
	for i, l := range locks {
		for ; m.depth[i] > 0; m.depth[i]-- {
			requireNoError(t, fmt.Sprintf("%v final Unlock of handle %d", s, i), l.Unlock())
		}
		requireClear(t, fmt.Sprintf("%v extra Unlock of handle %d", s, i), l.Unlock(), paths[i], filelock.ErrNotLocked)
	}
	st, err := filelock.Inspect(paths[0], filelock.WithStrategy(s))
	requireNoError(t, "final Inspect", err)
	requireFree(t, s.String()+" final Inspect", st)
	left := listing(t, dir)
	wantFile := !fileBased(s) && m.ever
	for name, e := range left {
		switch {
		case name == "sub" && e.mode.IsDir():
		case name == "lock" && wantFile && e.mode.IsRegular() && e.content == "":
			// the lock file that the OS strategies keep, empty when free
		default:
			t.Fatalf("%v: after releasing everything, %s is left (%v)", s, name, e)
		}
	}
	if _, ok := left["lock"]; wantFile && !ok {
		t.Fatalf("%v: the lock file was removed", s)
	}
	fresh, err := filelock.New(paths[0], filelock.WithStrategy(s))
	requireNoError(t, "New (fresh handle)", err)
	requireNoError(t, s.String()+" TryLock (fresh handle)", fresh.TryLock())
	requireNoError(t, s.String()+" Unlock (fresh handle)", fresh.Unlock())
	requireNoNewFDs(t, fds)
}

// doOp runs operation op on handle h (lock l at path) and checks the result
// against the model, which it updates.
func doOp(t *testing.T, step func() string, m *model, l *filelock.Lock, path string, h, op int) {
	t.Helper()
	var err error
	switch op {
	case opTryLock:
		within(t, step(), func() { err = l.TryLock() })
		if m.free(h) {
			requireNoError(t, step(), err)
			m.acquire(h)
		} else {
			requireClear(t, step(), err, path, filelock.ErrWouldBlock)
		}
	case opLock:
		timeout := waitForOther
		if m.free(h) {
			timeout = hangAfter / 2
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		within(t, step(), func() { err = l.LockContext(ctx) })
		cancel()
		if m.free(h) {
			requireNoError(t, step(), err)
			m.acquire(h)
		} else {
			requireClear(t, step(), err, path, filelock.ErrTimeout, context.DeadlineExceeded)
		}
	case opUnlock:
		within(t, step(), func() { err = l.Unlock() })
		if m.depth[h] == 0 {
			requireClear(t, step(), err, path, filelock.ErrNotLocked)
			break
		}
		requireNoError(t, step(), err)
		if m.depth[h]--; m.depth[h] == 0 {
			m.owner, m.token = -1, ""
		}
	case opLockExpired, opLockCanceled:
		ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
		want := []error{filelock.ErrTimeout, context.DeadlineExceeded}
		if op == opLockCanceled {
			ctx, cancel = context.WithCancel(context.Background())
			want = []error{context.Canceled}
		}
		cancel()
		within(t, step(), func() { err = l.LockContext(ctx) })
		if m.owner == h {
			// A handle that holds the lock only counts, done context or not.
			requireNoError(t, step(), err)
			m.acquire(h)
		} else {
			requireClear(t, step(), err, path, want...)
		}
	case opDepth:
		// Every step checks Depth of every handle.
	case opInspect, opInspectByPath:
		var st filelock.Status
		if op == opInspect {
			within(t, step(), func() { st, err = l.Inspect() })
		} else {
			within(t, step(), func() { st, err = filelock.Inspect(path, filelock.WithStrategy(l.Strategy())) })
		}
		requireNoError(t, step(), err)
		if m.owner == -1 {
			requireFree(t, step(), st)
			break
		}
		requireHeldByMe(t, step(), st)
		// One acquisition has one record: taking the lock again through
		// the same handle must not rewrite it.
		if m.token == "" {
			m.token = st.Holder.Token
		} else if st.Holder.Token != m.token {
			t.Fatalf("%s: holder token changed from %s to %s while held", step(), m.token, st.Holder.Token)
		}
	}
}
