package filelock

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Simulated interleavings of the soft strategy (see sim_test.go).

func TestSimSoft(t *testing.T) {
	var counts simCounts
	checkModel(t, simProp(simConfig{strategy: Soft, removals: true, counts: &counts}), modelParams(t, 60, 300))
	require.Zero(t, processLocks.size())
	// The runs must have exercised the lock, not only passed.
	require.Positive(t, counts.acquired, "acquisitions")
	require.Positive(t, counts.lost, "locks taken away while held")
	require.Positive(t, counts.crashed, "crashes")
	t.Logf("%+v", counts)
}

// TestSimLink: the same for the link strategy.
func TestSimLink(t *testing.T) {
	var counts simCounts
	checkModel(t, simProp(simConfig{strategy: Link, removals: true, counts: &counts}), modelParams(t, 60, 300))
	require.Zero(t, processLocks.size())
	require.Positive(t, counts.acquired, "acquisitions")
	require.Positive(t, counts.crashed, "crashes")
}

// TestSimBreakProtocol: nothing removes the lock from outside; processes
// crash at any step, and the others break the crashed holders' locks by
// the dead-holder rule, under the guard, in every interleaving generated.
func TestSimBreakProtocol(t *testing.T) {
	for _, s := range []Strategy{Soft, Link} {
		t.Run(s.String(), func(t *testing.T) {
			var counts simCounts
			checkModel(t, simProp(simConfig{strategy: s, counts: &counts}), modelParams(t, 60, 300))
			require.Zero(t, processLocks.size())
			require.Positive(t, counts.acquired, "acquisitions")
			require.Positive(t, counts.crashed, "crashes")
			t.Logf("%+v", counts)
		})
	}
}

// The invariants must catch deliberately broken locks.

func TestSimCatchesNaiveBreaker(t *testing.T) {
	cfg := simConfig{strategy: Soft, variant: naiveBreaking}
	expectModelFails(t, simProp(cfg), seededParams(t, 300, 300), "live lock removed", "mutual exclusion")
	require.Zero(t, processLocks.size())
}

func TestSimCatchesReleaseWithoutOwnershipCheck(t *testing.T) {
	cfg := simConfig{strategy: Soft, removals: true, variant: uncheckedRelease}
	expectModelFails(t, simProp(cfg), seededParams(t, 300, 300), "live lock removed")
	require.Zero(t, processLocks.size())
}

// A lock that ignores busy is caught either by two processes inside at
// once or, when the first leaves before the second enters, by the first
// one's release removing the file the second believes it holds; which
// invariant trips first depends on the generated interleaving.
func TestSimCatchesLockWithoutExclusion(t *testing.T) {
	cfg := simConfig{strategy: Soft, variant: ignoringBusy}
	expectModelFails(t, simProp(cfg), seededParams(t, 300, 300), "mutual exclusion", "live lock removed")
	require.Zero(t, processLocks.size())
}

// TestSimReplaysFromSeed: a seed gives the same failure, minimal sequence
// and trace every time, which is what makes a reported seed worth having.
func TestSimReplaysFromSeed(t *testing.T) {
	t.Setenv(envModelSeed, "12345")
	cfg := simConfig{strategy: Soft, removals: true, variant: uncheckedRelease}
	var got []string
	for range 2 {
		r := simProp(cfg).Check(seededParams(t, 300, 300))
		require.Len(t, r.Args, 1)
		got = append(got, fmt.Sprint(r.Status, r.Succeeded, r.Labels, r.Args[0].Arg))
	}
	require.Contains(t, got[0], "live lock removed")
	require.Equal(t, got[0], got[1])
}
