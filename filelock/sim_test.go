package filelock

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/fsys/memfs"
	"github.com/lockstress/lockstress/internal/proc"
)

// Simulated interleavings. Several simulated processes run the real lock
// code, each in its own goroutine with its own handle, over one in-memory
// filesystem (memfs) and one simulated clock. Every file operation, and
// every wait between attempts, is one step: the process blocks until the
// scheduler lets it take the step, or crashes it there. The scheduler
// follows a sequence of actions that gopter generates (and shrinks): let a
// process take its next step, crash a process at its next step (a new
// process with a new identity takes its place; the dead one's files stay),
// jump the clock, or remove the lock file from outside. After every action
// the invariants are checked:
//
//   - mutual exclusion: at most one live process is in its critical
//     section with a claim on the lock;
//   - no live lock is removed: no process removes or replaces the lock file
//     that another live process made and has not lost, and the lock path
//     still names the file of every process in its critical section;
//   - every Lock and Unlock returns what the model expects: success, or
//     ErrLockLost for a lock that was taken away.
//
// A process is a goroutine, not a process: these tests prove properties of
// the algorithm over every interleaving of its file operations; the
// multi-process tests prove that the real system calls behave as memfs
// does.
//
// Each process has its own view of the filesystem (a distinct fsys.FS
// value), so the in-process table, keyed by filesystem, never excludes
// one simulated process from another.

// simProcs is the number of processes that compete in a simulation.
const simProcs = 3

// simConfig says what a simulation runs.
type simConfig struct {
	strategy Strategy
	// variant, if set, replaces each handle's mechanism by a deliberately
	// broken one made from it.
	variant func(mechanism) mechanism
	// removals lets the sequence remove the lock file from outside: an
	// operator, or a breaker that judged the holder stale. Its holder then
	// has no claim left and must see ErrLockLost at Unlock.
	removals bool
	// counts, if set, adds up what happened in every run, so that a test
	// can show that its runs did acquire, lose and crash.
	counts *simCounts
}

// simCounts are events summed over simulated runs.
type simCounts struct {
	acquired, lost, crashed int
}

type simKind int

const (
	simStep   simKind = iota // the process takes its next step
	simCrash                 // the process dies before its next step
	simJump                  // the clock jumps forward
	simRemove                // the lock file is removed from outside
)

// simAction is one element of a generated sequence.
type simAction struct {
	Kind simKind
	Proc int
	Jump time.Duration
}

func (a simAction) String() string {
	switch a.Kind {
	case simStep:
		return fmt.Sprintf("p%d", a.Proc)
	case simCrash:
		return fmt.Sprintf("crash-p%d", a.Proc)
	case simJump:
		return fmt.Sprintf("jump-%v", a.Jump)
	}
	return "remove"
}

// simActions generates action sequences, mostly steps.
func simActions(removals bool) gopter.Gen {
	pg := gen.IntRange(0, simProcs-1)
	gens := []gen.WeightedGen{
		{Weight: 40, Gen: pg.Map(func(p int) simAction { return simAction{Kind: simStep, Proc: p} })},
		{Weight: 1, Gen: pg.Map(func(p int) simAction { return simAction{Kind: simCrash, Proc: p} })},
		{Weight: 1, Gen: gen.IntRange(1, 600).Map(func(s int) simAction {
			return simAction{Kind: simJump, Jump: time.Duration(s) * time.Second}
		})},
	}
	if removals {
		gens = append(gens, gen.WeightedGen{Weight: 2, Gen: gen.Const(simAction{Kind: simRemove})})
	}
	return gen.SliceOf(gen.Weighted(gens))
}

// simProp is the property that no generated sequence breaks an invariant.
func simProp(cfg simConfig) gopter.Prop {
	return prop.ForAll(func(actions []simAction) *gopter.PropResult {
		w := newSimWorld(cfg)
		if err := w.run(actions); err != nil {
			return fail("%v\ntrace of the run:\n%s", err, strings.Join(w.trace, "\n"))
		}
		return pass()
	}, simActions(cfg.removals))
}

// simWorld is one simulated run.
type simWorld struct {
	cfg   simConfig
	fs    *memfs.FS
	clock *clock.Fake
	path  string

	procs   [simProcs]*simProc // the process in each place
	all     []*simProc         // every process ever started
	nextPID int

	// creator tells, for each file that became the lock file, which
	// process made it so; change says what last changed the lock path.
	creator map[fsys.FileID]*simProc
	change  string
	// moved holds the lock files a breaker has moved aside to look at
	// them and that are not back: a live holder's file moved aside is not
	// yet lost, but it is if the breaker then removes it instead of
	// putting it back.
	moved map[fsys.FileID]*simProc
	// broken is set when a process removes a live process's lock file.
	broken error

	trace []string
}

func newSimWorld(cfg simConfig) *simWorld {
	k := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	w := &simWorld{cfg: cfg, fs: memfs.New(k), clock: k, path: "/locks/x.lock", creator: map[fsys.FileID]*simProc{}, moved: map[fsys.FileID]*simProc{}}
	if err := w.fs.MkdirAll(filepath.Dir(w.path), 0o755); err != nil {
		panic(err)
	}
	return w
}

// options are the lock options of process p: its own view of the shared
// filesystem and of the simulated clock, and its own identity, with a
// liveness check that asks the world, so that the dead-holder rule judges
// simulated processes, not this one: a crashed process is dead, and its
// lock is broken by the others under the break protocol. Age-based
// breaking is off (so is the heartbeat, whose goroutine would ask for
// steps of its own).
func (w *simWorld) options(p *simProc) []Option {
	id := proc.Identity{PID: p.pid, Host: "sim", BootID: "sim-boot", PIDNS: "sim", Start: 1}
	liveness := func(id proc.Identity) proc.State {
		if w.alive(id.PID) {
			return proc.Alive
		}
		return proc.Dead
	}
	// WithBarging: the simulation proves the strategy's exclusion and its
	// breaker; the queue in front of it only orders acquisitions (its
	// tickets and turn marker are written from timer callbacks, which are
	// not steps of a process here).
	return []Option{WithStrategy(w.cfg.strategy), withFS(p.view), withClock(simClock{p}),
		withProcess(id, liveness), WithStaleAfter(0), WithBarging()}
}

// alive reports whether the process with the given pid is running.
func (w *simWorld) alive(pid int) bool {
	for _, p := range w.procs {
		if p.pid == pid {
			return !p.crashed
		}
	}
	return false
}

func (w *simWorld) count(f func(*simCounts)) {
	if w.cfg.counts != nil {
		f(w.cfg.counts)
	}
}

func (w *simWorld) tracef(format string, args ...any) {
	w.trace = append(w.trace, fmt.Sprintf("%4d  %s", len(w.trace), fmt.Sprintf(format, args...)))
}

// run starts the processes and follows the actions, checking the
// invariants after each. Whatever happens, it ends every process.
func (w *simWorld) run(actions []simAction) error {
	defer w.stop()
	for i := range w.procs {
		if err := w.spawn(i); err != nil {
			return err
		}
	}
	for i, a := range actions {
		if err := w.do(a); err != nil {
			return err
		}
		if err := w.check(); err != nil {
			return fmt.Errorf("after action %d (%v): %w", i, a, err)
		}
	}
	return nil
}

func (w *simWorld) do(a simAction) error {
	switch a.Kind {
	case simStep:
		p := w.procs[a.Proc]
		if p.ended {
			return nil
		}
		w.tracef("pid %d: %s", p.pid, p.pending)
		p.grant <- true
		return w.settle(p)
	case simCrash:
		p := w.procs[a.Proc]
		w.tracef("pid %d: crashes before %q", p.pid, p.pending)
		if !p.ended {
			p.grant <- false
			<-p.done
		}
		p.ended, p.crashed = true, true
		w.count(func(c *simCounts) { c.crashed++ })
		return w.spawn(a.Proc)
	case simJump:
		w.clock.Advance(a.Jump)
		w.tracef("clock jumps %v to %s", a.Jump, w.clock.Now().Format(time.TimeOnly))
	case simRemove:
		w.remove()
	}
	return nil
}

// spawn starts a new process in place i and lets it run to its first step.
func (w *simWorld) spawn(i int) error {
	w.nextPID++
	p := &simProc{w: w, pid: w.nextPID, place: i, grant: make(chan bool), req: make(chan string), done: make(chan struct{})}
	p.view = &simFS{p: p}
	l, err := New(w.path, w.options(p)...)
	if err != nil {
		return err
	}
	if w.cfg.variant != nil {
		l.mech = w.cfg.variant(l.mech)
	}
	p.lock = l
	w.procs[i] = p
	w.all = append(w.all, p)
	w.tracef("pid %d: starts", p.pid)
	go p.run()
	return w.settle(p)
}

// settle waits until p asks for its next step or ends. Between two steps a
// process only computes, so a process that does neither for long is stuck
// outside the scheduler's control: a bug of the harness or of the lock.
func (w *simWorld) settle(p *simProc) error {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	select {
	case p.pending = <-p.req:
	case <-p.done:
		p.ended, p.pending = true, ""
	case <-t.C:
		p.stuck = true
		return fmt.Errorf("pid %d is stuck outside a step", p.pid)
	}
	return nil
}

// remove removes the lock file from outside. The model does not remove a
// lock whose holder is releasing it: the release's check of its own file
// and its removal are two steps, and nothing can keep a remover out of that
// window but a protocol that both sides follow.
//
// The remover stands for a breaker that judged the holder stale (stopped
// for longer than the stale-after age), and breakers take the guard: it
// does not act while a guard file exists.
func (w *simWorld) remove() {
	info, err := w.fs.Lstat(w.path)
	if err != nil {
		return
	}
	if _, err := w.fs.Lstat(w.path + guardSuffix); err == nil {
		return
	}
	victim := w.creator[info.ID]
	if victim != nil && !victim.crashed && victim.releasing {
		return
	}
	if err := w.fs.Remove(w.path); err != nil {
		panic(err)
	}
	who := "nobody's"
	if victim != nil {
		victim.revoked = true
		who = fmt.Sprintf("pid %d's", victim.pid)
	}
	w.change = "removed from outside"
	w.tracef("%s lock file removed from outside", who)
}

// check tests the invariants.
func (w *simWorld) check() error {
	if w.broken != nil {
		return w.broken
	}
	var holders []*simProc
	for _, p := range w.procs {
		if p.err != nil {
			return fmt.Errorf("wrong result: pid %d: %w", p.pid, p.err)
		}
		if w.alive(p.pid) && p.inCS && !p.revoked {
			holders = append(holders, p)
		}
	}
	if len(holders) > 1 {
		var pids []string
		for _, p := range holders {
			pids = append(pids, fmt.Sprint(p.pid))
		}
		return fmt.Errorf("mutual exclusion: pids %s all hold the lock", strings.Join(pids, " and "))
	}
	for _, p := range holders {
		if _, aside := w.moved[p.held]; aside {
			continue // moved aside by a breaker that has yet to put it back
		}
		if info, err := w.fs.Lstat(w.path); err != nil || info.ID != p.held {
			return fmt.Errorf("live lock removed: the lock file of pid %d, which holds the lock, was removed or replaced (last change: %s)", p.pid, w.change)
		}
	}
	return nil
}

// stop ends every process that has not ended (it crashes them) and forgets
// their entries in the in-process table.
func (w *simWorld) stop() {
	for _, p := range w.all {
		if !p.ended && !p.stuck {
			p.grant <- false
			<-p.done
			p.ended = true
		}
		processLocks.forget(p.view)
	}
}

// simProc is one simulated process. Its fields are written by its
// goroutine only while the scheduler waits for it, and by the scheduler
// only while the goroutine waits for a step.
type simProc struct {
	w     *simWorld
	pid   int
	place int
	view  *simFS
	lock  *Lock

	req   chan string   // the process asks for a step, saying what it is
	grant chan bool     // the scheduler answers: take it (true) or crash (false)
	done  chan struct{} // closed when the goroutine ends

	pending string // the step it waits to take
	dying   bool   // crashed at a step: its goroutine takes no more
	ended   bool
	crashed bool
	stuck   bool

	inCS      bool        // in the critical section: it believes it holds the lock
	releasing bool        // inside Unlock
	held      fsys.FileID // what the lock path named when it entered
	revoked   bool        // its lock file was removed from outside
	err       error       // a result the model did not expect
}

// step blocks until the scheduler grants the step, or ends the goroutine
// there if the scheduler crashes the process.
// A crashed process takes no step after: the deferred calls that Goexit
// runs (a guard's release, say) end at their first step, as a real
// process killed there would never run them.
func (p *simProc) step(what string) {
	if p.dying {
		runtime.Goexit()
	}
	p.req <- what
	if !<-p.grant {
		p.dying = true
		runtime.Goexit()
	}
}

// run is the program of a process: acquire, hold for a step, release, and
// again. Even places block in Lock; odd ones retry TryLock.
func (p *simProc) run() {
	defer close(p.done)
	for {
		if err := p.acquire(); err != nil {
			p.err = fmt.Errorf("acquiring: %w", err)
			return
		}
		p.inCS = true
		p.w.count(func(c *simCounts) { c.acquired++ })
		if fh, ok := p.lock.held.(*fileHeld); ok {
			p.held = fh.id // the file it made, wherever a breaker has put it
		} else if info, err := p.w.fs.Lstat(p.w.path); err == nil {
			p.held = info.ID
		}
		p.step("work in the critical section")
		p.inCS, p.releasing = false, true
		err := p.lock.Unlock()
		revoked := p.revoked
		if revoked {
			p.w.count(func(c *simCounts) { c.lost++ })
		}
		p.releasing, p.revoked, p.held = false, false, fsys.FileID{}
		switch {
		case revoked && !errors.Is(err, ErrLockLost):
			p.err = fmt.Errorf("Unlock of a lock that was taken away returned %v, want ErrLockLost", err)
			return
		case !revoked && err != nil:
			p.err = fmt.Errorf("Unlock: %w", err)
			return
		}
	}
}

func (p *simProc) acquire() error {
	if p.place%2 == 0 {
		return p.lock.Lock()
	}
	for {
		err := p.lock.TryLock()
		if !errors.Is(err, ErrWouldBlock) {
			return err
		}
	}
}

// simFS is a process's view of the shared filesystem: every call is a step.
type simFS struct{ p *simProc }

func (v *simFS) CreateExcl(name string, perm fs.FileMode) (fsys.File, error) {
	v.p.step("create " + name)
	f, err := v.p.w.fs.CreateExcl(name, perm)
	if err != nil {
		return nil, err
	}
	v.p.w.made(v.p, name, "created")
	return &simFile{p: v.p, f: f}, nil
}

func (v *simFS) OpenRead(name string) (fsys.File, error) {
	v.p.step("open " + name)
	f, err := v.p.w.fs.OpenRead(name)
	if err != nil {
		return nil, err
	}
	return &simFile{p: v.p, f: f}, nil
}

func (v *simFS) Lstat(name string) (fsys.Info, error) {
	v.p.step("lstat " + name)
	return v.p.w.fs.Lstat(name)
}

func (v *simFS) Stat(name string) (fsys.Info, error) {
	v.p.step("stat " + name)
	return v.p.w.fs.Stat(name)
}

func (v *simFS) Remove(name string) error {
	v.p.step("remove " + name)
	owner := v.p.w.owner(name)
	if info, err := v.p.w.fs.Lstat(name); err == nil && strings.Contains(name, ".aside.") {
		if victim, ok := v.p.w.moved[info.ID]; ok {
			// A moved-aside lock file removed without being put back.
			delete(v.p.w.moved, info.ID)
			v.p.w.unmade(v.p, v.p.w.path, victim, "removed the moved-aside")
		}
	}
	err := v.p.w.fs.Remove(name)
	if err == nil {
		v.p.w.unmade(v.p, name, owner, "removed")
	}
	return err
}

func (v *simFS) Link(oldname, newname string) error {
	v.p.step("link " + oldname + " " + newname)
	err := v.p.w.fs.Link(oldname, newname)
	if err == nil {
		if info, lerr := v.p.w.fs.Lstat(oldname); lerr == nil {
			if _, ok := v.p.w.moved[info.ID]; ok && filepath.Clean(newname) == v.p.w.path {
				// A moved-aside lock file put back: its owner keeps it.
				delete(v.p.w.moved, info.ID)
				v.p.w.change = fmt.Sprintf("pid %d put it back", v.p.pid)
				return nil
			}
		}
		v.p.w.made(v.p, newname, "linked")
	}
	return err
}

func (v *simFS) Rename(oldname, newname string) error {
	v.p.step("rename " + oldname + " " + newname)
	from, to := v.p.w.owner(oldname), v.p.w.owner(newname)
	if info, err := v.p.w.fs.Lstat(oldname); err == nil && filepath.Clean(oldname) == v.p.w.path && strings.Contains(newname, ".aside.") {
		// A breaker moves the lock file aside to look at it: not a loss
		// unless it then removes it without putting it back.
		if err := v.p.w.fs.Rename(oldname, newname); err != nil {
			return err
		}
		v.p.w.moved[info.ID] = from
		v.p.w.change = fmt.Sprintf("pid %d moved it aside", v.p.pid)
		return nil
	}
	err := v.p.w.fs.Rename(oldname, newname)
	if err == nil {
		v.p.w.unmade(v.p, oldname, from, "renamed away")
		v.p.w.unmade(v.p, newname, to, "replaced")
		v.p.w.made(v.p, newname, "renamed")
	}
	return err
}

func (v *simFS) Touch(name string) error {
	v.p.step("touch " + name)
	return v.p.w.fs.Touch(name)
}

func (v *simFS) MkdirAll(name string, perm fs.FileMode) error {
	v.p.step("mkdir " + name)
	return v.p.w.fs.MkdirAll(name, perm)
}

func (v *simFS) Mkdir(name string, perm fs.FileMode) error {
	v.p.step("mkdir " + name)
	return v.p.w.fs.Mkdir(name, perm)
}

func (v *simFS) SyncDir(name string) error {
	v.p.step("syncdir " + name)
	return v.p.w.fs.SyncDir(name)
}

func (v *simFS) ReadDirNames(name string) ([]string, error) {
	v.p.step("readdir " + name)
	return v.p.w.fs.ReadDirNames(name)
}

// made records that p made name the lock file.
func (w *simWorld) made(p *simProc, name, how string) {
	if filepath.Clean(name) != w.path {
		return
	}
	if info, err := w.fs.Lstat(w.path); err == nil {
		w.creator[info.ID] = p
	}
	w.change = fmt.Sprintf("pid %d %s it", p.pid, how)
}

// owner returns the process that made the file at name the lock file, if
// name is the lock path and that process is known.
func (w *simWorld) owner(name string) *simProc {
	if filepath.Clean(name) != w.path {
		return nil
	}
	info, err := w.fs.Lstat(w.path)
	if err != nil {
		return nil
	}
	return w.creator[info.ID]
}

// unmade records that p took the lock file of owner away from the lock
// path. Taking the lock file of another live process that has a claim on
// it breaks its lock.
func (w *simWorld) unmade(p *simProc, name string, owner *simProc, how string) {
	if filepath.Clean(name) != w.path {
		return
	}
	w.change = fmt.Sprintf("pid %d %s it", p.pid, how)
	if owner != nil && owner != p && w.alive(owner.pid) && !owner.revoked && w.broken == nil {
		w.broken = fmt.Errorf("live lock removed: pid %d %s the lock file of pid %d, which is alive and has not lost it", p.pid, how, owner.pid)
	}
}

// simFile is an open file of a process: every call is a step.
type simFile struct {
	p *simProc
	f fsys.File
}

func (f *simFile) Read(b []byte) (int, error) {
	f.p.step("read")
	return f.f.Read(b)
}

func (f *simFile) Write(b []byte) (int, error) {
	f.p.step("write")
	return f.f.Write(b)
}

func (f *simFile) WriteAt(b []byte, off int64) (int, error) {
	f.p.step("write at")
	return f.f.WriteAt(b, off)
}

func (f *simFile) Stat() (fsys.Info, error) {
	f.p.step("fstat")
	return f.f.Stat()
}

func (f *simFile) Sync() error {
	f.p.step("fsync")
	return f.f.Sync()
}

func (f *simFile) Close() error {
	f.p.step("close")
	return f.f.Close()
}

// simClock is a process's view of the simulated clock. Waiting is a step:
// the timer has fired when the scheduler next lets the process run.
type simClock struct{ p *simProc }

func (c simClock) Now() time.Time { return c.p.w.clock.Now() }

func (c simClock) NewTimer(time.Duration) clock.Timer {
	c.p.step("wait")
	t := firedTimer(make(chan time.Time, 1))
	t <- c.Now()
	return t
}

// AfterFunc runs f when the simulated clock has advanced by d. (The
// simulations run without a heartbeat, the one user of AfterFunc: a
// callback's file operations would ask for steps from another goroutine.)
func (c simClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return c.p.w.clock.AfterFunc(d, f)
}

type firedTimer chan time.Time

func (t firedTimer) C() <-chan time.Time { return t }
func (t firedTimer) Stop() bool          { return false }

// forget drops the slots reached through f: a simulated process that
// crashed holding its slot never releases it.
func (t *table) forget(f fsys.FS) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.slots {
		if k.fs == f {
			delete(t.slots, k)
		}
	}
}
