package filelock

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstress/lockstress/internal/proc"
)

// A record written in an earlier boot of this machine (same host name, same
// machine id, another boot id) names a holder that is provably gone; one of
// another machine of the same name, or one without a machine id, is left to
// the age rule.

const (
	earlierBootID = "00000000-0000-4000-8000-0000000000e1"
	otherMachine  = "0000000000000000000000000000000e"
)

// bootTestIdentity returns this process's identity and the options that
// make the locks of a test use it: none where the system knows a boot id
// and a machine id (the defaults), and otherwise an identity with made-up
// ones, so that the rule is tested on a system without /etc/machine-id too.
func bootTestIdentity(t *testing.T) (proc.Identity, []Option) {
	t.Helper()
	me := proc.Self()
	if me.BootID != "" && me.MachineID != "" {
		return me, nil
	}
	if me.BootID == "" {
		me.BootID = "00000000-0000-4000-8000-0000000000b0"
	}
	if me.MachineID == "" {
		me.MachineID = "3d1219c7c4c5404aaa1f6d2a48adfda4"
	}
	return me, []Option{withProcess(me, hostLiveness)}
}

// bootRecordCase is a record of this host name in another boot.
type bootRecordCase struct {
	name    string
	machine func(me proc.Identity) string // the machine id recorded
	dead    bool                          // provably dead at once
}

func bootRecordCases() []bootRecordCase {
	return []bootRecordCase{
		{name: "this machine, earlier boot", machine: func(me proc.Identity) string { return me.MachineID }, dead: true},
		{name: "another machine of this name", machine: func(proc.Identity) string { return otherMachine }},
		{name: "no machine id recorded", machine: func(proc.Identity) string { return "" }},
	}
}

// earlierBootRecord returns the text of a record of this host name with
// machine id machine and another boot id, written an hour before this
// boot. Its PID is this process's, alive now: only the boot tells that it
// names another process.
func earlierBootRecord(t *testing.T, me proc.Identity, machine string) []byte {
	t.Helper()
	id := me
	id.BootID, id.MachineID = earlierBootID, machine
	require.NotEqual(t, me.BootID, id.BootID)
	data, err := newRecord(id, proc.BootTime().Add(-time.Hour)).MarshalText()
	require.NoError(t, err)
	return data
}

// TestEarlierBootLockBroken: a waiter with the default options breaks at
// once a soft or link lock whose record is of an earlier boot of this
// machine, and leaves one of another machine, or of no stated machine, to
// the age rule.
func TestEarlierBootLockBroken(t *testing.T) {
	me, idOpts := bootTestIdentity(t)
	for _, s := range []Strategy{Soft, Link} {
		for _, c := range bootRecordCases() {
			t.Run(s.String()+"/"+c.name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "x.lock")
				data := earlierBootRecord(t, me, c.machine(me))
				require.NoError(t, os.WriteFile(path, data, 0o644))

				opts := append([]Option{WithStrategy(s)}, idOpts...)
				if !c.dead {
					// Not before the age rule, whichever comes first.
					opts = append(opts, WithStaleAfter(time.Hour))
					st, err := Inspect(path, opts...)
					require.NoError(t, err)
					require.False(t, st.Stale, "Inspect: %s", st.StaleReason)
					require.ErrorIs(t, newLock(t, path, opts...).TryLock(), ErrWouldBlock)
					got, err := os.ReadFile(path)
					require.NoError(t, err)
					require.Equal(t, data, got, "a lock that is not stale is left as it was")
					return
				}
				st, err := Inspect(path, opts...)
				require.NoError(t, err)
				require.True(t, st.Stale)
				require.Equal(t, fmt.Sprintf("holder process %d: its record was written in an earlier boot of this machine (boot id %s, now %s)", me.PID, earlierBootID, me.BootID), st.StaleReason)

				l := newLock(t, path, append(opts, WithTimeout(5*time.Second))...)
				start := time.Now()
				require.NoError(t, lockWithin(l), "the lock of an earlier boot is broken")
				require.Less(t, time.Since(start), 4*time.Second, "at once, not after StaleAfter")
				st, err = l.Inspect()
				require.NoError(t, err)
				require.Equal(t, me.PID, st.Holder.PID)
				require.Equal(t, me.BootID, st.Holder.BootID)
				require.Equal(t, me.MachineID, st.Holder.MachineID)
				require.NoError(t, l.Unlock())
				require.Empty(t, dirEntries(t, dir))
			})
		}
	}
}

// TestEarlierBootTicketRemoved: a ticket of the fair queue whose record is
// of an earlier boot of this machine is removed at once; one of another
// machine, or of no stated machine, holds the queue up until it expires.
func TestEarlierBootTicketRemoved(t *testing.T) {
	me, idOpts := bootTestIdentity(t)
	for _, c := range bootRecordCases() {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			data := earlierBootRecord(t, me, c.machine(me))
			r, err := ParseRecord(data)
			require.NoError(t, err)
			require.NoError(t, os.Mkdir(path+queueSuffix, 0o755))
			name := filepath.Join(path+queueSuffix, fmt.Sprintf("%0*d-%s", ticketNumberDigits, 3, r.Token))
			require.NoError(t, os.WriteFile(name, data, 0o644))

			opts := append([]Option{WithFair(), WithStaleAfter(time.Hour)}, idOpts...)
			if !c.dead {
				require.ErrorIs(t, newLock(t, path, opts...).TryLock(), ErrWouldBlock)
				require.FileExists(t, name, "the ticket waits for the age rule")
				return
			}
			l := newLock(t, path, append(opts, WithTimeout(5*time.Second))...)
			start := time.Now()
			require.NoError(t, lockWithin(l))
			require.Less(t, time.Since(start), 4*time.Second, "at once, not after StaleAfter")
			require.NoFileExists(t, name)
			require.NoError(t, l.Unlock())
		})
	}
}
