package filelock

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/leanovate/gopter/gen"
	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys/memfs"
	"github.com/lockstress/lockstress/internal/proc"
)

// The stale-expiry model: a holder H and a contender B on one lock over the
// in-memory filesystem, whose modification times come from a clock that
// only the test moves. Commands: Acquire (a new holder takes the free
// lock), Advance(d), Heartbeat (the holder refreshes its lock, as its
// heartbeat does), Crash (the holder abandons the lock without releasing
// it), Kill (the holder's process dies on this host), TryLock by B (which
// releases at once if it gets the lock), and Unlock by H. The model says
// when the lock is stale — its holder is dead, or it was last refreshed
// more than the stale-after age ago — and when B may break it: at once if
// its holder is dead, and if stale by age, once B has seen it unchanged for
// three fifths of the stale-after age. B must break it exactly then: never earlier,
// never later. B is one handle throughout, so that what it has seen
// counts.

const modelStaleAfter = 10 * time.Second

func TestStaleExpiryModel(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			checkModel(t, staleModel(s, modelStaleAfter), modelParams(t, 100, 60))
			require.Zero(t, processLocks.size())
		})
	}
}

// TestStaleExpiryModelCatchesWrongBreakers: a contender that breaks at
// half the stale-after age, or never by age, disagrees with the model.
// (The first is caught where it breaks early, or where its Inspect already
// calls the lock stale, which comes first when it has not watched long
// enough to break it.)
func TestStaleExpiryModelCatchesWrongBreakers(t *testing.T) {
	expectModelFails(t, staleModel(Soft, modelStaleAfter/2), seededParams(t, 200, 60), "early", "inspect: stale=true")
	require.Zero(t, processLocks.size())
	expectModelFails(t, staleModel(Soft, 0), seededParams(t, 200, 60), "late", "inspect: stale=false")
	require.Zero(t, processLocks.size())
}

// stState is the model.
type stState struct {
	now       time.Duration // time since the start
	held      bool          // a lock file is there
	refreshed time.Duration // when it was made or last refreshed
	dead      bool          // its holder's process is dead
	hHolds    bool          // the handle H holds it (not crashed, not killed)
	hLost     bool          // H's lock was broken while H held it
	wasStale  bool          // TryLock(B): the lock was stale before it
	want      error         // what the last command must return: nil or ErrWouldBlock / ErrLockLost
	made      int           // lock files made so far: the latest's number
	// B's sighting of the lock file: which one, as refreshed when, first
	// seen so when.
	seenMade      int
	seenRefreshed time.Duration
	seenAt        time.Duration
}

func (st stState) stale() bool {
	return st.held && (st.dead || st.now-st.refreshed > modelStaleAfter)
}

// breakable reports whether B may break the lock: stale, and if by age
// alone, seen unchanged by B for three fifths of the stale-after age.
func (st stState) breakable() bool {
	return st.held && (st.dead || st.stale() && st.now-st.seenAt >= modelStaleAfter*3/5)
}

// stSUT is the real lock: H's handle (if any), the shared filesystem and
// clock, and the processes known to be dead.
type stSUT struct {
	strategy Strategy
	bStale   time.Duration // B's stale-after age: the model's, unless a test breaks it
	clock    *clock.Fake
	fs       *memfs.FS
	bView    *stView // B's view: another key in the process-wide table
	b        *Lock   // B's handle, made at its first TryLock
	h        *Lock
	hFrozen  *clock.Fake // H's own clock: never moved, so its heartbeat goroutine never fires
	dead     map[int]bool
}

// stView is a view of the shared filesystem; each view is its own key of
// the process-wide table, as another process would be.
type stView struct{ *memfs.FS }

func (s *stSUT) liveness(id proc.Identity) proc.State {
	if s.dead[id.PID] {
		return proc.Dead
	}
	return proc.Alive
}

func (s *stSUT) options(fs *stView, k clock.Clock, pid int, staleAfter time.Duration) []Option {
	return []Option{WithStrategy(s.strategy), withFS(fs), withClock(k), WithStaleAfter(staleAfter),
		withProcess(proc.Identity{PID: pid, Host: "model", BootID: "model-boot", PIDNS: "model", Start: 1}, s.liveness)}
}

// abandon stops H's heartbeat and forgets H, leaving its lock file.
func (s *stSUT) abandon() {
	if s.h == nil {
		return
	}
	if fh, ok := s.h.held.(*fileHeld); ok {
		fh.stopHeartbeat()
	}
	processLocks.release(s.h.slot, false)
	s.h = nil
}

type stOp int

const (
	stAcquire stOp = iota
	stAdvance
	stHeartbeat
	stCrash
	stKill
	stTryB
	stUnlockH
)

var stOpNames = [...]string{"Acquire", "Advance", "Heartbeat", "Crash", "Kill", "TryLock(B)", "Unlock(H)"}

type stCmd struct {
	op stOp
	d  time.Duration
}

func (c stCmd) String() string {
	if c.op == stAdvance {
		return fmt.Sprintf("Advance(%v)", c.d)
	}
	return stOpNames[c.op]
}

func (c stCmd) PreCondition(s commands.State) bool {
	st := s.(stState)
	switch c.op {
	case stAcquire:
		return !st.held
	case stHeartbeat, stCrash, stUnlockH:
		return st.hHolds
	case stKill:
		return st.held && !st.dead
	}
	return true
}

func (c stCmd) NextState(s commands.State) commands.State {
	st := s.(stState)
	st.want = nil
	switch c.op {
	case stAcquire:
		st.held, st.refreshed, st.dead, st.hHolds, st.hLost = true, st.now, false, true, false
		st.made++
	case stAdvance:
		st.now += c.d
	case stHeartbeat:
		if !st.hLost {
			st.refreshed = st.now
		}
	case stCrash:
		st.hHolds = false
	case stKill:
		st.dead, st.hHolds = true, false
	case stTryB:
		st.wasStale = st.stale()
		if !st.held {
			break
		}
		if st.seenMade != st.made || st.seenRefreshed != st.refreshed {
			st.seenMade, st.seenRefreshed, st.seenAt = st.made, st.refreshed, st.now
		}
		if !st.breakable() {
			st.want = ErrWouldBlock
			break
		}
		if st.held && st.hHolds {
			st.hLost = true
		}
		st.held = false // B took it and released it
	case stUnlockH:
		if st.hLost {
			st.want = ErrLockLost
		} else {
			st.held = false
		}
		st.hHolds, st.hLost = false, false
	}
	return st
}

type stResult struct {
	err   error
	stale bool // Inspect by B before the command's effect, for TryLock
	lost  bool // H's Lost channel is closed, for Heartbeat
}

func (c stCmd) Run(sut commands.SystemUnderTest) commands.Result {
	s := sut.(*stSUT)
	var r stResult
	switch c.op {
	case stAcquire:
		s.abandon()
		pid := 100 + len(s.dead) + 1
		s.dead[pid] = false
		l, err := New("/locks/x.lock", s.options(&stView{s.fs}, s.hFrozen, pid, modelStaleAfter)...)
		if err == nil {
			err = l.TryLock()
		}
		s.h, r.err = l, err
	case stAdvance:
		s.clock.Advance(c.d)
	case stHeartbeat:
		if fh, ok := s.h.held.(*fileHeld); ok {
			fh.mu.Lock()
			lost := fh.isLost
			fh.mu.Unlock()
			r.lost = lost || !fh.beat()
		}
	case stCrash:
		s.abandon()
	case stKill:
		for pid := range s.dead {
			s.dead[pid] = true // only the latest holder can still be alive
		}
		s.abandon()
	case stTryB:
		var err error
		if s.b == nil {
			s.b, err = New("/locks/x.lock", s.options(s.bView, s.clock, 1, s.bStale)...)
		}
		if err == nil {
			st, ierr := s.b.Inspect()
			r.stale = ierr == nil && st.Stale
			err = s.b.TryLock()
			if err == nil {
				err = s.b.Unlock()
			}
		}
		r.err = err
	case stUnlockH:
		r.err = s.h.Unlock()
		s.h = nil
	}
	return r
}

func (c stCmd) PostCondition(s commands.State, res commands.Result) *gopter.PropResult {
	st, r := s.(stState), res.(stResult)
	switch {
	case c.op == stTryB && st.want == nil && errors.Is(r.err, ErrWouldBlock):
		return fail("late: %v did not break a stale lock (now %v, refreshed %v, dead %v)", c, st.now, st.refreshed, st.dead)
	case st.want == nil && r.err != nil:
		return fail("%v failed: %v (model: now %v, refreshed %v, dead %v)", c, r.err, st.now, st.refreshed, st.dead)
	case st.want != nil && !errors.Is(r.err, st.want):
		if errors.Is(st.want, ErrWouldBlock) && r.err == nil {
			return fail("early: %v broke a lock that is not stale (now %v, refreshed %v, dead %v)", c, st.now, st.refreshed, st.dead)
		}
		return fail("%v returned %v, model says %v (now %v, refreshed %v, dead %v)", c, r.err, st.want, st.now, st.refreshed, st.dead)
	case c.op == stTryB && r.stale != st.wasStale:
		return fail("inspect: stale=%v, model says %v (now %v, refreshed %v, dead %v)", r.stale, st.wasStale, st.now, st.refreshed, st.dead)
	}
	if c.op == stHeartbeat && r.lost != st.hLost {
		return fail("heartbeat: found lost=%v, model says %v", r.lost, st.hLost)
	}
	return pass()
}

// staleModel is the model's property for strategy s, with the contender
// using the stale-after age bStale.
func staleModel(s Strategy, bStale time.Duration) gopter.Prop {
	// A start with nanoseconds, so that the simulated filesystem's
	// timestamps never look whole-second (which would add slack).
	start := time.Date(2030, 1, 1, 0, 0, 0, 123456789, time.UTC)
	return commands.Prop(&commands.ProtoCommands{
		InitialStateGen: gen.Const(stState{}),
		NewSystemUnderTestFunc: func(commands.State) commands.SystemUnderTest {
			k := clock.NewFake(start)
			m := memfs.New(k)
			if err := m.MkdirAll("/locks", 0o755); err != nil {
				panic(err)
			}
			return &stSUT{strategy: s, bStale: bStale, clock: k, fs: m, bView: &stView{m}, hFrozen: clock.NewFake(start), dead: map[int]bool{}}
		},
		DestroySystemUnderTestFunc: func(sut commands.SystemUnderTest) { sut.(*stSUT).abandon() },
		GenCommandFunc: func(commands.State) gopter.Gen {
			return gen.Weighted([]gen.WeightedGen{
				{Weight: 3, Gen: gen.Const(stCmd{op: stAcquire})},
				{Weight: 5, Gen: gen.IntRange(1, 12).Map(func(n int) commands.Command {
					return stCmd{op: stAdvance, d: time.Duration(n) * 500 * time.Millisecond}
				})},
				{Weight: 3, Gen: gen.Const(stCmd{op: stHeartbeat})},
				{Weight: 1, Gen: gen.Const(stCmd{op: stCrash})},
				{Weight: 1, Gen: gen.Const(stCmd{op: stKill})},
				{Weight: 5, Gen: gen.Const(stCmd{op: stTryB})},
				{Weight: 2, Gen: gen.Const(stCmd{op: stUnlockH})},
			})
		},
	})
}
