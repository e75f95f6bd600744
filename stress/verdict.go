package stress

import (
	"fmt"
	"slices"
	"strings"
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
	// were off), one worker ran, every release failed, a member of a mixed
	// population never held the lock, or a broken strategy showed no
	// violation.
	VerdictInconclusive = "INCONCLUSIVE"
	// VerdictInterrupted: the run was cut short (its context was
	// cancelled) before any violation or failure was found.
	VerdictInterrupted = "INTERRUPTED"
	// VerdictError: a worker crashed, hung or left no result, a worker's
	// log could not be read to its end, or the lock never recovered from
	// the kill of its holder (-kill-rate); and no violation was found.
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

// judge sets the report's Verdict and Reason, and its Cautions.
func (r *Report) judge() {
	r.Verdict, r.Reason = r.verdict()
	r.Cautions = r.cautions()
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
	case len(r.logErrors()) > 0:
		return VerdictError, fmt.Sprintf("%d worker logs could not be read to the end: the detectors saw only part of the run", len(r.logErrors()))
	case r.Faults.NeverRecovered > 0 && !r.partial:
		return VerdictError, fmt.Sprintf("the lock never recovered from %d of %d kills of its holder: no worker acquired it in the %v or more the run went on after each",
			r.Faults.NeverRecovered, r.Faults.Kills, recoveryBound(r.Config))
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
	case r.minChecked() > 0 && !r.partial && len(r.Workers) < 2:
		return VerdictInconclusive, "with one worker, nothing contended for the lock"
	case r.minChecked() > 0 && r.Acquisitions > 0 && r.failedReleases() >= r.Acquisitions:
		return VerdictInconclusive, fmt.Sprintf("every release failed (%d): the lock was never seen passed on", r.failedReleases())
	case r.minChecked() > 0 && !r.partial && r.idleMember() != "":
		return VerdictInconclusive, fmt.Sprintf("the member %s of the mixed population never held the lock", r.idleMember())
	}
	return VerdictPass, ""
}

// recoveryBound is how long after the kill of a holder the lock must have
// been taken again: two seconds, or the acquisition timeout if longer. A
// lock of this library on one host recovers within milliseconds (its dead
// holder is recognised), and is given far longer, for a loaded machine.
func recoveryBound(c ReportConfig) time.Duration {
	return max(2*time.Second, time.Duration(c.TimeoutNs))
}

// logErrors returns the worker logs that a detector could not read to the
// end, each once.
func (r *Report) logErrors() []string {
	d := r.Detectors
	var all []string
	for _, l := range [][]string{d.Ledger.LogErrors, d.Occupancy.LogErrors, d.Interval.LogErrors} {
		for _, e := range l {
			if !slices.Contains(all, e) {
				all = append(all, e)
			}
		}
	}
	return all
}

// failedReleases counts the releases that failed.
func (r *Report) failedReleases() int64 {
	var n int64
	for kind, e := range r.Errors {
		if strings.HasPrefix(kind, "release:") {
			n += e.Count
		}
	}
	return n
}

// idleMember returns the first member of a mixed population that had
// workers and never held the lock, "" if none.
func (r *Report) idleMember() string {
	for _, m := range r.Members {
		if m.Workers > 0 && m.Acquisitions == 0 {
			return m.Strategy
		}
	}
	return ""
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
