//go:build linux

package filelock

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/notify"
)

func init() {
	// holdUntilEOF: take the lock, say "locked", and release it properly
	// when stdin closes.
	childRoles["holdUntilEOF"] = func() error {
		l, err := New(envOf("FILELOCK_TEST_LOCK"), childOptions()...)
		if err != nil {
			return err
		}
		if err := l.Lock(); err != nil {
			return err
		}
		os.Stdout.WriteString("locked\n")
		if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
			return err
		}
		return l.Unlock()
	}
}

// startReleasingHolder starts a child that holds the lock until release is
// called, then unlocks it and exits.
func startReleasingHolder(t *testing.T, s Strategy, path string, env ...string) (release func()) {
	t.Helper()
	cmd := childCommand(t, "holdUntilEOF", append(env, "FILELOCK_TEST_LOCK="+path, "FILELOCK_TEST_STRATEGY="+s.String())...)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "child: %s", stderr.String())
	require.Equal(t, "locked\n", line)
	done := false
	release = func() {
		if !done {
			done = true
			in.Close()
			require.NoError(t, cmd.Wait(), "child: %s", stderr.String())
		}
	}
	t.Cleanup(release)
	return release
}

// startFakeClockWaiter starts the acquisition of a new handle on path
// whose clock is fake and whose backoff is an hour, so that only an event,
// or the test moving the clock, ends its waits; with WithPolling if
// polling. It returns the handle, its clock, the acquisition's result and
// the cancellation of its context.
func startFakeClockWaiter(t *testing.T, path string, polling bool, opts ...Option) (*Lock, *clock.Fake, <-chan error, context.CancelFunc) {
	t.Helper()
	fake := clock.NewFake(time.Now())
	opts = append(opts, withClock(fake), WithBackoff(time.Hour, time.Hour))
	if polling {
		opts = append(opts, WithPolling())
	}
	l := newLock(t, path, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	return l, fake, lockAsync(ctx, l), cancel
}

// TestEventWakesWaiter: a waiter whose clock never moves (so its backoff
// timer never fires) acquires the lock as soon as another process releases
// it, woken by the event of the release alone. With WithPolling the same
// waiter stays waiting until its timer fires, which shows that the event,
// not a poll, woke it.
func TestEventWakesWaiter(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		for _, polling := range []bool{false, true} {
			name := map[bool]string{false: "events", true: "polling"}[polling]
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "x.lock")
				release := startReleasingHolder(t, s, path)
				l, fake, done, cancel := startFakeClockWaiter(t, path, polling, WithStrategy(s))
				defer cancel()
				if polling || s.fileBased() {
					waitForTimer(t, fake, done, "found the lock busy and waited")
				} else {
					waitForLockSyscall(t, s) // it waits in the kernel
				}
				release()
				if polling {
					select {
					case err := <-done:
						t.Fatalf("a polling waiter acquired without its timer firing: %v", err)
					case <-time.After(100 * time.Millisecond):
					}
					fake.Advance(time.Hour)
				}
				requireAcquired(t, done, "the waiter was not woken by the release")
				require.NoError(t, l.Unlock())
			})
		}
	})
}

// TestWaiterCancelLeavesNothing: a waiter that is watching gives up on
// cancellation at once, leaving no descriptor, goroutine or file behind
// (goleak checks the goroutines at the end of the package).
func TestWaiterCancelLeavesNothing(t *testing.T) {
	count := func() int {
		notify.Settle() // closed watchers release their descriptors in the background
		ents, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(ents)
	}
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		for _, fair := range []bool{false, true} {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			var env []string
			if fair {
				env = append(env, "FILELOCK_TEST_FAIR=1")
			}
			base := count()
			release := startReleasingHolder(t, s, path, env...)
			before := count()
			opts := []Option{WithStrategy(s)}
			if fair {
				opts = append(opts, WithFair())
			}
			l := newLock(t, path, opts...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			err := l.LockContext(ctx)
			cancel()
			require.ErrorIs(t, err, ErrTimeout)
			inKernel := !s.fileBased() && !fair
			if inKernel {
				// The abandoned wait in the kernel keeps its descriptor
				// until it wins the lock, which it then releases.
				require.Equal(t, 1, kernelWaits.pending())
				require.Equal(t, before+1, count())
			} else {
				require.Equal(t, before, count(), "fair=%v", fair)
			}
			if fair {
				require.Equal(t, 1, queueLen(t, path), "only the holder's ticket is left")
			}
			release()
			if inKernel {
				require.Eventually(t, func() bool { return kernelWaits.pending() == 0 }, 10*time.Second, time.Millisecond)
				require.Equal(t, base, count(), "the wait's descriptor is closed")
			}
			require.NoDirExists(t, path+queueSuffix, "fair=%v: the queue is gone", fair)
			if !s.fileBased() {
				require.NoError(t, os.Remove(path)) // the kept lock file
			}
			require.Empty(t, dirEntries(t, dir))
		}
	})
}

// TestFairDeathAheadIsAnEvent: a fair waiter behind a waiter of this host
// that is killed learns of the death from the close of the dead waiter's
// ticket, not from its recheck (aliveRecheck): its clock is moved on only
// to the timers it sets that fall within a fifth of that after the kill
// (the rechecks of a dying waiter), and its backoff is longer still. With
// WithPolling, the same waiter does not get past the dead one, which shows
// that the event is what moved it on. The clock follows the waiter, not
// the time a loaded machine takes.
func TestFairDeathAheadIsAnEvent(t *testing.T) {
	for _, polling := range []bool{false, true} {
		name := map[bool]string{false: "events", true: "polling"}[polling]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			release := startReleasingHolder(t, Soft, path, "FILELOCK_TEST_FAIR=1")
			ahead, stderr := startFairAppend(t, Soft, path, filepath.Join(dir, "order"), 1)
			waitQueueLen(t, path, 2)

			l, fake, done, cancel := startFakeClockWaiter(t, path, polling, WithFair())
			defer cancel()
			waitQueueLen(t, path, 3)
			// It judged the waiter ahead alive and waits: two timers, its
			// ticket's refresh and its wait.
			require.Eventually(t, func() bool { return fake.Pending() == 2 }, 30*time.Second, time.Millisecond)

			require.NoError(t, ahead.Process.Kill())
			require.Error(t, ahead.Wait(), "waiter ahead: %s", stderr)
			release()

			killed, budget := fake.Now(), aliveRecheck/5
			// A polling waiter has no timer within the budget: nothing can
			// move it, and a short look is enough to see it stay.
			giveUp := time.After(map[bool]time.Duration{false: testLockWait, true: time.Second}[polling])
			for {
				select {
				case err := <-done:
					require.False(t, polling, "a polling waiter got past a dead waiter without its recheck")
					require.NoError(t, err)
					require.NoError(t, l.Unlock())
					require.NoDirExists(t, path+queueSuffix)
					return
				case <-giveUp:
					require.True(t, polling, "the waiter did not get past the dead waiter ahead (its clock moved %v; timers pending: %v)",
						fake.Now().Sub(killed), fake.Deadlines())
					cancel()
					require.ErrorIs(t, recv(t, done), context.Canceled)
					return
				case <-time.After(time.Millisecond):
				}
				if d := fake.Deadlines(); len(d) > 0 && fake.Now().Add(d[0]).Sub(killed) <= budget {
					fake.Advance(d[0])
				}
			}
		})
	}
}

// TestOSWaitsInKernel: an os or ofd waiter, whether its wait can be
// cancelled (a deadline) or not, waits in the kernel (a thread of this
// process is in flock or in fcntl F_OFD_SETLKW on the lock) and is handed
// the lock at the release, though its clock never moves, so no poll could
// have found it free.
func TestOSWaitsInKernel(t *testing.T) {
	for _, s := range []Strategy{OS, OFD} {
		for _, deadline := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/deadline=%v", s, deadline), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "x.lock")
				release := startReleasingHolder(t, s, path)
				l := newLock(t, path, WithStrategy(s), withClock(clock.NewFake(time.Now())), WithBackoff(time.Hour, time.Hour))
				ctx := context.Background()
				if deadline {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Minute)
					defer cancel()
				}
				done := lockAsync(ctx, l)
				waitForLockSyscall(t, s)
				release()
				requireAcquired(t, done, "the waiter was not handed the lock")
				require.Zero(t, kernelWaits.pending(), "the wait passed to the holder")
				require.NoError(t, l.Unlock())
			})
		}
	}
}

// waitForLockSyscall waits until a thread of this process is in the
// system call that waits for a lock of strategy s.
func waitForLockSyscall(t *testing.T, s Strategy) {
	t.Helper()
	want := fmt.Sprintf("%d ", unix.SYS_FLOCK)
	if s == OFD {
		want = fmt.Sprintf("%d 0x", unix.SYS_FCNTL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tasks, err := os.ReadDir("/proc/self/task")
		require.NoError(t, err)
		for _, task := range tasks {
			b, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "syscall"))
			if err != nil {
				continue // the thread ended
			}
			f := strings.Fields(string(b))
			if !strings.HasPrefix(string(b), want) || len(f) < 3 {
				continue
			}
			if s == OFD && f[2] != fmt.Sprintf("%#x", unix.F_OFD_SETLKW) {
				continue
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("no thread waits for the lock in the kernel")
}

// TestLinkKeepsOnlyItsOwnFile: if the lock path names another file by the
// time a link holder looks at it after linking (a holder stopped past the
// stale-after age in between, or a lock file removed by hand), the holder
// neither keeps that file open nor takes it for its own: its release
// removes nothing and reports ErrLockLost.
func TestLinkKeepsOnlyItsOwnFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	other := []byte("another holder's lock file\n")
	linkedHook = func(p string) {
		require.NoError(t, os.Remove(p))
		require.NoError(t, os.WriteFile(p, other, 0o644))
	}
	defer func() { linkedHook = nil }()
	l := newLock(t, path, WithStrategy(Link))
	require.True(t, l.keepsOpen(), "a filesystem where holders keep their files open")
	require.NoError(t, lockWithin(l))
	linkedHook = nil
	require.ErrorIs(t, l.Unlock(), ErrLockLost)
	got, err := os.ReadFile(path)
	require.NoError(t, err, "the other holder's file was removed")
	require.Equal(t, other, got)
}

// flockTool runs flock(1) on path as a shell script would: it opens the
// file read-only on descriptor 9, takes it exclusively, says "locked",
// and then runs the steps, each after a line read from its standard input,
// saying "done" after each.
func flockTool(t *testing.T, path string, steps ...string) (io.WriteCloser, *bufio.Reader) {
	t.Helper()
	flockBin, err := exec.LookPath("flock")
	if err != nil {
		t.Fatal("flock(1) missing: run scripts/setup-deps, which installs it")
	}
	script := `exec 9<"$1"; "$2" -x 9; echo locked`
	for _, s := range steps {
		script += "; read go; " + s + "; echo done"
	}
	cmd := exec.Command("/bin/sh", "-c", script+"; read go", "sh", path, flockBin)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)
	return in, r
}

// TestForeignFlockReleaseSeen: an os waiter whose wait can be cancelled
// waits in the kernel and is handed the lock by flock(1) both ways it can
// release it, closing its read-only descriptor or "flock -u" without a
// close (which raises no event), although its clock never moves.
func TestForeignFlockReleaseSeen(t *testing.T) {
	for name, step := range map[string]string{"close": "exec 9<&-", "unlock": `"$2" -u 9`} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			in, out := flockTool(t, path, step)
			fake := clock.NewFake(time.Now())
			l := newLock(t, path, WithStrategy(OS), withClock(fake))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := lockAsync(ctx, l)
			waitForLockSyscall(t, OS)
			_, err := fmt.Fprintln(in, "go")
			require.NoError(t, err)
			line, err := out.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "done\n", line)
			requireAcquired(t, done, "the waiter did not see the release")
			require.NoError(t, l.Unlock())
		})
	}
}

// TestFairWaiterDoesNotWakeItself: a fair waiter behind a live holder
// reads the holder's ticket to judge it, and that read must not wake its
// own watch of the ticket. Its clock never moves, so only events can make
// it look again; the ticket is opened once or twice by the judgement and
// then left alone, where a waiter woken by its own read would open it
// again and again.
func TestFairWaiterDoesNotWakeItself(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	release := startReleasingHolder(t, Soft, path, "FILELOCK_TEST_FAIR=1")
	defer release()
	waitQueueLen(t, path, 1)
	names, err := os.ReadDir(path + queueSuffix)
	require.NoError(t, err)
	opens := countOpens(t, filepath.Join(path+queueSuffix, names[0].Name()))

	l, fake, done, cancel := startFakeClockWaiter(t, path, false, WithFair())
	defer cancel()
	require.Eventually(t, func() bool { return fake.Pending() == 2 }, 30*time.Second, time.Millisecond)
	// A waiter woken by its own read opens the ticket again at once, many
	// times a millisecond; a busy machine can only make it spin less in
	// this window, never make a waiter that does not spin fail.
	time.Sleep(200 * time.Millisecond)
	require.LessOrEqual(t, opens(), 2, "the waiter opened the ticket ahead again without an event")

	release()
	require.NoError(t, recv(t, done))
	require.NoError(t, l.Unlock())
}

// countOpens returns a function that says how many times path has been
// opened since countOpens was called.
func countOpens(t *testing.T, path string) func() int {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	// Closes are watched too: inotify merges an event into an identical
	// one still unread, and opens alone would all be identical.
	_, err = unix.InotifyAddWatch(fd, path, unix.IN_OPEN|unix.IN_CLOSE)
	require.NoError(t, err)
	n := 0
	return func() int {
		buf := make([]byte, 64*unix.SizeofInotifyEvent)
		for {
			k, err := unix.Read(fd, buf)
			if err != nil || k <= 0 {
				return n
			}
			for off := 0; off < k; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				if ev.Mask&unix.IN_OPEN != 0 {
					n++
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}
}

// TestWatchingKernelLockWaiterKeepsItsDescriptor: an os or ofd waiter that
// watches the lock file rather than waiting in the kernel (as on a
// filesystem whose changes not every process sees at once, which the test
// makes it take tmpfs for) tries with the descriptor it keeps open. One
// that opened and closed the file at each attempt would wake itself with
// its own close, take that for a lost race and go over to polling; its
// clock never moves, so only the event of the release can wake it.
func TestWatchingKernelLockWaiterKeepsItsDescriptor(t *testing.T) {
	for _, s := range Strategies() {
		if s.fileBased() {
			continue
		}
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			release := startReleasingHolder(t, s, path)
			fake := clock.NewFake(time.Now())
			l := newLock(t, path, WithStrategy(s), withClock(fake), WithBackoff(time.Hour, time.Hour))
			l.local = 2 // not a filesystem whose every change raises an event
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := lockAsync(ctx, l)
			select {
			case <-fake.TimerAdded():
			case <-time.After(testLockWait):
				t.Fatal("the waiter did not begin to wait")
			}
			opens := countOpens(t, path)
			// A waiter that wakes itself does so at once; a busy machine can
			// only delay that past this window, so that the test misses
			// it, never make a waiter that does not fail.
			time.Sleep(100 * time.Millisecond)
			require.Zero(t, opens(), "the waiter opened the lock file again without an event")
			release()
			requireAcquired(t, done, "the waiter was not woken by the release")
			require.NoError(t, l.Unlock())
		})
	}
}

// requireAcquired waits 20 seconds at most for the acquisition whose
// result done carries to succeed; failure says what did not happen.
func requireAcquired(t *testing.T, done <-chan error, failure string) {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal(failure)
	}
}

// TestWaiterThatLostARaceStopsWatching: a waiter woken by an event that
// then finds the lock taken again stops watching and polls, at steps
// growing to lostRaceFactor × the longest wait (docs/design.md, "The
// herd"); the waiter first in the queue, which is woken by the release
// meant for it, keeps watching.
func TestWaiterThatLostARaceStopsWatching(t *testing.T) {
	const longest = 50 * time.Millisecond
	for _, inTurn := range []bool{false, true} {
		t.Run(map[bool]string{false: "barging", true: "in turn"}[inTurn], func(t *testing.T) {
			w, err := notify.New()
			require.NoError(t, err)
			l := newLock(t, filepath.Join(t.TempDir(), "x.lock"), WithBackoff(time.Millisecond, longest))
			k := &wakeup{l: l, w: w, woke: true, seesAll: true, inTurn: inTurn}
			defer k.close()
			var b backoff
			k.pollAfter(&b)
			if inTurn {
				require.NotNil(t, k.w, "the waiter in turn stopped watching")
				require.False(t, k.lostRace)
				return
			}
			require.Nil(t, k.w, "still watching after a lost race")
			require.True(t, k.lostRace)
			for range 10 {
				require.LessOrEqual(t, k.pollAfter(&b), lostRaceFactor*longest)
			}
			require.Equal(t, lostRaceFactor*longest, b.step, "the steps after a lost race stop at lostRaceFactor × the longest wait")
		})
	}
}
