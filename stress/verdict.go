package stress

import (
	"fmt"
	"time"
)

// The verdicts of a run (Report.Verdict), from the best to the worst. A
// document's verdict is the worst of its runs'.
const (
	// VerdictPass: no violation, every worker finished, and the detectors
	// checked at least Config.MinChecked critical sections.
	VerdictPass = "PASS"
	// VerdictInconclusive: the run finished but tested too little to pass:
	// the detectors checked fewer critical sections than the minimum (or
	// were off), or a broken strategy showed no violation.
	VerdictInconclusive = "INCONCLUSIVE"
	// VerdictInterrupted: the run was cut short (its context was
	// cancelled) before any violation or failure was found.
	VerdictInterrupted = "INTERRUPTED"
	// VerdictError: a worker crashed, hung or left no result, and no
	// violation was found.
	VerdictError = "ERROR"
	// VerdictFail: mutual exclusion was violated.
	VerdictFail = "FAIL"
)

// verdictRank orders the verdicts from the best to the worst.
var verdictRank = map[string]int{
	VerdictPass: 0, VerdictInconclusive: 1, VerdictInterrupted: 2, VerdictError: 3, VerdictFail: 4,
}

// WorstVerdict returns the worst verdict of the reports, VerdictPass for
// none. A violation is worse than a failed worker: it is a definite
// finding, whereas a failed worker only makes the run incomplete.
func WorstVerdict(reports ...*Report) string {
	worst := VerdictPass
	for _, r := range reports {
		if verdictRank[r.Verdict] > verdictRank[worst] {
			worst = r.Verdict
		}
	}
	return worst
}

// judge sets the report's Verdict and Reason.
func (r *Report) judge() {
	r.Verdict, r.Reason = r.verdict()
}

func (r *Report) verdict() (verdict, reason string) {
	switch {
	case r.Violations > 0 && r.Broken:
		return VerdictFail, fmt.Sprintf("as it must: %s is a broken strategy", r.Strategy)
	case r.Violations > 0:
		return VerdictFail, "mutual exclusion was violated"
	case len(r.Failures) > 0:
		return VerdictError, fmt.Sprintf("%d workers failed", len(r.Failures))
	case r.Interrupted:
		return VerdictInterrupted, fmt.Sprintf("interrupted after %v of %v",
			time.Duration(r.ElapsedNs).Round(time.Millisecond), time.Duration(r.Config.DurationNs))
	case r.Broken && len(r.Workers) < 2:
		return VerdictInconclusive, fmt.Sprintf("%s is a broken strategy, and with one worker it cannot be caught", r.Strategy)
	case r.Broken:
		return VerdictInconclusive, fmt.Sprintf("%s is a broken strategy, and no detector caught it", r.Strategy)
	case !r.Detectors.Enabled && r.minChecked() > 0:
		return VerdictInconclusive, "the detectors were off: no critical section was checked"
	case r.checked() < r.minChecked():
		perWorker := ""
		if r.Config.MinChecked == 0 {
			perWorker = ", one per worker"
		}
		return VerdictInconclusive, fmt.Sprintf("the detectors checked %d critical sections, fewer than the minimum of %d%s%s",
			r.checked(), r.minChecked(), perWorker, r.failedOperations())
	}
	return VerdictPass, ""
}

// failedOperations says how many lock operations failed, if any did: the
// likely cause of too few checked critical sections.
func (r *Report) failedOperations() string {
	var n int64
	for _, e := range r.Errors {
		n += e.Count
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d lock operations failed, counted under errors", n)
}

// checked returns the fewest critical sections that a detector checked.
func (r *Report) checked() int64 {
	d := r.Detectors
	if !d.Enabled {
		return 0
	}
	return min(d.Ledger.Checked, d.Occupancy.Checked, d.Interval.Checked)
}

// minChecked returns the minimum of checked critical sections for a pass.
func (r *Report) minChecked() int64 {
	switch m := r.Config.MinChecked; {
	case m > 0:
		return int64(m)
	case m == 0:
		return int64(len(r.Workers))
	}
	return 0
}
