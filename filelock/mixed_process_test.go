//go:build linux

package filelock

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// counterScript increments the counter file at $2 ($3 times) under
// another program's lock on the path $1, reading and writing it in place,
// as TestMixedCounter's Go children do.
type counterScript struct {
	name   string
	ours   Strategy // the strategy of ours that must exclude it
	needs  string
	rounds int
	argv   []string
}

// shIncrement adds one to the counter file $2 in place.
const shIncrement = `n=0; [ -e "$2" ] && read n < "$2"; echo $(( n + 1 )) >| "$2"`

var counterScripts = []counterScript{
	{name: "py-filelock", ours: Soft, needs: "py:filelock", rounds: 250, argv: []string{"/usr/bin/python3", "-c", `
import filelock, sys
lock, counter, rounds = filelock.SoftFileLock(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for _ in range(rounds):
    lock.acquire(poll_interval=0.001)
    try:
        with open(counter, "a+") as f:
            f.seek(0)
            n = int(f.read().strip() or 0)
            f.seek(0)
            f.truncate()
            f.write(str(n + 1) + "\n")
    finally:
        lock.release()
`}},
	// A noclobber shell lock: exclusive create, spinning while busy.
	{name: "noclobber", ours: Link, needs: "sh", rounds: 200, argv: []string{"/bin/sh", "-c",
		`set -C; i=0; while [ $i -lt "$3" ]; do until { echo $$ > "$1"; } 2>/dev/null; do :; done; ` + shIncrement + `; rm -f "$1"; i=$((i+1)); done`, "sh"}},
	{name: "flock", ours: OS, needs: "flock", rounds: 200, argv: []string{"/bin/sh", "-c",
		`exec 9<"$1"; i=0; while [ $i -lt "$3" ]; do flock -x 9 || exit 1; ` + shIncrement + `; flock -u 9; i=$((i+1)); done`, "sh"}},
}

// TestMixedCounter: processes of ours and processes of another program
// increment one counter file in place, each under its own lock on one
// path: two of each, 1,000 increments in all. The count must be exact,
// which it is only if the two locks exclude each other.
//
// liblockfile's dotlockfile is left out: while it waits it judges the lock
// file and, when the file vanishes between its look and its judgement,
// removes the lock path unchecked — whatever lock file was made there
// meanwhile, its own kind's or ours. No lock that others may remove by
// path can keep an exact count beside it (docs/design.md).
func TestMixedCounter(t *testing.T) {
	t.Parallel() // a slow process test (main_test.go)
	const total, each = 1000, 2
	for _, cs := range counterScripts {
		t.Run(cs.name+"/"+cs.ours.String(), func(t *testing.T) {
			foreignTool{needs: cs.needs}.requireTool(t)
			dir := t.TempDir()
			lockPath, counter := filepath.Join(dir, "x.lock"), filepath.Join(dir, "counter")
			if cs.ours == OS {
				require.NoError(t, os.WriteFile(lockPath, nil, 0o644))
			}
			oursRounds := (total - each*cs.rounds) / each
			var foreign []*exec.Cmd
			var stderrs []*strings.Builder
			for range each {
				argv := append(append([]string{}, cs.argv...), lockPath, counter, strconv.Itoa(cs.rounds))
				cmd := exec.Command(argv[0], argv[1:]...)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				require.NoError(t, cmd.Start())
				t.Cleanup(func() { cmd.Process.Kill(); _ = cmd.Wait() })
				foreign, stderrs = append(foreign, cmd), append(stderrs, &stderr)
			}
			cmds, ourErrs := startCounters(t, cs.ours, each, oursRounds, lockPath, counter)
			for i, cmd := range append(cmds, foreign...) {
				require.NoError(t, cmd.Wait(), "process %d: %s", i, append(ourErrs, stderrs...)[i])
			}
			require.Equal(t, total, readCounter(t, counter), "increments lost")
		})
	}
}
