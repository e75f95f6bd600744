package filelock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/clock"
	"github.com/lockstress/lockstress/internal/fsys"
	"github.com/lockstress/lockstress/internal/fsys/memfs"
	"github.com/lockstress/lockstress/internal/proc"
)

func init() {
	// fairAppend: take the fair lock, append FILELOCK_TEST_ID to the
	// order file, release.
	childRoles["fairAppend"] = func() error {
		l, err := New(envOf("FILELOCK_TEST_LOCK"), WithStrategy(childStrategy()), WithFair())
		if err != nil {
			return err
		}
		if err := l.Lock(); err != nil {
			return err
		}
		f, err := os.OpenFile(envOf("FILELOCK_TEST_ORDER"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			_, err = fmt.Fprintln(f, envOf("FILELOCK_TEST_ID"))
			err = errorsJoin(err, f.Close())
		}
		return errorsJoin(err, l.Unlock())
	}
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// parseTicket decodes a ticket's name; other names are not tickets.
func parseTicket(name string) (ticket, bool) {
	n, ok := parseTicketName(name)
	if !ok {
		return ticket{}, false
	}
	return ticket{num: n, name: name}, true
}

func TestParseTicket(t *testing.T) {
	token := "9f86d081884c7d659a2feaa0c55ad015"
	for _, tc := range []struct {
		name string
		num  uint64
		ok   bool
	}{
		{"00000000000000000007-" + token, 7, true},
		{"18446744073709551615-" + token, 1<<64 - 1, true},
		{"0000000000000000007-" + token, 0, false},  // too short
		{"99999999999999999999-" + token, 0, false}, // overflows
		{"00000000000000000007-" + token[1:], 0, false},
		{"00000000000000000007_" + token, 0, false},
		{"0000000000000000000x-" + token, 0, false},
		{"00000000000000000007-" + strings.ToUpper(token), 0, false},
		{".nfs000001", 0, false},
	} {
		got, ok := parseTicket(tc.name)
		require.Equal(t, tc.ok, ok, tc.name)
		if ok {
			require.Equal(t, tc.num, got.num)
			require.Equal(t, tc.name, got.name)
			require.Equal(t, tc.name, string(appendTicketName(nil, tc.num, token)), "the name made for the number")
		}
	}
	for _, num := range []uint64{0, 1, 10, 12345678901234567890} {
		name := string(appendTicketName([]byte("x"), num, token))[1:]
		got, ok := parseTicket(name)
		require.True(t, ok, name)
		require.Equal(t, num, got.num, name)
	}
}

// TestQueueView: what a waiter learns of the queue from one listing, on
// the operating system's filesystem (which lists without a string per name)
// and on one that lists with ReadDirNames, in sorted order and backwards:
// the view does not depend on the order of the listing.
func TestQueueView(t *testing.T) {
	name := func(num uint64, token string) string {
		return fmt.Sprintf("%0*d-%s", ticketNumberDigits, num, strings.Repeat(token, 2*tokenBytes))
	}
	a3, b3, c3 := name(3, "a"), name(3, "b"), name(3, "c")
	n1, n7, n9 := name(1, "f"), name(7, "0"), name(9, "e")
	for _, tc := range []struct {
		what    string
		present []string
		mine    string // "": no ticket of its own
		want    queueView
	}{
		{"empty, no ticket", nil, "", queueView{}},
		{"empty but for mine", []string{n7}, n7, queueView{maxNum: 7, has: true}},
		{"no ticket: all before", []string{n9, n1, n7, "junk", name(4, "A")}, "",
			queueView{maxNum: 9, before: 3, ahead: ticket{num: 9, name: n9}}},
		{"ahead is the highest below", []string{n9, n1, n7, c3}, n7,
			queueView{maxNum: 9, has: true, before: 2, ahead: ticket{num: 3, name: c3}}},
		{"same number: by token", []string{c3, a3, b3, n1}, b3,
			queueView{maxNum: 3, has: true, before: 2, ahead: ticket{num: 3, name: a3}}},
		{"same number before mine: the highest token", []string{a3, c3, n1, n7}, n7,
			queueView{maxNum: 7, has: true, before: 3, ahead: ticket{num: 3, name: c3}}},
		{"first", []string{n9, n7}, n1, queueView{maxNum: 9}},
		{"first and there", []string{n9, n7, n1}, n1, queueView{maxNum: 9, has: true}},
		{"gone", []string{n1, n9}, n7, queueView{maxNum: 9, before: 1, ahead: ticket{num: 1, name: n1}}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			for fsName, mk := range map[string]func(t *testing.T) (fsys.FS, string){
				"os": func(t *testing.T) (fsys.FS, string) { return fsys.OS{}, t.TempDir() },
				"memfs": func(t *testing.T) (fsys.FS, string) {
					m := memfs.New(clock.NewFake(time.Unix(1e9, 0)))
					require.NoError(t, m.MkdirAll("/locks", 0o755))
					return m, "/locks"
				},
				"memfs, listed backwards": func(t *testing.T) (fsys.FS, string) {
					m := memfs.New(clock.NewFake(time.Unix(1e9, 0)))
					require.NoError(t, m.MkdirAll("/locks", 0o755))
					return backwardsFS{m}, "/locks"
				},
			} {
				t.Run(fsName, func(t *testing.T) {
					fsy, dir := mk(t)
					l := newLock(t, filepath.Join(dir, "x.lock"), WithFair(), withFS(fsy))
					q := newQueue(l)
					require.NoError(t, fsy.MkdirAll(q.dir, 0o755))
					for _, n := range tc.present {
						f, err := fsy.CreateExcl(filepath.Join(q.dir, n), 0o644)
						require.NoError(t, err)
						require.NoError(t, f.Close())
					}
					require.NoError(t, q.openDir(false, nil))
					defer q.closeDir()
					var mine *ticket
					if tc.mine != "" {
						tk, ok := parseTicket(tc.mine)
						require.True(t, ok)
						mine = &tk
					}
					got, err := q.view(mine)
					require.NoError(t, err)
					if got.before > 0 {
						require.Equal(t, filepath.Join(q.dir, got.ahead.name), got.ahead.path)
						got.ahead.path = ""
					}
					require.Equal(t, tc.want, got)
				})
			}
		})
	}
}

// backwardsFS lists every directory in the reverse of the order its
// filesystem does.
type backwardsFS struct{ *memfs.FS }

func (b backwardsFS) ReadDirNames(name string) ([]string, error) {
	names, err := b.FS.ReadDirNames(name)
	slices.Reverse(names)
	return names, err
}

func TestFairRejectsShared(t *testing.T) {
	_, err := New(filepath.Join(t.TempDir(), "x.lock"), WithStrategy(OS), WithShared(), WithFair())
	require.ErrorIs(t, err, ErrInvalidOption)
}

// queueLen counts the tickets in the queue of the lock at path that hold
// their records.
func queueLen(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir(path + queueSuffix)
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	n := 0
	for _, e := range ents {
		if _, ok := parseTicket(e.Name()); !ok {
			continue
		}
		// A ticket counts once its record is written: a waiter killed
		// before that leaves debris that only its age removes.
		data, err := os.ReadFile(filepath.Join(path+queueSuffix, e.Name()))
		if err == nil {
			if _, err = ParseRecord(data); err == nil {
				n++
			}
		}
	}
	return n
}

// waitQueueLen waits until the queue holds n tickets with their records.
func waitQueueLen(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for queueLen(t, path) != n {
		if time.Now().After(deadline) {
			t.Fatalf("the queue holds %d tickets, not %d", queueLen(t, path), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func startFairAppend(t *testing.T, s Strategy, path, order string, id int) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := childCommand(t, "fairAppend", "FILELOCK_TEST_LOCK="+path, "FILELOCK_TEST_STRATEGY="+s.String(),
		"FILELOCK_TEST_ORDER="+order, "FILELOCK_TEST_ID="+strconv.Itoa(id))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, &stderr
}

// TestFairServesInArrivalOrder: processes that queue one after another
// while the lock is held acquire it in that order. A waiter killed in the
// middle of the queue is skipped: its successor removes its ticket.
func TestFairServesInArrivalOrder(t *testing.T) {
	const waiters, killed = 6, 2
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		dir := t.TempDir()
		path, order := filepath.Join(dir, "x.lock"), filepath.Join(dir, "order")
		l := newLock(t, path, WithStrategy(s), WithFair())
		require.NoError(t, lockWithin(l))
		var cmds []*exec.Cmd
		var stderrs []*strings.Builder
		for i := range waiters {
			cmd, stderr := startFairAppend(t, s, path, order, i)
			cmds, stderrs = append(cmds, cmd), append(stderrs, stderr)
			waitQueueLen(t, path, i+2) // the holder's ticket stays first while it holds
		}
		require.NoError(t, cmds[killed].Process.Signal(syscall.SIGKILL))
		require.Error(t, cmds[killed].Wait())
		require.NoError(t, l.Unlock())
		var want []string
		for i, cmd := range cmds {
			if i == killed {
				continue
			}
			require.NoError(t, cmd.Wait(), "waiter %d: %s", i, stderrs[i])
			want = append(want, strconv.Itoa(i))
		}
		data, err := os.ReadFile(order)
		require.NoError(t, err)
		require.Equal(t, strings.Join(want, "\n")+"\n", string(data))
		require.NoDirExists(t, path+queueSuffix, "the last waiter removes the queue")
	})
}

// writeTicket puts a ticket of a waiter on another host into the queue,
// modified at mtime.
func writeTicket(t *testing.T, path string, num uint64, mtime time.Time) string {
	t.Helper()
	r := newRecord(proc.Self(), time.Now())
	r.Host, r.BootID, r.PIDNS = "elsewhere", "", ""
	data, err := r.MarshalText()
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(path+queueSuffix, 0o755))
	name := filepath.Join(path+queueSuffix, fmt.Sprintf("%0*d-%s", ticketNumberDigits, num, r.Token))
	require.NoError(t, os.WriteFile(name, data, 0o644))
	require.NoError(t, os.Chtimes(name, mtime, mtime))
	return name
}

// TestFairTicketAge: the ticket of a waiter on another host holds up the
// queue while it is young, and is removed once it is older than the limit.
func TestFairTicketAge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	// Ages are set with mtimes: on a filesystem without change times.
	l := newLock(t, path, WithFair(), withFS(noCtimeFS{}))

	young := writeTicket(t, path, 1, time.Now())
	require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "a waiter is queued")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := l.LockContext(ctx)
	cancel()
	require.ErrorIs(t, err, ErrTimeout, "it waits behind the young ticket")
	require.FileExists(t, young)
	require.Equal(t, 1, queueLen(t, path), "its own ticket is gone")

	old := time.Now().Add(-DefaultStaleAfter - time.Minute)
	require.NoError(t, os.Chtimes(young, old, old))
	require.NoError(t, lockWithin(l))
	require.NoFileExists(t, young, "the expired ticket was removed")
	require.Equal(t, 1, queueLen(t, path), "the holder's ticket stays first while it holds")
	require.NoError(t, l.Unlock())
	require.NoDirExists(t, path+queueSuffix)
}

// TestFairRecordlessTicketGrace: a ticket without a valid record holds up
// the queue only for its grace, not for the stale-after age: an empty one
// (its waiter was killed between making it and writing it) for
// emptyTicketGrace, a damaged one for RecordGrace.
func TestFairRecordlessTicketGrace(t *testing.T) {
	for _, tc := range []struct {
		name     string
		content  []byte
		grace    time.Duration
		notLocal bool // a directory whose changes not every host sees at once (NFS)
	}{
		{"empty", nil, emptyTicketGrace, false}, // RecordGrace where the directory is not local
		{"empty, not local", nil, RecordGrace, true},
		{"damaged", []byte("pid 12\n"), RecordGrace, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			require.NoError(t, os.MkdirAll(path+queueSuffix, 0o755))
			ticket := filepath.Join(path+queueSuffix, fmt.Sprintf("%0*d-%s", ticketNumberDigits, 1, newToken()))
			require.NoError(t, os.WriteFile(ticket, tc.content, 0o644))
			l := newLock(t, path, WithFair(), WithStaleAfter(time.Hour), withFS(noCtimeFS{}))
			if tc.notLocal {
				l.local = 2
			}
			if !l.localDir() {
				tc.grace = RecordGrace
			}

			respected := func(age time.Duration) {
				t.Helper()
				old := time.Now().Add(-age)
				require.NoError(t, os.Chtimes(ticket, old, old))
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				err := l.LockContext(ctx)
				cancel()
				require.ErrorIs(t, err, ErrTimeout, "a record-less ticket %v old is respected", age)
				require.FileExists(t, ticket)
			}
			respected(0)
			if tc.grace > emptyTicketGrace {
				// Past the grace of an empty ticket where tickets are
				// kept open: not this one's.
				respected(emptyTicketGrace * 3 / 2)
			}

			// Past its grace by half of it: the empty ticket is still
			// younger than RecordGrace, and a longer grace would keep it
			// past the deadline.
			old := time.Now().Add(-tc.grace * 3 / 2)
			require.NoError(t, os.Chtimes(ticket, old, old))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			require.NoError(t, l.LockContext(ctx), "an old record-less ticket is removed, well before the stale-after age")
			require.NoFileExists(t, ticket)
			require.NoError(t, l.Unlock())
			require.NoDirExists(t, path+queueSuffix)
		})
	}
}

// TestFairTryLockSkipsDeadTickets: a ticket of a dead waiter on this host
// does not block TryLock; it is removed.
func TestFairTryLockSkipsDeadTickets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	cmd := childCommand(t, "sleep")
	require.NoError(t, cmd.Run())
	r := newRecord(proc.Self(), time.Now())
	r.PID = cmd.ProcessState.Pid() // exited and reaped: provably dead
	data, err := r.MarshalText()
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(path+queueSuffix, 0o755))
	name := filepath.Join(path+queueSuffix, fmt.Sprintf("%0*d-%s", ticketNumberDigits, 3, r.Token))
	require.NoError(t, os.WriteFile(name, data, 0o644))

	l := newLock(t, path, WithFair())
	if r.BootID == "" {
		require.ErrorIs(t, l.TryLock(), ErrWouldBlock, "without a boot id nothing is provably dead")
		return
	}
	require.NoError(t, l.TryLock())
	require.NoFileExists(t, name)
	require.NoDirExists(t, path+queueSuffix, "the queue emptied of dead tickets is removed")
	require.NoError(t, l.Unlock())
}

// TestFairCounterProcesses: the counter test with fair locks, and again
// with waiters SIGKILLed at random (strategies whose lock the kernel
// releases at death): the survivors finish, and the tickets of the dead are
// cleaned up.
func TestFairCounterProcesses(t *testing.T) {
	t.Parallel() // a slow process test (main_test.go)
	const procs, rounds = 12, 25
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		for _, chaos := range []bool{false, true} {
			start := time.Now()
			t.Cleanup(func() { t.Logf("chaos=%v: %v", chaos, time.Since(start)) })
			dir := t.TempDir()
			path, counter := filepath.Join(dir, "x.lock"), filepath.Join(dir, "counter")
			cmds, stderrs := startCounters(t, s, procs, rounds, path, counter, "FILELOCK_TEST_FAIR=1")
			killed := map[int]bool{}
			if chaos {
				for _, i := range rand.Perm(procs)[:procs/3] {
					time.Sleep(time.Duration(rand.N(20)) * time.Millisecond)
					require.NoError(t, cmds[i].Process.Signal(syscall.SIGKILL))
					killed[i] = true
				}
			}
			for i, cmd := range cmds {
				err := cmd.Wait()
				if killed[i] {
					continue // it may have finished before the signal
				}
				require.NoError(t, err, "child %d: %s", i, stderrs[i])
			}
			if !chaos {
				require.Equal(t, procs*rounds, readCounter(t, counter))
				require.NoDirExists(t, path+queueSuffix)
				continue
			}
			// Dead waiters at the end of the queue had no successor to
			// remove their tickets; the next fair waiter does.
			l := newLock(t, path, WithStrategy(s), WithFair())
			require.NoError(t, lockWithin(l))
			require.NoError(t, l.Unlock())
			require.NoDirExists(t, path+queueSuffix)
		}
	})
}

// TestFairQueueInTheWay: something that is not a directory where the queue
// belongs is a clear error naming the lock, and nothing is left behind.
// ticketName is the name of a ticket numbered num.
func ticketName(num uint64) string {
	return fmt.Sprintf("%0*d-%s", ticketNumberDigits, num, newToken())
}

// TestTicketMissedByAListing: a fair waiter whose listing misses its own
// ticket, as a listing that lags behind can (NFS), queues again, and the
// ticket missed, still there, goes first: the waiter neither waits behind
// its own ticket nor leaves it behind.
func TestTicketMissedByAListing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	require.NoError(t, os.Mkdir(path+queueSuffix, 0o755))
	// A dead waiter's ticket ahead, so that the waiter lists the queue
	// again once it has judged it.
	dead := ticketName(1)
	require.NoError(t, os.WriteFile(filepath.Join(path+queueSuffix, dead), forgedRecord(t, otherHost()), 0o644))
	var missed []string
	ffs := &faultFS{list: func(string) func(string) bool {
		if len(missed) > 0 {
			return nil
		}
		// The first listing that has the waiter's ticket misses it.
		return func(name string) bool {
			if _, ok := parseTicketName([]byte(name)); ok && name != dead {
				missed = append(missed, name)
				return true
			}
			return false
		}
	}}
	otherHostDead := withProcess(proc.Self(), func(id proc.Identity) proc.State {
		if id == otherHost() {
			return proc.Dead
		}
		return proc.Alive
	})
	l := newLock(t, path, WithFair(), withFS(ffs), otherHostDead, WithBackoff(time.Millisecond, 10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, l.LockContext(ctx), "not kept waiting behind its own ticket")
	require.Len(t, missed, 1, "a listing missed the waiter's ticket")
	require.NoFileExists(t, filepath.Join(path+queueSuffix, missed[0]), "the ticket missed is gone")
	require.NoError(t, l.Unlock())
	require.NoDirExists(t, path+queueSuffix, "nothing is left in the queue")
}

// TestTicketMissedByAListingBehindALiveWaiter: a fair waiter whose listing
// misses its own ticket queues again and waits behind the live waiter
// ahead of it, as before: queueing again is no turn.
func TestTicketMissedByAListingBehindALiveWaiter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	require.NoError(t, os.Mkdir(path+queueSuffix, 0o755))
	live := ticketName(1)
	require.NoError(t, os.WriteFile(filepath.Join(path+queueSuffix, live), forgedRecord(t, otherHost()), 0o644))
	missed := 0
	ffs := &faultFS{list: func(string) func(string) bool {
		if missed > 0 {
			return nil
		}
		return func(name string) bool {
			if _, ok := parseTicketName([]byte(name)); ok && name != live {
				missed++
				return true
			}
			return false
		}
	}}
	alive := withProcess(proc.Self(), func(proc.Identity) proc.State { return proc.Alive })
	const step = 10 * time.Millisecond
	fake := clock.NewFake(time.Now())
	l := newLock(t, path, WithFair(), withFS(ffs), alive, withClock(fake), WithBackoff(step, step))
	got := lockInBackground(t, l)
	// Taking its turn ahead of the live waiter, it would not wait.
	waitForTimerOf(t, fake, got, step)
	fake.Advance(step) // it lists the queue again, and misses its ticket
	waitForTimerOf(t, fake, got, step)
	require.Equal(t, 1, missed, "a listing missed the waiter's ticket")
	require.Equal(t, 2, queueLen(t, path), "the live waiter's ticket and the one made again")
	require.NoError(t, os.Remove(filepath.Join(path+queueSuffix, live)))
	fake.Advance(step)
	require.NoError(t, recv(t, got), "first once the live waiter has left")
	require.NoError(t, l.Unlock())
}

// TestTicketInAVanishingQueueGivesUp: a fair acquisition whose queue
// directory is found gone at every ticket it makes (removed each time
// between its opening and the ticket) opens it again and tries anew, but
// gives up after maxEnqueueAttempts, with the cause, rather than loop for
// as long as that goes on; and leaves nothing behind.
func TestTicketInAVanishingQueueGivesUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	var attempts atomic.Int64
	ffs := &faultFS{create: func(name string) error {
		if filepath.Dir(name) != path+queueSuffix {
			return nil
		}
		attempts.Add(1)
		return &fs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
	}}
	holder := newLock(t, path, withFS(otherFS{}))
	require.NoError(t, lockWithin(holder))
	var err error
	ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
	defer cancel()
	select { // a loop that never gave up would not see a deadline either
	case err = <-lockAsync(ctx, newLock(t, path, WithFair(), withFS(ffs))):
	case <-time.After(testLockWait):
		t.Fatalf("the acquisition did not give up (%d tickets tried)", attempts.Load())
	}
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NotErrorIs(t, err, ErrTimeout)
	require.Contains(t, err.Error(), "fair queue")
	require.Equal(t, int64(maxEnqueueAttempts), attempts.Load(), "tickets tried")
	require.NoError(t, holder.Unlock())
	require.Equal(t, "", dirEntries(t, dir), "nothing left behind")
}

func TestFairQueueInTheWay(t *testing.T) {
	for _, kind := range []string{"file", "dangling symlink"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.lock")
		if kind == "file" {
			require.NoError(t, os.WriteFile(path+queueSuffix, nil, 0o644))
		} else {
			require.NoError(t, os.Symlink(filepath.Join(dir, "missing"), path+queueSuffix))
		}
		l := newLock(t, path, WithFair())
		err := lockWithin(l)
		require.Error(t, err, kind)
		var pe *fs.PathError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, path, pe.Path)
		require.Contains(t, err.Error(), "fair queue")
		require.Equal(t, "x.lock.queue", dirEntries(t, dir), kind)
	}
}

// TestFairTicketKeptFresh: a fair acquisition's ticket is refreshed while
// it holds (and, by the same timer, while it waits), so that no other
// waiter ever judges it expired by age. With a 1 s stale-after age it is
// touched every third of a second; the test waits for its change time to
// move, with a deadline far beyond that.
func TestFairTicketKeptFresh(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	l := newLock(t, path, WithFair(), WithStaleAfter(MinStaleAfter))
	require.NoError(t, lockWithin(l))
	ents, err := os.ReadDir(path + queueSuffix)
	require.NoError(t, err)
	require.Len(t, ents, 1, "the holder's ticket")
	ticket := filepath.Join(path+queueSuffix, ents[0].Name())
	info, err := (fsys.OS{}).Lstat(ticket)
	require.NoError(t, err)
	first := info.Changed()
	// The condition runs in a goroutine of its own: it reports, never fails.
	require.Eventually(t, func() bool {
		now, err := (fsys.OS{}).Lstat(ticket)
		return err == nil && now.Changed().After(first)
	}, 10*time.Second, 20*time.Millisecond, "the ticket was never refreshed")
	require.NoError(t, l.Unlock())
}

// TestFairCancelInTheMiddleKeepsOrder: in a fair queue A (holding), B, C,
// D, C gives up. D, woken by the removal of C's ticket just ahead of it,
// is not first: it waits behind B, and neither asks for its turn nor tries
// the lock before B has had it.
func TestFairCancelInTheMiddleKeepsOrder(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s Strategy) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "x.lock")
		// Each handle its own key of the process-wide table, as other
		// processes would be; D, on the real filesystem, watches the
		// ticket ahead of it.
		a := newLock(t, path, WithStrategy(s), WithFair(), withFS(&faultFS{}))
		b := newLock(t, path, WithStrategy(s), WithFair(), withFS(otherFS{}))
		c := newLock(t, path, WithStrategy(s), WithFair(), withFS(&faultFS{}))
		d := newLock(t, path, WithStrategy(s), WithFair())
		require.NoError(t, lockWithin(a))
		queued := func(n int) {
			t.Helper()
			require.Eventually(t, func() bool { return queueLen(t, path) == n }, testLockWait, time.Millisecond)
		}
		gotB := lockInBackground(t, b)
		queued(2)
		ctxC, cancelC := context.WithCancel(context.Background())
		gotC := lockAsync(ctxC, c)
		queued(3)
		gotD := lockInBackground(t, d)
		queued(4)
		cancelC()
		require.ErrorIs(t, recv(t, gotC), context.Canceled)
		queued(3)

		// A broken waiter would ask for its turn a turn's length after it
		// was woken, far within this.
		marker := filepath.Join(path+queueSuffix, turnName)
		for range 50 {
			require.False(t, fileThere(marker), "a waiter that is not first asked for its turn")
			time.Sleep(10 * time.Millisecond)
		}
		require.NoError(t, a.Unlock())
		require.NoError(t, recv(t, gotB), "B, next in the queue")
		select {
		case err := <-gotD:
			t.Fatalf("D acquired while B held the lock (%v)", err)
		default:
		}
		require.NoError(t, b.Unlock())
		require.NoError(t, recv(t, gotD))
		require.NoError(t, d.Unlock())
	})
}

// TestQueueDirectoryMadeMeanwhile: a fair acquisition that finds the queue
// directory missing and then cannot make it because it is there (another
// waiter made it in between) opens it and goes on; one that keeps finding
// it made and gone again gives up after maxEnqueueAttempts, with the
// cause.
func TestQueueDirectoryMadeMeanwhile(t *testing.T) {
	for _, endless := range []bool{false, true} {
		t.Run(map[bool]string{false: "once", true: "every time"}[endless], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			rfs := &mkdirRaceFS{endless: endless}
			l := newLock(t, path, WithFair(), withFS(rfs))
			ctx, cancel := context.WithTimeout(context.Background(), testLockWait)
			defer cancel()
			var err error
			select { // a loop that never gave up would not see a deadline either
			case err = <-lockAsync(ctx, l):
			case <-time.After(testLockWait):
				t.Fatalf("the acquisition did not give up (%d directories tried)", rfs.tries.Load())
			}
			if !endless {
				require.NoError(t, err)
				require.NoError(t, l.Unlock())
				return
			}
			require.ErrorIs(t, err, fs.ErrExist)
			require.Contains(t, err.Error(), "fair queue")
			require.Equal(t, int64(maxEnqueueAttempts), rfs.tries.Load(), "directories tried")
		})
	}
}

// mkdirRaceFS makes the queue directory appear to be made by another
// waiter at each attempt to make it: the first time (or, endless, every
// time, the last waiter removing it again at once).
type mkdirRaceFS struct {
	fsys.OS
	endless bool
	tries   atomic.Int64
}

func (r *mkdirRaceFS) Mkdir(name string, perm fs.FileMode) error {
	if !strings.HasSuffix(name, queueSuffix) {
		return r.OS.Mkdir(name, perm)
	}
	raced := &fs.PathError{Op: "mkdir", Path: name, Err: syscall.EEXIST}
	switch n := r.tries.Add(1); {
	case r.endless:
		return raced
	case n == 1:
		return errors.Join(r.OS.Mkdir(name, perm), raced)
	}
	return r.OS.Mkdir(name, perm)
}

// TestTicketRefreshInterval: a waiter refreshes its ticket every
// ticketRefresh, or every third of a shorter stale-after age; with
// age-based breaking off (no age at all), every ticketRefresh, never at
// no interval, which would refresh without pause.
func TestTicketRefreshInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	for _, tc := range []struct {
		staleAfter, want time.Duration
	}{
		{0, ticketRefresh},
		{30 * time.Second, 10 * time.Second},
		{time.Hour, ticketRefresh},
	} {
		l := newLock(t, path, WithFair(), WithStaleAfter(tc.staleAfter))
		require.Equal(t, tc.want, newQueue(l).refreshEvery(), "stale after %v", tc.staleAfter)
	}
}

// TestEnqueueListingServesTheFirstRound: the listing a waiter's enqueue
// makes (every ticket it lists is ahead of the new one) is the first
// round's view of the queue, not listed again: a fair acquisition with
// nobody queued lists the queue once, and one with a dead waiter's ticket
// ahead once more, for the round after that ticket is judged and removed.
func TestEnqueueListingServesTheFirstRound(t *testing.T) {
	for _, tc := range []struct {
		name      string
		deadAhead bool
		listings  int64
	}{
		{"nobody queued", false, 1},
		{"a dead waiter ahead", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			queue := path + queueSuffix
			if tc.deadAhead {
				require.NoError(t, os.Mkdir(queue, 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(queue, ticketName(1)), forgedRecord(t, otherHost()), 0o644))
			}
			ffs, listings := listingsOf(queue)
			dead := withProcess(proc.Self(), func(id proc.Identity) proc.State {
				if id == otherHost() {
					return proc.Dead
				}
				return proc.Alive
			})
			l := newLock(t, path, WithFair(), withFS(ffs), dead)
			require.NoError(t, lockWithin(l))
			require.Equal(t, tc.listings, listings.Load(), "listings of the queue")
			require.NoError(t, l.Unlock())
		})
	}
}

// listingsOf returns a faultFS that counts the listings of the directory
// dir (a fair queue's), and the count.
func listingsOf(dir string) (*faultFS, *atomic.Int64) {
	var n atomic.Int64
	return &faultFS{list: func(listed string) func(string) bool {
		if listed == dir {
			n.Add(1)
		}
		return nil
	}}, &n
}
