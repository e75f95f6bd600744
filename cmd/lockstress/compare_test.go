package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lockstress/lockstress/stress"
)

// shape is the figures of a synthetic report before noise.
type shape struct {
	throughput, p50, p99, max, handoff, jain, cpu float64
}

var baseShape = shape{throughput: 5000, p50: 100e3, p99: 2e6, max: 50e6, handoff: 80e3, jain: 0.9, cpu: 0.7}

// synthReport returns a report of the given shape, each figure scaled by
// its own normal noise of relative deviation noise.
func synthReport(r *rand.Rand, strategy string, s shape, noise float64) *stress.Report {
	n := func(x float64) float64 { return x * (1 + noise*r.NormFloat64()) }
	lat := func(p50, p99, max float64) stress.Latency {
		return stress.Latency{Count: 1000, P50Ns: int64(n(p50)), P99Ns: int64(n(p99)), MaxNs: int64(n(max))}
	}
	return &stress.Report{
		RunID: "synthetic", Strategy: strategy, ElapsedNs: 1e9, Throughput: n(s.throughput),
		AcquireLatency: lat(s.p50, s.p99, s.max), HandoffLatency: lat(s.handoff, 0, 0),
		Fairness: stress.Fairness{Workers: 4, Jain: min(n(s.jain), 1)}, WorkerCPUShare: n(s.cpu),
		Config: stress.ReportConfig{Procs: 4, DurationNs: 1e9, Detectors: true}, Detectors: stress.Detectors{Enabled: true},
	}
}

// writeReports writes count synthetic reports of one shape and returns
// their paths.
func writeReports(t *testing.T, r *rand.Rand, name string, count int, s shape, noise float64) []string {
	t.Helper()
	var paths []string
	for i := range count {
		paths = append(paths, writeDoc(t, name+string(rune('a'+i)), synthReport(r, "ofd", s, noise)))
	}
	return paths
}

// writeDoc writes a JSON report of the given runs.
func writeDoc(t *testing.T, name string, runs ...*stress.Report) string {
	t.Helper()
	b, err := json.Marshal(stress.NewDocument(runs...))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// compareRun runs lockstress compare on the two sides.
func compareRun(t *testing.T, flags []string, old, new []string) (int, string, string) {
	t.Helper()
	args := append(append(append([]string{"compare"}, flags...), old...), "vs")
	return lockstressRun(t, append(args, new...)...)
}

// lockstressRun runs lockstress in-process.
func lockstressRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// tableRow returns the cells of the row of a figure in compare's output.
func tableRow(t *testing.T, out, label string) (delta, stat string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + `\s.*\s(\S+)  \((.*)\)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no row %q in\n%s", label, out)
	}
	return m[1], m[2]
}

// A known injected change is flagged; the unchanged figures are not.
func TestCompareFlagsInjectedChange(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	worse := baseShape
	worse.throughput *= 0.8
	worse.p99 *= 1.3
	old, new := writeReports(t, r, "old", 6, baseShape, 0.03), writeReports(t, r, "new", 6, worse, 0.03)
	code, out, stderr := compareRun(t, []string{"-max-regress", "p99=10%,throughput=5%,p50=1%"}, old, new)
	if code != exitRegressed {
		t.Fatalf("exit code %d, want %d; stderr %s\n%s", code, exitRegressed, stderr, out)
	}
	for _, c := range []struct{ label, sign string }{{"throughput", "-"}, {"acquire p99", "+"}} {
		if delta, stat := tableRow(t, out, c.label); !strings.HasPrefix(delta, c.sign) || !strings.HasPrefix(stat, "p=0.00") {
			t.Errorf("%s: delta %q (%s), want a significant %s change", c.label, delta, stat, c.sign)
		}
	}
	if delta, _ := tableRow(t, out, "acquire p50"); delta != "~" {
		t.Errorf("unchanged p50 has delta %q, want ~", delta)
	}
	if !regexp.MustCompile(`REGRESSED.*\n  ofd throughput -\d.*\n  ofd p99 \+\d`).MatchString(out) || strings.Contains(out, "ofd p50") {
		t.Errorf("the verdict does not name throughput and p99 alone:\n%s", out)
	}
	// The same change within the limits passes.
	if code, out, _ := compareRun(t, []string{"-max-regress", "p99=40%,throughput=25%"}, old, new); code != exitCompared {
		t.Errorf("within the limits: exit code %d\n%s", code, out)
	}
}

// Repeats of one configuration compare as "~" throughout.
func TestCompareRepeatsAreNoise(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	old, new := writeReports(t, r, "old", 8, baseShape, 0.05), writeReports(t, r, "new", 8, baseShape, 0.05)
	code, out, stderr := compareRun(t, []string{"-max-regress", "10%"}, old, new)
	if code != exitCompared {
		t.Fatalf("exit code %d; stderr %s\n%s", code, stderr, out)
	}
	for _, f := range figures {
		if delta, stat := tableRow(t, out, f.label); delta != "~" || !strings.HasSuffix(stat, "n=8+8") {
			t.Errorf("%s: delta %q (%s), want ~ over 8+8 reports", f.label, delta, stat)
		}
	}
}

// Over many repeats of one configuration the U test calls a change
// significant about as often as alpha allows, and a real change of three
// deviations nearly always.
func TestCompareFalseAndTruePositives(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const trials = 1000
	var falsePos, truePos int
	for range trials {
		var old, same, shifted []*stress.Report
		for range 5 {
			old = append(old, synthReport(r, "ofd", baseShape, 0.05))
			same = append(same, synthReport(r, "ofd", baseShape, 0.05))
			s := baseShape
			s.throughput *= 1.15
			shifted = append(shifted, synthReport(r, "ofd", s, 0.05))
		}
		if row, _ := compareFigure(figures[0], old, same); row.significant(0.05) {
			falsePos++
		}
		if row, _ := compareFigure(figures[0], old, shifted); row.significant(0.05) {
			truePos++
		}
	}
	// With 5+5 reports the exact test's size at 0.05 is 8/252 = 0.032.
	if rate := float64(falsePos) / trials; rate < 0.01 || rate > 0.06 {
		t.Errorf("same configuration: %d of %d comparisons significant", falsePos, trials)
	}
	if rate := float64(truePos) / trials; rate < 0.85 {
		t.Errorf("a change of three deviations: only %d of %d comparisons significant", truePos, trials)
	}
}

// With one report a side the change is shown, no significance is
// claimed, and -max-regress cannot judge; 3+3 reports cannot either.
func TestCompareTooFewReports(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	worse := baseShape
	worse.p99 *= 2
	for _, c := range []struct {
		n                 int
		delta, stat, note string
	}{
		{1, "+", "n=1+1", "one report a side: no significance can be claimed"},
		{3, "~", "p=0.100 n=3+3", "3+3 reports cannot show a change at alpha 0.05 (the least p-value is 0.100; 4 a side can)"},
	} {
		old, new := writeReports(t, r, "old", c.n, baseShape, 0.01), writeReports(t, r, "new", c.n, worse, 0.01)
		code, out, _ := compareRun(t, []string{"-max-regress", "p99=10%"}, old, new)
		delta, stat := tableRow(t, out, "acquire p99")
		if code != exitUnjudged || !strings.HasPrefix(delta, c.delta) || stat != c.stat || strings.Count(out, c.note) != 2 {
			t.Errorf("%d a side: exit code %d, p99 %q (%s), want %d, %q (%s) and the note %q in the table and the verdict:\n%s",
				c.n, code, delta, stat, exitUnjudged, c.delta, c.stat, c.note, out)
		}
	}
}

// Runs are paired by strategy; one strategy a side pairs whatever the
// names; configurations that differ are noted.
func TestComparePairing(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	rep := func(s string) *stress.Report { return synthReport(r, s, baseShape, 0.01) }
	fair := rep("ofd")
	fair.Config.Fair, fair.Config.Procs = true, 8
	noHandoff := rep("ofd")
	noHandoff.HandoffLatency = stress.Latency{}
	for _, c := range []struct {
		name     string
		old, new []*stress.Report
		want     []string
	}{
		{"by name", []*stress.Report{rep("soft"), rep("ofd")}, []*stress.Report{rep("ofd"), rep("link")},
			[]string{"\nofd ", "not compared: soft (old side only)", "not compared: link (new side only)"}},
		{"one each", []*stress.Report{rep("soft")}, []*stress.Report{rep("ofd")}, []string{"\nsoft → ofd "}},
		{"configs", []*stress.Report{rep("ofd")}, []*stress.Report{fair}, []string{"the sides ran different configurations: procs 4 → 8, fair false → true"}},
		{"missing figure", []*stress.Report{rep("ofd")}, []*stress.Report{noHandoff}, []string{"left out, as not every report has them: handoff p50"}},
	} {
		code, out, stderr := lockstressRun(t, "compare", writeDoc(t, "old", c.old...), writeDoc(t, "new", c.new...))
		for _, w := range c.want {
			if code != exitCompared || !strings.Contains(out, w) {
				t.Errorf("%s: exit code %d, output lacks %q:\n%s%s", c.name, code, w, out, stderr)
			}
		}
	}
	_, _, err := pairSides([]string{writeDoc(t, "a", rep("soft"), rep("os"))}, []string{writeDoc(t, "b", rep("ofd"), rep("link"))})
	if !errors.Is(err, errNothingInCommon) {
		t.Errorf("sides with no strategy in common: %v", err)
	}
}

// Bad arguments and reports stop compare with exit status 2 and a message
// that names them.
func TestCompareErrors(t *testing.T) {
	report := writeDoc(t, "ok", synthReport(rand.New(rand.NewPCG(1, 1)), "ofd", baseShape, 0))
	notReport := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(notReport, []byte(`{"schema": "something-else", "runs": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.json")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "want OLD.json NEW.json"},
		{[]string{report, report, report}, "got 3 arguments"},
		{[]string{report, "vs"}, `want reports on both sides of "vs"`},
		{[]string{report, report, "-max-regress", "10%"}, "flag -max-regress after the reports"},
		{[]string{"-max-regress", "p98=5%", report, report}, `no figure "p98"`},
		{[]string{"-alpha", "2", report, report}, "-alpha must be between 0 and 1, got 2"},
		{[]string{report, missing}, missing + ": no such file"},
		{[]string{notReport, report}, notReport + `: not a lockstress JSON report: schema "something-else"`},
	} {
		code, out, stderr := lockstressRun(t, append([]string{"compare"}, c.args...)...)
		if code != exitUnreadable || !strings.Contains(stderr, c.want) || out != "" {
			t.Errorf("compare %q: exit code %d, stderr %q, stdout %q; want 2 and %q", c.args, code, stderr, out, c.want)
		}
	}
	if _, err := readReport(notReport); !errors.Is(err, errNotReport) {
		t.Errorf("readReport of another JSON document: %v", err)
	}
	if _, err := readReport(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("readReport of a missing file: %v", err)
	}
	if code, out, _ := lockstressRun(t, "compare", "-h"); code != exitCompared || !strings.Contains(out, "-max-regress LIMITS") {
		t.Errorf("compare -h: exit code %d:\n%s", code, out)
	}
}

func TestRegressLimits(t *testing.T) {
	var none regressLimits
	if v, ok := none.limit("p99"); ok {
		t.Errorf("the zero regressLimits limits p99 to %v", v)
	}
	for _, c := range []struct {
		spec string
		want map[string]float64 // limits of throughput, p99 and max; absent: none
		err  string
	}{
		{spec: "10%", want: map[string]float64{"throughput": 0.1, "p99": 0.1, "max": 0.1}},
		{spec: "p99=10%,throughput=5", want: map[string]float64{"throughput": 0.05, "p99": 0.1}},
		{spec: "10%, max=50%", want: map[string]float64{"throughput": 0.1, "p99": 0.1, "max": 0.5}},
		{spec: "ten", err: `"ten" is not a percentage`},
		{spec: "p99=-5%", err: `"-5%" is not a percentage`},
		{spec: "10%,20%", err: "two limits for every figure"},
		{spec: "p99=1%,p99=2%", err: "two limits for p99"},
		{spec: "violations=0", err: `no figure "violations"`},
	} {
		var l regressLimits
		err := l.Set(c.spec)
		if c.err != "" {
			if !errors.Is(err, errRegressSpec) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Set(%q) = %v, want an error with %q", c.spec, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Set(%q): %v", c.spec, err)
		}
		for _, name := range []string{"throughput", "p99", "max"} {
			got, ok := l.limit(name)
			want, wantOK := c.want[name]
			if ok != wantOK || math.Abs(got-want) > 1e-12 && ok {
				t.Errorf("Set(%q): limit of %s is %v, %v; want %v, %v", c.spec, name, got, ok, want, wantOK)
			}
		}
	}
}
