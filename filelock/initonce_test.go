package filelock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/proc"
)

func init() {
	// init: wait for the barrier (stdin closed), then AtomicInit the
	// marker FILELOCK_TEST_MARKER with a function that appends this
	// process's PID to FILELOCK_TEST_RUNS; say "ran" or "not mine". With
	// FILELOCK_TEST_BLOCK set the function says "started" and never
	// returns.
	childRoles["init"] = func() error {
		block := os.Getenv("FILELOCK_TEST_BLOCK") != ""
		if !block {
			if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
				return err
			}
		}
		ran, err := AtomicInit(envOf("FILELOCK_TEST_MARKER"), func() error {
			if err := appendLine(envOf("FILELOCK_TEST_RUNS"), strconv.Itoa(os.Getpid())); err != nil {
				return err
			}
			if block {
				fmt.Println("started")
				select {}
			}
			time.Sleep(20 * time.Millisecond) // let the others pile up
			return nil
		}, WithStrategy(childStrategy()))
		if err != nil {
			return err
		}
		if ran {
			fmt.Println("ran")
		} else {
			fmt.Println("not mine")
		}
		return nil
	}
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, line)
	return errors.Join(err, f.Close())
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	return strings.Fields(string(data))
}

// TestAtomicInitProcesses: 16 processes released together run the
// function exactly once between them; the others report "not mine".
func TestAtomicInitProcesses(t *testing.T) {
	t.Parallel() // a slow process test (main_test.go)
	const procs = 16
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		marker, runs := filepath.Join(dir, "done"), filepath.Join(dir, "runs")
		var cmds []*exec.Cmd
		var outs []*strings.Builder
		var barriers []io.WriteCloser
		for range procs {
			cmd := childCommand(t, "init", "FILELOCK_TEST_MARKER="+marker, "FILELOCK_TEST_RUNS="+runs,
				"FILELOCK_TEST_STRATEGY="+s.String())
			w, err := cmd.StdinPipe()
			require.NoError(t, err)
			out := new(strings.Builder)
			cmd.Stdout, cmd.Stderr = out, out
			require.NoError(t, cmd.Start())
			cmds, outs, barriers = append(cmds, cmd), append(outs, out), append(barriers, w)
		}
		for _, w := range barriers {
			require.NoError(t, w.Close())
		}
		ran := 0
		for i, cmd := range cmds {
			require.NoError(t, cmd.Wait(), "child %d: %s", i, outs[i])
			switch outs[i].String() {
			case "ran\n":
				ran++
			case "not mine\n":
			default:
				t.Fatalf("child %d said %q", i, outs[i])
			}
		}
		require.Equal(t, 1, ran, "exactly one caller ran the function")
		require.Len(t, readLines(t, runs), 1, "the function ran once")
		want := "done,runs"
		if !s.fileBased() {
			want = "done,done.lock,runs" // the kernel strategies keep their lock file
		}
		require.Equal(t, want, dirEntries(t, dir))
	})
}

// TestAtomicInitFailureRetries: a failing function leaves no marker and
// its error is returned; the next call runs it; once it has succeeded a
// call returns at once without taking the lock.
func TestAtomicInitFailureRetries(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		marker := filepath.Join(dir, "done")
		boom := errors.New("boom")
		ran, err := AtomicInit(marker, func() error { return boom }, WithStrategy(s))
		require.False(t, ran)
		require.ErrorIs(t, err, ErrInitFailed)
		require.ErrorIs(t, err, boom)
		require.NoFileExists(t, marker)

		calls := 0
		ran, err = AtomicInit(marker, func() error { calls++; return nil }, WithStrategy(s))
		require.NoError(t, err)
		require.True(t, ran)
		require.Equal(t, 1, calls)
		data, err := os.ReadFile(marker)
		require.NoError(t, err)
		r, err := ParseRecord(data)
		require.NoError(t, err, "the marker holds the record of who initialised")
		require.Equal(t, os.Getpid(), r.PID)

		// Hold the lock: a call that finds the marker must not wait for it.
		l := newLock(t, marker+InitLockSuffix, WithStrategy(s))
		require.NoError(t, lockWithin(l))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ran, err = AtomicInitContext(ctx, marker, func(context.Context) error { calls++; return nil }, WithStrategy(s))
		require.NoError(t, err)
		require.False(t, ran)
		require.Equal(t, 1, calls)
		require.NoError(t, l.Unlock())
	})
}

func TestAtomicInitBadInput(t *testing.T) {
	dir := t.TempDir()
	_, err := AtomicInit("", func() error { return nil })
	require.ErrorIs(t, err, ErrInvalidPath)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	_, err = AtomicInit(filepath.Join(dir, "d"), func() error { t.Fatal("ran"); return nil })
	require.ErrorIs(t, err, ErrNotRegular, "a directory is never taken for the marker")
	_, err = AtomicInit(filepath.Join(dir, "missing", "done"), func() error { t.Fatal("ran"); return nil })
	require.ErrorIs(t, err, os.ErrNotExist)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = AtomicInitContext(ctx, filepath.Join(dir, "done"), func(context.Context) error { t.Fatal("ran"); return nil })
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, "d", dirEntries(t, dir))
}

// TestAtomicInitKilledInitializer: an initializer killed while running the
// function leaves no marker; the next caller takes its lock over (the
// holder is dead on this host) and runs the function.
func TestAtomicInitKilledInitializer(t *testing.T) {
	skipWithoutDeadRule(t)
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			dir := t.TempDir()
			marker, runs := filepath.Join(dir, "done"), filepath.Join(dir, "runs")
			cmd := childCommand(t, "init", "FILELOCK_TEST_MARKER="+marker, "FILELOCK_TEST_RUNS="+runs,
				"FILELOCK_TEST_STRATEGY="+s.String(), "FILELOCK_TEST_BLOCK=1")
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			line, err := bufio.NewReader(out).ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "started\n", line)
			require.NoError(t, cmd.Process.Kill())
			_ = cmd.Wait()
			require.NoFileExists(t, marker)

			ran, err := AtomicInit(marker, func() error { return appendLine(runs, "again") },
				WithStrategy(s), WithStaleAfter(time.Hour), WithTimeout(time.Minute))
			require.NoError(t, err)
			require.True(t, ran)
			require.Equal(t, []string{strconv.Itoa(cmd.Process.Pid), "again"}, readLines(t, runs))
			require.Equal(t, "done,runs", dirEntries(t, dir))
		})
	}
}

// TestAtomicInitRemovesDeadTemporaryMarkers: an initializer killed after
// writing its temporary marker and before renaming it into place leaves
// it behind; the next caller, which holds the lock, removes it (and any
// other of that name) before it runs the function, and leaves the files
// of other names alone.
func TestAtomicInitRemovesDeadTemporaryMarkers(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		marker := filepath.Join(dir, "done")
		left := []string{tempName(marker, kindTemp), tempName(marker, kindTemp)}
		for _, name := range append(left, marker+".other") {
			require.NoError(t, os.WriteFile(name, forgedRecord(t, otherHost()), 0o644))
		}
		ran, err := AtomicInit(marker, func() error { return nil }, WithStrategy(s))
		require.NoError(t, err)
		require.True(t, ran)
		for _, name := range left {
			require.NoFileExists(t, name)
		}
		require.FileExists(t, marker+".other")
	})
}

// TestAtomicInitReportsALostLock: a lock taken away while the function
// ran (its file removed, as a careless sweep would) is reported after an
// initialization that succeeded, which then may have raced another; after
// one that failed, the function's own error is the one returned.
func TestAtomicInitReportsALostLock(t *testing.T) {
	boom := errors.New("boom")
	for _, s := range []Strategy{Soft, Link} {
		for _, fnErr := range []error{nil, boom} {
			t.Run(fmt.Sprintf("%v/fn=%v", s, fnErr), func(t *testing.T) {
				marker := filepath.Join(t.TempDir(), "done")
				ran, err := AtomicInit(marker, func() error {
					require.NoError(t, os.Remove(marker+InitLockSuffix))
					return fnErr
				}, WithStrategy(s))
				if fnErr == nil {
					require.True(t, ran)
					require.ErrorIs(t, err, ErrLockLost, "the lost lock not reported")
					require.FileExists(t, marker)
					return
				}
				require.False(t, ran)
				require.ErrorIs(t, err, ErrInitFailed, "the function's error replaced")
				require.ErrorIs(t, err, boom)
				require.NoFileExists(t, marker)
			})
		}
	}
}

// TestAtomicInitMarkerWriteFails: a marker whose writing or closing fails
// (a full disk) is not put in place: AtomicInit reports that fn ran and
// that the marker could not be written, leaves no temporary file, and the
// next call runs fn again.
func TestAtomicInitMarkerWriteFails(t *testing.T) {
	for _, step := range []string{"write", "close"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			marker := filepath.Join(dir, "done")
			// The os strategy makes no file by exclusive creation, so only
			// the marker's temporary file meets the failure.
			ran, err := AtomicInit(marker, func() error { return nil }, WithStrategy(OS), withFS(failingFileFS{step: step}))
			require.True(t, ran, "fn ran before the marker was written")
			require.ErrorIs(t, err, syscall.ENOSPC)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, marker, pe.Path)
			require.Equal(t, "done.lock", dirEntries(t, dir), "no marker, no temporary file")

			calls := 0
			ran, err = AtomicInit(marker, func() error { calls++; return nil }, WithStrategy(OS))
			require.NoError(t, err)
			require.True(t, ran)
			require.Equal(t, 1, calls, "without a marker, the next call runs fn")
		})
	}
}

// Every error of AtomicInit names the marker, the path its caller gave,
// even one of its lock, whose own error it carries inside.
func TestAtomicInitErrorsNameTheMarker(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "done")
	for _, tc := range []struct {
		name string
		run  func() error
		want error
	}{
		{"an option refused", func() error {
			_, err := AtomicInit(marker, func() error { return nil }, WithTimeout(-1))
			return err
		}, ErrInvalidOption},
		{"a wait that ran out", func() error {
			holder := newLock(t, marker+InitLockSuffix)
			require.NoError(t, holder.TryLock())
			defer holder.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := AtomicInitContext(ctx, marker, func(context.Context) error { return nil })
			return err
		}, ErrTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			pe, ok := err.(*fs.PathError)
			require.True(t, ok, "%T %v, want an *fs.PathError", err, err)
			require.Equal(t, marker, pe.Path)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// An initializer killed after its marker was in place leaves its lock file
// behind; the next call, which finds the marker, removes it once its
// holder is known dead, rather than leave it for ever.
func TestAtomicInitClearsALockLeftAfterTheMarker(t *testing.T) {
	skipWithoutDeadRule(t)
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			dir := t.TempDir()
			marker := filepath.Join(dir, "done")
			ran, err := AtomicInit(marker, func() error { return nil }, WithStrategy(s))
			require.NoError(t, err)
			require.True(t, ran)
			left := marker + InitLockSuffix
			require.NoError(t, os.WriteFile(left, forgedRecord(t, proc.Of(deadPID(t))), 0o644))
			ran, err = AtomicInit(marker, func() error { return nil }, WithStrategy(s))
			require.NoError(t, err)
			require.False(t, ran)
			require.NoFileExists(t, left)
		})
	}
}

// The release of a lock left after the marker, once taken over, is made
// again when it fails and keeps the hold (an I/O error removing the lock
// file): the call neither leaves the file nor holds the lock.
func TestAtomicInitRetriesTheReleaseOfALeftLock(t *testing.T) {
	skipWithoutDeadRule(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "done")
	left := marker + InitLockSuffix
	var failRemove atomic.Bool
	ffs := &faultFS{remove: func(name string) error {
		if name == left && failRemove.CompareAndSwap(true, false) {
			return &os.PathError{Op: "remove", Path: name, Err: syscall.EIO}
		}
		return nil
	}}
	ran, err := AtomicInit(marker, func() error { return nil }, withFS(ffs))
	require.NoError(t, err)
	require.True(t, ran)
	require.NoError(t, os.WriteFile(left, forgedRecord(t, proc.Of(deadPID(t))), 0o644))
	failRemove.Store(true)
	ran, err = AtomicInit(marker, func() error { return nil }, withFS(ffs))
	require.NoError(t, err)
	require.False(t, ran)
	require.False(t, failRemove.Load(), "the release never failed")
	require.NoFileExists(t, left)
	other := newLock(t, left, withFS(otherFS{}))
	require.NoError(t, other.TryLock(), "the lock is still held")
	require.NoError(t, other.Unlock())
}
