package filelock

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lockstress/lockstress/internal/proc"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Live holders that could be taken for dead: one whose first thread has
// exited while its others run on, as a C program that embeds Go may do
// (pthread_exit in main), which /proc shows as a zombie; and one of
// another copy of this package in this very process, whose records this
// copy's table does not know.

const (
	firstThreadGoneRole          = "holdFirstThreadGone"
	otherCopyFirstThreadGoneRole = "otherCopyFirstThreadGone"
)

func init() {
	if role := os.Getenv(childEnv); role == firstThreadGoneRole || role == otherCopyFirstThreadGoneRole {
		// Locked in init, the main goroutine runs on the first thread
		// (TestMain runs the role there), which SYS_EXIT ends alone.
		runtime.LockOSThread()
	}
	// holdFirstThreadGone: take the lock in another thread, say "locked",
	// and end the first thread; release when stdin closes, and exit 0 only
	// if the lock was held to the end.
	childRoles[firstThreadGoneRole] = func() error {
		l, err := New(envOf("FILELOCK_TEST_LOCK"), WithStrategy(childStrategy()))
		if err != nil {
			return err
		}
		go func() {
			err := l.Lock()
			if err == nil {
				fmt.Println("locked")
				_, err = io.Copy(io.Discard, os.Stdin)
			}
			if err == nil {
				err = l.Unlock()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Exit(0)
		}()
		syscall.Syscall(syscall.SYS_EXIT, 0, 0, 0)
		select {} // not reached
	}
}

func init() {
	// otherCopyFirstThreadGone: end the first thread, and then, on
	// another, judge a lock file whose record names this process, held
	// open as another copy of this package would (see
	// TestRecordOfAnotherCopyOfThePackageIsAlive); exit 0 only if it was
	// judged alive while open and dead once closed. With
	// FILELOCK_TEST_FIRST_THREADS_VIEW set, descriptors are looked for in
	// /proc/self, the first thread's view, and it need only be judged
	// alive while open.
	childRoles[otherCopyFirstThreadGoneRole] = func() error {
		firstThreads := os.Getenv("FILELOCK_TEST_FIRST_THREADS_VIEW") != ""
		if firstThreads {
			procFDs = func() string { return "/proc/self" }
		}
		go func() {
			if err := judgeOtherCopysLock(envOf("FILELOCK_TEST_LOCK"), firstThreads); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Exit(0)
		}()
		syscall.Syscall(syscall.SYS_EXIT, 0, 0, 0)
		select {} // not reached
	}
}

// judgeOtherCopysLock is otherCopyFirstThreadGone's judgement, once the
// first thread is gone; with openOnly, only of the file held open.
func judgeOtherCopysLock(path string, openOnly bool) error {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		state, err := stateOf(os.Getpid())
		if err != nil {
			return err
		}
		if state == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the first thread never exited")
		}
	}
	data, err := newRecord(proc.Self(), time.Now()).MarshalText()
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		return err
	}
	held, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	l, err := New(path)
	if err != nil {
		return err
	}
	if err := l.TryLock(); !errors.Is(err, ErrWouldBlock) {
		return fmt.Errorf("another copy's live lock, in a process whose first thread is gone: TryLock gave %v, want %v", err, ErrWouldBlock)
	}
	if err := held.Close(); err != nil || openOnly {
		return err
	}
	if err := l.TryLock(); err != nil {
		return fmt.Errorf("closed, it is what an exec leaves: %w", err)
	}
	return l.Unlock()
}

// TestOtherCopysLockWithoutTheFirstThread: in a process whose first thread
// has exited, whose /proc/self shows no descriptors any more, another
// copy's open lock file is still found open, and once closed, it is not.
// Looked for in /proc/self, whose empty listing misses the descriptor
// the look itself has open, it is taken for open: unsure.
func TestOtherCopysLockWithoutTheFirstThread(t *testing.T) {
	for _, view := range []string{"calling thread's", "first thread's"} {
		t.Run(view, func(t *testing.T) {
			env := []string{"FILELOCK_TEST_LOCK=" + filepath.Join(t.TempDir(), "x.lock")}
			if view == "first thread's" {
				env = append(env, "FILELOCK_TEST_FIRST_THREADS_VIEW=1")
			}
			out, err := childCommand(t, otherCopyFirstThreadGoneRole, env...).CombinedOutput()
			require.NoError(t, err, "%s", out)
		})
	}
}

// TestHolderWithoutItsFirstThreadKeepsTheLock: a live holder whose first
// thread has exited, which /proc shows as a zombie, is not taken for dead:
// its lock is not broken, and it releases it, never having lost it.
func TestHolderWithoutItsFirstThreadKeepsTheLock(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			cmd, stop := startHolding(t, childCommand(t, firstThreadGoneRole, "FILELOCK_TEST_LOCK="+path, "FILELOCK_TEST_STRATEGY="+s.String()))
			require.Eventually(t, func() bool { return processState(t, cmd.Process.Pid) == 'Z' },
				time.Minute, time.Millisecond, "the holder's first thread never exited")
			l := newLock(t, path, WithStrategy(s))
			require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "a live holder's lock broken")
			stop()
			require.True(t, cmd.ProcessState.Success(), "the holder lost its lock, or failed: %v", cmd.ProcessState)
			require.NoError(t, l.TryLock())
			require.NoError(t, l.Unlock())
		})
	}
}

// processState returns the state letter /proc/PID/stat shows of pid's first
// thread.
func processState(t *testing.T, pid int) byte {
	t.Helper()
	state, err := stateOf(pid)
	require.NoError(t, err)
	return state
}

// stateOf is processState for a child role, which has no test.
func stateOf(pid int) (byte, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || len(b) <= i+2 {
		return 0, fmt.Errorf("not a stat line: %q", b)
	}
	return b[i+2], nil
}

// TestRecordOfAnotherCopyOfThePackageIsAlive: a lock file whose record names
// this process, held by another copy of this package in it (a module's
// two major versions, a vendored fork), which keeps a table of records of
// its own but, as every holder here, keeps the file open: the lock is not
// taken for one left before an exec. Once that copy has closed it, it is.
func TestRecordOfAnotherCopyOfThePackageIsAlive(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			l := newLock(t, path, WithStrategy(s))
			require.True(t, l.keepsOpen(), "holders keep their lock files open here")
			require.NoError(t, os.WriteFile(path, forgedRecord(t, proc.Self()), 0o644))
			held, err := os.OpenFile(path, os.O_WRONLY, 0)
			require.NoError(t, err)
			require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "another copy's live lock broken")
			require.NoError(t, held.Close())
			require.NoError(t, l.TryLock(), "closed, it is what an exec leaves")
			require.NoError(t, l.Unlock())
		})
	}
}

// TestGuardOfAnotherCopyOfThePackageIsAlive: a guard whose record names
// this process, which no handle of this copy made, beside the lock file of
// a dead holder, is another copy's breaker at work (a guard is not kept
// open, so it cannot be told from one left before an exec): not broken at
// once, so the lock is not taken past it.
func TestGuardOfAnotherCopyOfThePackageIsAlive(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			_, path := deadHoldersLock(t)
			guard := forgedRecord(t, proc.Self())
			require.NoError(t, os.WriteFile(path+guardSuffix, guard, 0o644))
			l := newLock(t, path, WithStrategy(s))
			require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "another copy's guard broken")
			got, err := os.ReadFile(path + guardSuffix)
			require.NoError(t, err)
			require.Equal(t, guard, got)
		})
	}
}

const otherCopyUnwritableRole = "otherCopyUnwritableLink"

func init() {
	// otherCopyUnwritableLink: hold a Link lock whose file this user may
	// not write (WithPerm 0444), and judge it as another copy of this
	// package would, whose table of records does not know its record.
	childRoles[otherCopyUnwritableRole] = func() error {
		path := envOf("FILELOCK_TEST_LOCK")
		holder, err := New(path, WithStrategy(Link), WithPerm(0o444))
		if err != nil {
			return err
		}
		if err := holder.TryLock(); err != nil { // its own directory: nothing else holds it
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dropRecord(data) // as the other copy's table has it
		other, err := New(path, WithStrategy(Link), WithPerm(0o444))
		if err != nil {
			return err
		}
		// Judged by Inspect: this copy's TryLock would wait for the holder
		// in its own process-wide table, which the other copy does not
		// share.
		st, err := other.Inspect()
		if err != nil {
			return err
		}
		if st.Stale {
			return fmt.Errorf("a live Link lock of a file its user may not write, judged by another copy: stale (%s)", st.StaleReason)
		}
		holdRecord(data)
		return holder.Unlock()
	}
}

// TestUnwritableLinkLockOfAnotherCopyIsAlive: a Link holder that may not
// write its lock file (WithPerm without write, a user who is not root)
// keeps it open read-only, so that another copy of the package in its
// process sees it open.
func TestUnwritableLinkLockOfAnotherCopyIsAlive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs its child as another user, which needs root (CI runs the suite as root)")
	}
	dir := filepath.Join(tempDirMode(t, 0o755), "nobody")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Chown(dir, 65534, 65534))
	cmd := childCommand(t, otherCopyUnwritableRole, "FILELOCK_TEST_LOCK="+filepath.Join(dir, "x.lock"))
	cmd.Path = runnableExe(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func init() {
	// badHostTakeover: in a UTS namespace of its own, name the host with a
	// control character, then start a holder there, kill it, and start a
	// process to take its lock over (children, which know the host by the
	// new name from their start).
	childRoles["badHostTakeover"] = func() error {
		if err := unix.Sethostname([]byte("bad\tname")); err != nil {
			return err
		}
		holder := reexec("hold", "FILELOCK_TEST_STRATEGY=soft")
		out, err := holder.StdoutPipe()
		if err == nil {
			err = holder.Start()
		}
		if err != nil {
			return err
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		holder.Process.Kill()
		holder.Wait()
		if line != "locked\n" {
			return fmt.Errorf("holder said %q: %v", line, err)
		}
		if out, err := reexec("takeOver").CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	// takeOver: take the lock at once, as a dead holder's of this host.
	childRoles["takeOver"] = func() error {
		l, err := New(envOf("FILELOCK_TEST_LOCK"), WithStaleAfter(time.Hour))
		if err != nil {
			return err
		}
		if err := l.TryLock(); err != nil {
			return fmt.Errorf("a killed holder's lock, on a host named %q: %w", proc.Self().Host, err)
		}
		return l.Unlock()
	}
}

// reexec is a command of this test binary in the child role role, with this
// process's environment and env.
func reexec(role string, env ...string) *exec.Cmd {
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+role), env...)
	return cmd
}

// TestDeadHolderOnAHostOfABadName: on a host whose name cannot be written in
// a record (a control character), a killed holder's lock is still taken
// over at once: its record names the host as every process of the host
// knows itself, not by a name no process has.
func TestDeadHolderOnAHostOfABadName(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a UTS namespace of its own needs root (CI runs the suite as root)")
	}
	cmd := childCommand(t, "badHostTakeover", "FILELOCK_TEST_LOCK="+filepath.Join(t.TempDir(), "x.lock"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}
