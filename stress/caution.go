package stress

import (
	"fmt"
	"math"
)

// The detectors see a lock that lets a second worker in only while both
// are inside: a worker let in while nobody holds the lock overlaps nobody.
// A lock that does so now and then (a breaker that removes a live lock in
// a rare order, a racy check) is therefore seen seldom when the lock is
// held a small share of the time, as with -hold 0, the default, where a
// fast lock is held a few percent of the time: such slips were seen 1 to
// 12 times in 100 there, and nearly all once the lock was held half the
// time or more (docs/lockstress.md). A passing run says so, and what it
// did not check at all, so that its PASS is not read as more than it
// shows. One host's share of a shared run says nothing of it: its own
// workers' share of the time is not the lock's, which Verify's report
// has.

// idleLockShare is the share of the time held below which a passing run
// cautions that a lock letting a second worker in now and then could
// well have gone unseen.
const idleLockShare = 0.5

// cautions returns what limits the evidence of a passing run, one sentence
// each; nil for a run that did not pass, and for one host's share of a
// shared run.
func (r *Report) cautions() []string {
	switch {
	case r.Verdict != VerdictPass || r.partial:
		return nil
	case !r.Detectors.Enabled:
		return []string{"the detectors were off: no critical section was checked"}
	case r.Acquisitions == 0:
		return []string{"no acquisition was made: nothing was checked"}
	}
	// Judged by the share to a tenth of a percent, as the summary's
	// throughput line gives it: a run it shows held half the time has
	// no caution.
	if math.Round(1000*r.Utilization) >= 1000*idleLockShare {
		return nil
	}
	return []string{fmt.Sprintf("lock held %.1f%% of the time: a lock that lets a second worker in now and then is seen only while both are inside, "+
		"so such slips could well have gone unseen; %s would test exclusion harder", 100*r.Utilization, harderAdvice(r.Config))}
}

// harderAdvice says what would keep the lock held more of the time.
func harderAdvice(c ReportConfig) string {
	switch {
	case c.Hold == "0s":
		return "a hold (-hold 1ms)"
	case c.Think != "0s":
		return "less time between acquisitions (-think) or a longer hold (-hold)"
	}
	return "a longer hold (-hold) or more workers (-procs)"
}
