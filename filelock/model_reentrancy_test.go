package filelock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/leanovate/gopter/gen"
	"github.com/stretchr/testify/require"
)

// The reentrancy model: several handles on one path in a temporary
// directory, driven by generated sequences of Lock, TryLock, Unlock,
// context acquisitions that are cancelled, and Inspect. The model knows
// which handle owns the lock and how deep; after every command the real
// handles must agree with it.

func TestReentrancyModel(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		checkModel(t, reentrancyModel(t, s, asHandle), modelParams(t, 40, 40))
		require.Zero(t, processLocks.size())
	})
}

// TestReentrancyModelCatchesOffByOne shows that the model fails on a
// handle whose reentrancy counter is off by one.
func TestReentrancyModelCatchesOffByOne(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		expectModelFails(t, reentrancyModel(t, s, offByOne), seededParams(t, 200, 40), "depth")
		require.Zero(t, processLocks.size())
	})
}

// reHandle is what the model drives: a *Lock, or a broken wrapper of one.
type reHandle interface {
	Lock() error
	TryLock() error
	LockContext(context.Context) error
	Unlock() error
	Inspect() (Status, error)
	Depth() int
}

func asHandle(l *Lock) reHandle { return l }

// reState is the model: the number of handles, which one owns the lock
// (-1: none) and how deep, and what the last command must have returned.
type reState struct {
	handles int
	owner   int
	depth   int
	want    error // nil, ErrWouldBlock, ErrNotLocked or context.Canceled
}

// reSUT is the system under test: handles on one lock path.
type reSUT struct {
	dir     string
	locks   []*Lock
	handles []reHandle
}

// reResult is what one command saw.
type reResult struct {
	err       error
	depths    []int
	status    Status
	statusErr error
}

// errWouldWait is the result of a Lock that would wait for another handle.
var errWouldWait = errors.New("would wait for another handle")

type reOp int

const (
	opLock       reOp = iota
	opTryLock         // never waits
	opUnlock          // one level
	opCancelWait      // LockContext cancelled while it waits (or that succeeds at once for the owner)
	opCancelled       // LockContext with a context cancelled beforehand
	opInspect         // the handle's Inspect
)

var reOpNames = [...]string{"Lock", "TryLock", "Unlock", "LockContext(cancelled while waiting)", "LockContext(cancelled)", "Inspect"}

type reCmd struct {
	op reOp
	h  int
}

var _ commands.Command = reCmd{}

func (c reCmd) String() string { return fmt.Sprintf("h%d.%s", c.h, reOpNames[c.op]) }

func (c reCmd) PreCondition(s commands.State) bool {
	st := s.(reState)
	switch {
	case c.h >= st.handles:
		return false
	case c.op == opLock:
		return st.owner < 0 || st.owner == c.h // otherwise it waits forever
	case c.op == opCancelWait:
		// On a free lock it would race its own cancellation.
		return st.owner >= 0
	}
	return true
}

func (c reCmd) NextState(s commands.State) commands.State {
	st := s.(reState)
	mine, free := st.owner == c.h, st.owner < 0
	st.want = nil
	switch c.op {
	case opLock, opTryLock:
		if free || mine {
			st.owner, st.depth = c.h, st.depth+1
		} else {
			st.want = ErrWouldBlock
		}
	case opCancelWait, opCancelled:
		if mine {
			st.depth++
		} else {
			st.want = context.Canceled
		}
	case opUnlock:
		if !mine {
			st.want = ErrNotLocked
			break
		}
		st.depth--
		if st.depth == 0 {
			st.owner = -1
		}
	}
	return st
}

func (c reCmd) Run(sut commands.SystemUnderTest) commands.Result {
	s := sut.(*reSUT)
	h := s.handles[c.h]
	var r reResult
	switch c.op {
	case opLock:
		// The precondition keeps Lock from waiting, but once the lock has
		// parted from the model (a failure is being reported, and the
		// sequence runs on) it could wait forever.
		for i, o := range s.handles {
			if i != c.h && o.Depth() > 0 {
				r.err = errWouldWait
			}
		}
		if r.err == nil {
			r.err = h.Lock()
		}
	case opTryLock:
		r.err = h.TryLock()
	case opUnlock:
		r.err = h.Unlock()
	case opCancelWait:
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			time.Sleep(time.Millisecond) // most often while it waits; either way it must end Canceled
			cancel()
		}()
		r.err = h.LockContext(ctx)
		<-stopped
	case opCancelled:
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r.err = h.LockContext(ctx)
	case opInspect:
		r.status, r.statusErr = h.Inspect()
	}
	for _, h := range s.handles {
		r.depths = append(r.depths, h.Depth())
	}
	return r
}

func (c reCmd) PostCondition(s commands.State, res commands.Result) *gopter.PropResult {
	st, r := s.(reState), res.(reResult)
	switch {
	case st.want == nil && r.err != nil:
		return fail("result: %v failed: %v", c, r.err)
	case st.want != nil && !errors.Is(r.err, st.want):
		return fail("result: %v returned %v, model says %v (owner h%d, depth %d)", c, r.err, st.want, st.owner, st.depth)
	case errors.Is(st.want, context.Canceled) && errors.Is(r.err, ErrTimeout):
		return fail("result: %v returned a timeout for a cancellation: %v", c, r.err)
	}
	owners := 0
	for i, d := range r.depths {
		want := 0
		if i == st.owner {
			want = st.depth
		}
		if d > 0 {
			owners++
		}
		if d != want {
			return fail("depth: after %v h%d has depth %d, model says %d", c, i, d, want)
		}
	}
	if owners > 1 {
		return fail("exclusion: after %v %d handles hold the lock", c, owners)
	}
	if c.op == opInspect {
		return checkInspect(c, st, r.status, r.statusErr)
	}
	return pass()
}

func checkInspect(c reCmd, st reState, status Status, err error) *gopter.PropResult {
	switch {
	case err != nil:
		return fail("inspect: %v failed: %v", c, err)
	case status.Held != (st.owner >= 0):
		return fail("inspect: %v says held=%v, model says owner h%d", c, status.Held, st.owner)
	case !status.Held:
		return pass()
	case status.RecordErr != nil || status.Holder == nil:
		return fail("inspect: %v gives no holder (record error %v)", c, status.RecordErr)
	case status.Holder.PID != os.Getpid():
		return fail("inspect: %v names PID %d, not this process", c, status.Holder.PID)
	}
	return pass()
}

// reentrancyModel returns the model's property for strategy s, each handle
// made by wrap from a real one.
func reentrancyModel(t *testing.T, s Strategy, wrap func(*Lock) reHandle) gopter.Prop {
	base := t.TempDir()
	hg := func(n int) gopter.Gen { return gen.IntRange(0, n-1) }
	cmd := func(op reOp) func(h int) commands.Command {
		return func(h int) commands.Command { return reCmd{op: op, h: h} }
	}
	return commands.Prop(&commands.ProtoCommands{
		InitialStateGen: gen.IntRange(2, 3).Map(func(n int) reState { return reState{handles: n, owner: -1} }),
		NewSystemUnderTestFunc: func(initial commands.State) commands.SystemUnderTest {
			dir, err := os.MkdirTemp(base, "")
			if err != nil {
				panic(err)
			}
			sut := &reSUT{dir: dir}
			for range initial.(reState).handles {
				l, err := New(filepath.Join(dir, "x.lock"), WithStrategy(s))
				if err != nil {
					panic(err)
				}
				sut.locks = append(sut.locks, l)
				sut.handles = append(sut.handles, wrap(l))
			}
			return sut
		},
		DestroySystemUnderTestFunc: func(sut commands.SystemUnderTest) {
			s := sut.(*reSUT)
			for _, l := range s.locks {
				for l.Depth() > 0 {
					_ = l.Unlock() // ErrLockLost under a broken variant
				}
			}
			if err := os.RemoveAll(s.dir); err != nil {
				panic(err)
			}
		},
		GenCommandFunc: func(st commands.State) gopter.Gen {
			n := st.(reState).handles
			return gen.Weighted([]gen.WeightedGen{
				{Weight: 3, Gen: hg(n).Map(cmd(opLock))},
				{Weight: 3, Gen: hg(n).Map(cmd(opTryLock))},
				{Weight: 5, Gen: hg(n).Map(cmd(opUnlock))},
				{Weight: 1, Gen: hg(n).Map(cmd(opCancelWait))},
				{Weight: 1, Gen: hg(n).Map(cmd(opCancelled))},
				{Weight: 2, Gen: hg(n).Map(cmd(opInspect))},
			})
		},
	})
}
