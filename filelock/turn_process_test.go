package filelock

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func init() {
	// share: wait for the barrier (stdin closed), then take the lock and
	// hold it a moment, again and again, until the counter file reaches
	// FILELOCK_TEST_ROUNDS; print how many of the acquisitions were its
	// own. A barging lock with FILELOCK_TEST_BARGING set.
	childRoles["share"] = func() error {
		var extra []Option
		if os.Getenv("FILELOCK_TEST_BARGING") != "" {
			extra = append(extra, WithBarging())
		}
		// A deadline, so that a lock never released fails the test rather
		// than hangs it.
		extra = append(extra, WithBackoff(100*time.Microsecond, 5*time.Millisecond), WithTimeout(time.Minute))
		l, err := New(envOf("FILELOCK_TEST_LOCK"), childOptions(extra...)...)
		if err != nil {
			return err
		}
		total, err := strconv.Atoi(envOf("FILELOCK_TEST_ROUNDS"))
		if err != nil {
			return err
		}
		if err := awaitBarrier(); err != nil {
			return err
		}
		mine, err := shareLoop(l, envOf("FILELOCK_TEST_COUNTER"), total)
		fmt.Println(mine)
		return err
	}
}

// shareLoop takes l, holding it half a millisecond, until the counter
// reaches total, and returns how many times it took it.
func shareLoop(l *Lock, counter string, total int) (int, error) {
	for mine := 0; ; mine++ {
		if err := l.Lock(); err != nil {
			return mine, err
		}
		n, err := incrementTo(counter)
		time.Sleep(500 * time.Microsecond) // the work under the lock
		if uerr := l.Unlock(); err == nil {
			err = uerr
		}
		if err != nil || n >= total {
			return mine + 1, err
		}
	}
}

// TestNoStarvationProcesses: processes that take the lock again as soon as
// they release it (the pattern in which a barging lock starves waiters:
// the releaser wins every race against waiters that must first be woken)
// each get a fair part of the acquisitions with default options: at least
// a quarter of an even share. (In turn, each gets about an even share;
// barging, FILELOCK_TEST_BARGING=1, some get a tenth of it or nothing.)
func TestNoStarvationProcesses(t *testing.T) {
	const procs, total = 8, 320
	const least = total / procs / 4
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		lockPath, counter := filepath.Join(dir, "x.lock"), filepath.Join(dir, "counter")
		cmds, stdouts, stderrs := startRole(t, "share", procs,
			"FILELOCK_TEST_LOCK="+lockPath, "FILELOCK_TEST_COUNTER="+counter,
			"FILELOCK_TEST_ROUNDS="+strconv.Itoa(total), "FILELOCK_TEST_STRATEGY="+s.String(),
			"FILELOCK_TEST_BARGING="+os.Getenv("FILELOCK_TEST_BARGING"))
		var shares []int
		for i, cmd := range cmds {
			require.NoError(t, cmd.Wait(), "child %d: %s", i, stderrs[i])
			n, err := strconv.Atoi(strings.TrimSpace(stdouts[i].String()))
			require.NoError(t, err, "child %d printed %q", i, stdouts[i].String())
			shares = append(shares, n)
		}
		t.Logf("acquisitions per process: %v", shares)
		for i, n := range shares {
			require.GreaterOrEqual(t, n, least, "process %d was left out: %v", i, shares)
		}
		if ents, err := os.ReadDir(lockPath + queueSuffix); !os.IsNotExist(err) {
			t.Fatalf("the queue directory is left, holding %v (%v)", ents, err)
		}
	})
}
