package stress

import (
	"bytes"
	"strings"
	"testing"
)

// TestCaution: a passing run whose lock was held less than half the time
// says that a lock letting a second worker in now and then could well
// have gone unseen, with the share it was held (as the summary shows it,
// which decides) and what would hold it more; one that checked nothing
// says so; a run held longer, one that did not pass, and one host's share
// of a shared run say nothing.
func TestCaution(t *testing.T) {
	noMinimum := ReportConfig{MinChecked: -1}
	for _, tc := range []struct {
		name    string
		r       Report
		checked int64
		off     bool
		want    []string // in the caution; none for no caution
	}{
		{"held a few percent", Report{Acquisitions: 100, Utilization: 0.056, Config: ReportConfig{Hold: "0s", Think: "0s"}}, 100, false,
			[]string{"lock held 5.6% of the time", "a hold (-hold 1ms) would test"}},
		{"held just under half", Report{Acquisitions: 100, Utilization: 0.4994, Config: ReportConfig{Hold: "1ms", Think: "0s"}}, 100, false,
			[]string{"held 49.9%", "a longer hold (-hold) or more workers (-procs)"}},
		{"shown as held half the time", Report{Acquisitions: 100, Utilization: 0.49951}, 100, false, nil},
		{"thinking", Report{Acquisitions: 100, Utilization: 0.2, Config: ReportConfig{Hold: "1ms", Think: "20ms"}}, 100, false,
			[]string{"held 20.0%", "less time between acquisitions (-think)"}},
		{"held half the time", Report{Acquisitions: 100, Utilization: 0.5}, 100, false, nil},
		{"held most of the time", Report{Acquisitions: 100, Utilization: 0.9}, 100, false, nil},
		{"a violation", Report{Acquisitions: 100, Utilization: 0.05, Violations: 1}, 100, false, nil},
		{"inconclusive", Report{Acquisitions: 100, Utilization: 0.05}, 0, false, nil},
		{"one host's share", Report{partial: true, Acquisitions: 100, Utilization: 0.05}, 100, false, nil},
		{"detectors off", Report{Acquisitions: 100, Utilization: 0.9, Config: noMinimum}, 0, true, []string{"the detectors were off"}},
		{"no acquisition", Report{Config: noMinimum}, 0, false, []string{"no acquisition was made"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := judged(t, tc.r, tc.checked, tc.off)
			if tc.want == nil {
				if len(r.Cautions) != 0 {
					t.Fatalf("cautions %q (verdict %s), want none", r.Cautions, r.Verdict)
				}
				return
			}
			if r.Verdict != VerdictPass || len(r.Cautions) != 1 {
				t.Fatalf("verdict %s, cautions %q; want a PASS with one caution", r.Verdict, r.Cautions)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Cautions[0], w) {
					t.Errorf("caution %q does not say %q", r.Cautions[0], w)
				}
			}
			var b bytes.Buffer
			if err := WriteSummary(&b, r); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if n := len(lines); n < 2 || lines[n-1] != "  verdict      PASS" || lines[n-2] != "  caution      "+r.Cautions[0] {
				t.Errorf("the summary does not end with the caution and then the verdict:\n%s", b.String())
			}
		})
	}
}
