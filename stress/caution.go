package stress

import "fmt"

// The detectors see a lock that lets a second worker in only while one is
// inside: a worker let in while nobody holds the lock overlaps nobody. A
// lock that does so now and then (a breaker that removes a live lock in a
// rare order, a racy check) is therefore seen, each time, with about the
// chance that a worker was inside at that moment, which is the share of
// the time the lock was held. With -hold 0, the default, a fast lock is
// held a few percent of the time: a lock made to let a second worker in
// once in 1,000 acquisitions passed most runs so, and failed every run
// with -hold 100us (docs/lockstress.md). A passing run says so, so that
// its PASS is not read as more than it shows.

// idleLockShare is the share of the time held below which a passing run
// cautions that a lock letting a second worker in now and then would
// likely have gone unseen: below a quarter, three such slips in four go
// unseen.
const idleLockShare = 0.25

// cautions returns what limits the evidence of a passing run, one sentence
// each; nil for a run that did not pass.
func (r *Report) cautions() []string {
	if r.Verdict != VerdictPass || !r.Detectors.Enabled || r.Acquisitions == 0 || r.Utilization >= idleLockShare {
		return nil
	}
	return []string{fmt.Sprintf("lock held %.1f%% of the time: a lock that lets a second worker in now and then is seen only while one is inside, "+
		"so each such slip had about that chance of being seen; -hold 1ms tests exclusion harder",
		100*r.Utilization)}
}
