package filelock

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/stretchr/testify/require"
)

// The property-based models (model_reentrancy_test.go, sim_test.go) run a
// bounded number of generated sequences in every `go test`; these variables
// make a run longer or replay one. See docs/testing.md.
const (
	// envModelSeed fixes the seed of every model (decimal int64); unset, a
	// fresh seed is drawn and printed with any failure.
	envModelSeed = "LOCKSTRESS_MODEL_SEED"
	// envModelRuns is the number of sequences each model generates.
	envModelRuns = "LOCKSTRESS_MODEL_RUNS"
	// envModelSteps is the longest sequence a model generates.
	envModelSteps = "LOCKSTRESS_MODEL_STEPS"
)

// modelParams returns the gopter parameters of one model: runs sequences of
// up to steps commands unless the environment says otherwise. The seed is
// drawn once per call, so each model and each subtest can be replayed alone.
func modelParams(t testing.TB, runs, steps int) *gopter.TestParameters {
	t.Helper()
	return seededParams(t, envInt(t, envModelRuns, runs), envInt(t, envModelSteps, steps))
}

// seededParams is modelParams with only the seed from the environment, for
// the tests that must catch a broken lock: fewer runs could miss it.
func seededParams(t testing.TB, runs, steps int) *gopter.TestParameters {
	t.Helper()
	seed := time.Now().UnixNano()
	if s, ok := os.LookupEnv(envModelSeed); ok {
		var err error
		seed, err = strconv.ParseInt(s, 10, 64)
		require.NoError(t, err, "%s must be a decimal int64", envModelSeed)
	}
	p := gopter.DefaultTestParametersWithSeed(seed)
	p.MinSuccessfulTests = runs
	p.MinSize, p.MaxSize = 1, steps
	p.Workers = 1
	return p
}

func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	s, ok := os.LookupEnv(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "%s must be a positive integer", name)
	require.Positive(t, n, "%s must be a positive integer", name)
	return n
}

// checkModel runs prop and fails the test with the seed, the minimal
// sequence and how to replay it if the property does not hold.
func checkModel(t *testing.T, prop gopter.Prop, p *gopter.TestParameters) {
	t.Helper()
	if r := prop.Check(p); !r.Passed() {
		t.Fatal(modelReport(t, r, p))
	}
}

// expectModelFails runs prop, which is given a deliberately broken lock,
// and checks that the model catches it with a failure whose labels mention
// one of want. It prints nothing unless the model misses the fault.
func expectModelFails(t *testing.T, prop gopter.Prop, p *gopter.TestParameters, want ...string) {
	t.Helper()
	r := prop.Check(p)
	if r.Status != gopter.TestFailed {
		t.Fatalf("the model did not catch the broken lock (status %v after %d sequences, seed %d)", r.Status, r.Succeeded, p.Seed())
	}
	labels := strings.Join(r.Labels, "\n")
	for _, w := range want {
		if strings.Contains(labels, w) {
			return
		}
	}
	t.Fatalf("the model failed for another reason than %q:\n%s", want, modelReport(t, r, p))
}

// modelReport describes a failed property: why, the seed, the shrunk
// sequence and the command that replays it.
func modelReport(t *testing.T, r *gopter.TestResult, p *gopter.TestParameters) string {
	var b strings.Builder
	fmt.Fprintf(&b, "model failed after %d passing sequences (%v)\n", r.Succeeded, r.Status)
	for _, l := range r.Labels {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if r.Error != nil {
		fmt.Fprintf(&b, "  error: %v\n%s\n", r.Error, r.ErrorStack)
	}
	for _, a := range r.Args {
		fmt.Fprintf(&b, "minimal sequence (%d shrinks):\n  %v\n", a.Shrinks, a.Arg)
	}
	fmt.Fprintf(&b, "replay: %s=%d %s=%d %s=%d go test ./filelock -run '^%s$'",
		envModelSeed, p.Seed(), envModelRuns, p.MinSuccessfulTests, envModelSteps, p.MaxSize, t.Name())
	return b.String()
}

// fail is a failed property result with a label saying why.
func fail(format string, args ...any) *gopter.PropResult {
	return &gopter.PropResult{Status: gopter.PropFalse, Labels: []string{fmt.Sprintf(format, args...)}}
}

// pass is a property result that holds. (A fresh one each time: gopter
// appends to the results it is given.)
func pass() *gopter.PropResult { return &gopter.PropResult{Status: gopter.PropTrue} }
