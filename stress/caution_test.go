package stress

import (
	"bytes"
	"strings"
	"testing"
)

// TestCaution: a passing run whose lock was held less than a quarter of
// the time says that a lock letting a second worker in now and then would
// likely have gone unseen, with the share it was held; a run held longer,
// or one that did not pass, says nothing of it.
func TestCaution(t *testing.T) {
	for _, tc := range []struct {
		name    string
		r       Report
		checked int64
		off     bool
		want    string // in the caution; "" for none
	}{
		{"held a few percent", Report{Acquisitions: 100, Utilization: 0.056}, 100, false, "lock held 5.6% of the time"},
		{"held just under a quarter", Report{Acquisitions: 100, Utilization: 0.2499}, 100, false, "held 25.0%"},
		{"held a quarter of the time", Report{Acquisitions: 100, Utilization: 0.25}, 100, false, ""},
		{"held most of the time", Report{Acquisitions: 100, Utilization: 0.9}, 100, false, ""},
		{"a violation", Report{Acquisitions: 100, Utilization: 0.05, Violations: 1}, 100, false, ""},
		{"inconclusive", Report{Acquisitions: 100, Utilization: 0.05}, 0, false, ""},
		{"detectors off", Report{Acquisitions: 100, Utilization: 0.05, Config: ReportConfig{MinChecked: -1}}, 0, true, ""},
		{"no acquisition", Report{Config: ReportConfig{MinChecked: -1}}, 0, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := judged(t, tc.r, tc.checked, tc.off)
			if tc.want == "" {
				if len(r.Cautions) != 0 {
					t.Fatalf("cautions %q (verdict %s), want none", r.Cautions, r.Verdict)
				}
				return
			}
			if r.Verdict != VerdictPass || len(r.Cautions) != 1 || !strings.Contains(r.Cautions[0], tc.want) {
				t.Fatalf("verdict %s, cautions %q; want a PASS with one caution holding %q", r.Verdict, r.Cautions, tc.want)
			}
			var b bytes.Buffer
			if err := WriteSummary(&b, r); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if n := len(lines); n < 2 || lines[n-1] != "  verdict      PASS" || !strings.HasPrefix(lines[n-2], "  caution      lock held") {
				t.Errorf("the summary does not end with the caution and then the verdict:\n%s", b.String())
			}
		})
	}
}
