//go:build unix

package filelock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func init() {
	// stale-hold: take the lock with FILELOCK_TEST_STALE as stale-after
	// age, say "locked", then answer commands read from stdin:
	// "lost?" waits up to five seconds for Lost, "held?" up to one, and
	// says "lost" or "held"; "unlock" unlocks and says "unlocked", "unlock: lost" or the
	// error, and exits.
	childRoles["stale-hold"] = func() error {
		stale, err := time.ParseDuration(envOf("FILELOCK_TEST_STALE"))
		if err != nil {
			return err
		}
		l, err := New(envOf("FILELOCK_TEST_LOCK"), childOptions(WithStaleAfter(stale))...)
		if err != nil {
			return err
		}
		if err := l.Lock(); err != nil {
			return err
		}
		fmt.Println("locked")
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			switch cmd := in.Text(); cmd {
			case "lost?", "held?":
				wait := 5 * time.Second
				if cmd == "held?" {
					wait = time.Second
				}
				select {
				case <-l.Lost():
					fmt.Println("lost")
				case <-time.After(wait):
					fmt.Println("held")
				}
			case "unlock":
				switch err := l.Unlock(); {
				case err == nil:
					fmt.Println("unlocked")
				case errors.Is(err, ErrLockLost):
					fmt.Println("unlock: lost")
				default:
					fmt.Println("unlock:", err)
				}
				return nil
			}
		}
		return in.Err()
	}
	// storm: until the file "stop" exists in FILELOCK_TEST_DIR, take the
	// lock, enter (create "inside" exclusively: failing means two holders),
	// increment "counter", say "inc", and one time in
	// FILELOCK_TEST_KILL_ONE_IN leave and SIGKILL itself while holding the
	// lock; otherwise leave and unlock.
	childRoles["storm"] = func() error {
		dir := envOf("FILELOCK_TEST_DIR")
		oneIn, err := strconv.Atoi(envOf("FILELOCK_TEST_KILL_ONE_IN"))
		if err != nil {
			return err
		}
		opts := []Option{WithStrategy(childStrategy()), WithStaleAfter(time.Hour), WithBackoff(100*time.Microsecond, 5*time.Millisecond)}
		if os.Getenv("FILELOCK_TEST_NAIVE") != "" {
			opts = append(opts, withMechanism(losingNaiveBreaking))
		}
		if os.Getenv("FILELOCK_TEST_BARGING") != "" {
			// Every waiter tries, and so breaks, at once; in turn, only
			// the first in the queue does.
			opts = append(opts, WithBarging())
		}
		l, err := New(filepath.Join(dir, "x.lock"), opts...)
		if err != nil {
			return err
		}
		inside, counter := filepath.Join(dir, "inside"), filepath.Join(dir, "counter")
		for {
			if _, err := os.Stat(filepath.Join(dir, "stop")); err == nil {
				return nil
			}
			if err := l.Lock(); err != nil {
				return err
			}
			f, err := os.OpenFile(inside, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				fmt.Println("violation:", err)
				os.Exit(3)
			}
			f.Close()
			if err := increment(counter); err != nil {
				return err
			}
			fmt.Println("inc")
			if err := os.Remove(inside); err != nil {
				return err
			}
			if rand.N(oneIn) == 0 {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
			if err := l.Unlock(); err != nil {
				return err
			}
		}
	}
}

// holderChild is a running stale-hold child.
type holderChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startStaleHolder(t *testing.T, s Strategy, path string, stale time.Duration, env ...string) *holderChild {
	t.Helper()
	cmd := childCommand(t, "stale-hold", append(env, "FILELOCK_TEST_LOCK="+path,
		"FILELOCK_TEST_STRATEGY="+s.String(), "FILELOCK_TEST_STALE="+stale.String())...)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	h := &holderChild{cmd: cmd, in: in, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		h.cmd.Process.Signal(syscall.SIGCONT)
		h.in.Close()
		_ = h.cmd.Wait()
	})
	require.Equal(t, "locked", h.ask(t, ""))
	return h
}

// ask sends a command (if any) and returns the child's next line.
func (h *holderChild) ask(t *testing.T, cmd string) string {
	t.Helper()
	if cmd != "" {
		_, err := fmt.Fprintln(h.in, cmd)
		require.NoError(t, err)
	}
	line, err := h.out.ReadString('\n')
	require.NoError(t, err)
	return strings.TrimSuffix(line, "\n")
}

func (h *holderChild) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, h.cmd.Process.Signal(sig))
}

// TestStoppedHolderKeepsFreshLock: a holder stopped with SIGSTOP for less
// than the stale-after age less one heartbeat interval (2 s of 6 - 2)
// keeps its lock: no waiter breaks it, and it unlocks normally when
// resumed.
func TestStoppedHolderKeepsFreshLock(t *testing.T) {
	t.Parallel() // a slow process test (main_test.go)
	const stale = 6 * time.Second
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			h := startStaleHolder(t, s, path, stale)
			h.signal(t, syscall.SIGSTOP)
			l := newLock(t, path, WithStrategy(s), WithStaleAfter(stale))
			for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
				require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "a fresh lock of a stopped holder is never broken")
			}
			h.signal(t, syscall.SIGCONT)
			require.Equal(t, "held", h.ask(t, "held?"))
			require.Equal(t, "unlocked", h.ask(t, "unlock"))
			require.Empty(t, dirEntries(t, dir))
		})
	}
}

// TestStoppedHolderLearnsLoss: a holder stopped for longer than the
// stale-after age loses its lock to a waiter; resumed, its heartbeat
// reports the loss, and its Unlock returns ErrLockLost without removing
// its successor's lock. With fair locks the same: the stopped holder's
// ticket, first in the queue, ages like its lock and is removed.
//
// On Linux the waiters' slow polls and rechecks are made hours long: a
// lock file or ticket turning stale by age raises no event, so a waiter
// must judge it again when its last judgement said it would turn stale.
//
// Its cases run in parallel with each other (they wait more than they
// work), and with nothing else: the test is not parallel, and so the
// values it sets stay set until its cases end.
func TestStoppedHolderLearnsLoss(t *testing.T) {
	const stale = 2 * time.Second
	f, a := trustedPollFactor, aliveRecheck
	t.Cleanup(func() { trustedPollFactor, aliveRecheck = f, a })
	trustedPollFactor, aliveRecheck = 1<<20, time.Hour
	for _, s := range []Strategy{Soft, Link} {
		for _, fair := range []bool{false, true} {
			name := s.String()
			var env []string
			opts := []Option{WithStrategy(s), WithStaleAfter(stale), WithTimeout(time.Minute)}
			if fair {
				name += "/fair"
				env = append(env, "FILELOCK_TEST_FAIR=1")
				opts = append(opts, WithFair())
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				testStoppedHolderLearnsLoss(t, s, stale, env, opts)
			})
		}
	}
}

func testStoppedHolderLearnsLoss(t *testing.T, s Strategy, stale time.Duration, env []string, opts []Option) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	h := startStaleHolder(t, s, path, stale, env...)
	h.signal(t, syscall.SIGSTOP)
	l := newLock(t, path, opts...)
	start := time.Now()
	require.NoError(t, l.Lock(), "the stopped holder's lock grows stale and is broken")
	require.GreaterOrEqual(t, time.Since(start), stale/2, "not broken while fresh")
	h.signal(t, syscall.SIGCONT)
	require.Equal(t, "lost", h.ask(t, "lost?"), "the heartbeat finds the loss")
	require.Equal(t, "unlock: lost", h.ask(t, "unlock"))
	st, err := Inspect(path, WithStrategy(s))
	require.NoError(t, err)
	require.Equal(t, os.Getpid(), st.Holder.PID, "the successor's lock is still there")
	require.NoError(t, l.Unlock())
	require.Empty(t, dirEntries(t, dir))
}

// TestKilledHolderTakenOverAtOnce: a holder killed with SIGKILL is dead
// on this host, so a waiter takes its lock over without waiting for the
// (here one hour) stale-after age. On Linux the waiter's slow poll is made
// hours long: the death itself must wake it (the kernel closes the lock
// file the holder kept open, an event for the watching waiter).
func TestKilledHolderTakenOverAtOnce(t *testing.T) {
	skipWithoutDeadRule(t)
	defer func(f time.Duration) { trustedPollFactor = f }(trustedPollFactor)
	trustedPollFactor = 1 << 20
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			h := startStaleHolder(t, s, path, time.Hour)
			l := newLock(t, path, WithStrategy(s), WithStaleAfter(time.Hour), WithTimeout(time.Minute))
			require.ErrorIs(t, l.TryLock(), ErrWouldBlock)
			got := make(chan error, 1)
			go func() { got <- l.Lock() }()
			h.signal(t, syscall.SIGKILL)
			killed := time.Now()
			require.NoError(t, recv(t, got))
			t.Logf("taken over %v after the kill", time.Since(killed).Round(time.Millisecond))
			require.NoError(t, l.Unlock())
			require.Empty(t, dirEntries(t, dir))
		})
	}
}

// stormRounds is the number of holders killed per strategy in
// TestBreakerStorm; FILELOCK_STORM_ROUNDS raises it for longer runs.
func stormRounds(t *testing.T) int {
	if v := os.Getenv("FILELOCK_STORM_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "FILELOCK_STORM_ROUNDS")
		return n
	}
	if testing.Short() {
		return 20
	}
	return 60
}

// stormResult is what a breaker storm saw.
type stormResult struct {
	kills, incs int
	violation   string // the first report of two workers inside, or of a failed worker
}

// runStorm runs workers storm workers on dir until rounds holders have been
// killed, or until one reports a violation or fails. With naive set the
// workers break stale locks by the check-then-unlink of naiveBreaker, on
// its worst schedule (losingNaiveBreaking).
func runStorm(t *testing.T, s Strategy, dir string, rounds int, naive bool, extraEnv ...string) stormResult {
	t.Helper()
	const workers = 8
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rounds)*time.Second+time.Minute)
	defer cancel()
	var (
		mu      sync.Mutex
		res     stormResult
		wg      sync.WaitGroup
		stopped bool
		stopErr error
	)
	stop := func() { // with mu held
		if !stopped {
			stopped = true
			stopErr = os.WriteFile(filepath.Join(dir, "stop"), nil, 0o644)
		}
	}
	env := append([]string{"FILELOCK_TEST_DIR=" + dir, "FILELOCK_TEST_STRATEGY=" + s.String(), "FILELOCK_TEST_KILL_ONE_IN=4"}, extraEnv...)
	if naive {
		env = append(env, "FILELOCK_TEST_NAIVE=1", "FILELOCK_TEST_BARGING=1")
	}
	// spawn starts a worker; it is called with mu held.
	var spawn func()
	spawn = func() {
		cmd := childCommand(t, "storm", env...)
		out, err := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			res.violation = "starting a worker: " + err.Error()
			stop()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				mu.Lock()
				if sc.Text() == "inc" {
					res.incs++
				} else if res.violation == "" {
					res.violation = sc.Text()
					stop()
				}
				mu.Unlock()
			}
			err := cmd.Wait()
			mu.Lock()
			defer mu.Unlock()
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
				res.kills++
				if res.kills < rounds && !stopped && ctx.Err() == nil {
					spawn()
				} else {
					stop()
				}
				return
			}
			if err != nil && res.violation == "" {
				res.violation = fmt.Sprintf("worker: %v: %s", err, stderr.String())
				stop()
			}
		}()
	}
	mu.Lock()
	for range workers {
		spawn()
	}
	mu.Unlock()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		mu.Lock()
		t.Fatalf("round %d of %d did not recover: %s", res.kills, rounds, dirEntries(t, dir))
	}
	require.NoError(t, stopErr)
	return res
}

// TestBreakerStorm: worker processes contend for a lock and, now and then,
// one is SIGKILLed while holding it, so that all the others become
// breakers of its lock at once. Over every round at most one worker is
// inside (an exclusively created occupancy file) and the shared counter is
// exact; every round recovers (a stuck round fails the test's deadline).
// Barging workers all try, and so break, at once; in turn (the default
// under contention) the queue's debris of killed waiters is tidied too.
func TestBreakerStorm(t *testing.T) {
	t.Parallel() // a slow process test (main_test.go)
	skipWithoutDeadRule(t)
	rounds := stormRounds(t)
	for _, tc := range []struct {
		s       Strategy
		barging bool
	}{{Soft, false}, {Link, false}, {Soft, true}} {
		name := tc.s.String() + map[bool]string{false: "", true: "/barging"}[tc.barging]
		t.Run(name, func(t *testing.T) {
			s, dir := tc.s, t.TempDir()
			res := runStorm(t, s, dir, rounds, false, "FILELOCK_TEST_BARGING="+map[bool]string{false: "", true: "1"}[tc.barging])
			require.Empty(t, res.violation)
			require.GreaterOrEqual(t, res.kills, rounds)
			require.Equal(t, res.incs, readCounter(t, filepath.Join(dir, "counter")), "every increment under the lock counted")
			t.Logf("%d holders killed, %d acquisitions", res.kills, res.incs)
			// The last holder may have been killed: one more acquisition
			// breaks its lock, and then nothing is left but the data.
			l := newLock(t, filepath.Join(dir, "x.lock"), WithStrategy(s), WithStaleAfter(time.Hour), WithTimeout(time.Minute))
			require.NoError(t, l.Lock())
			require.NoError(t, l.Unlock())
			require.Equal(t, "counter,stop", dirEntries(t, dir))
		})
	}
}

// TestBreakerStormCatchesNaiveBreaker: the same storm with the breaker of
// the libraries this package is measured against — judge stale, then
// unlink by path — ends in two holders at once, and the storm reports it.
// This shows that the storm's checks can fail. The breakers lose their
// race on purpose (losingNaiveBreaking): left to chance, the race was
// once lost in none of 500 kills on an idle machine.
func TestBreakerStormCatchesNaiveBreaker(t *testing.T) {
	skipWithoutDeadRule(t)
	res := runStorm(t, Soft, t.TempDir(), 500, true)
	// Either two workers were inside at once, or a worker found at release
	// that its lock had been removed under it by a breaker.
	require.Regexp(t, `^violation:|lock was lost while held`, res.violation,
		"%d rounds with a naive breaker and no violation seen", res.kills)
	t.Logf("after %d kills: %s", res.kills, res.violation)
}
