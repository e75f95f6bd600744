//go:build linux

package filelock

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
)

func init() {
	// holdUntilEOF: take the lock, say "locked", and release it properly
	// when stdin closes.
	childRoles["holdUntilEOF"] = func() error {
		opts := []Option{WithStrategy(childStrategy())}
		if os.Getenv("FILELOCK_TEST_FAIR") != "" {
			opts = append(opts, WithFair())
		}
		l, err := New(envOf("FILELOCK_TEST_LOCK"), opts...)
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

// lockAsync starts l.LockContext in a goroutine and returns the channel of
// its result.
func lockAsync(ctx context.Context, l *Lock) <-chan error {
	done := make(chan error, 1)
	go func() { done <- l.LockContext(ctx) }()
	return done
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
				fake := clock.NewFake(time.Now())
				opts := []Option{WithStrategy(s), withClock(fake), WithBackoff(time.Hour, time.Hour)}
				if polling {
					opts = append(opts, WithPolling())
				}
				l, err := New(path, opts...)
				require.NoError(t, err)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				done := lockAsync(ctx, l)
				<-fake.TimerAdded() // it found the lock busy and waits
				release()
				if polling {
					select {
					case err := <-done:
						t.Fatalf("a polling waiter acquired without its timer firing: %v", err)
					case <-time.After(100 * time.Millisecond):
					}
					fake.Advance(time.Hour)
				}
				select {
				case err := <-done:
					require.NoError(t, err)
				case <-time.After(20 * time.Second):
					t.Fatal("the waiter was not woken by the release")
				}
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
			release := startReleasingHolder(t, s, path, env...)
			before := count()
			opts := []Option{WithStrategy(s)}
			if fair {
				opts = append(opts, WithFair())
			}
			l, err := New(path, opts...)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			err = l.LockContext(ctx)
			cancel()
			require.ErrorIs(t, err, ErrTimeout)
			require.Equal(t, before, count(), "fair=%v", fair)
			_, err = os.Stat(path + queueSuffix)
			require.True(t, os.IsNotExist(err), "fair=%v: the queue is gone", fair)
			release()
			if !s.fileBased() {
				require.NoError(t, os.Remove(path)) // the kept lock file
			}
			require.Empty(t, dirEntries(t, dir))
		}
	})
}
