package detect

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// LedgerResult is what VerifyLedger found.
type LedgerResult struct {
	// Entries is the number of log entries read.
	Entries int64 `json:"entries"`
	// LastSeq is the highest sequence number logged.
	LastSeq uint64 `json:"last_seq"`
	// Takeovers counts entries that found the ledger held by a worker that
	// had been killed, or had died, inside the critical section: the
	// expected state after a kill, not a violation.
	Takeovers int64 `json:"takeovers"`
	// Handoffs counts pairs of consecutive sequence numbers, the second
	// not made in a warm-up (FlagWarmup); Retakes those whose two
	// acquisitions were made by the same worker.
	Handoffs int64 `json:"handoffs"`
	Retakes  int64 `json:"retakes"`
	// HandoffNs holds, for each handoff between two workers of one host,
	// the time from the release stamp of the first to the acquisition
	// stamp of the second (one clock: the host's CLOCK_MONOTONIC).
	// Acquisitions ended by a kill are left out.
	HandoffNs *hdrhistogram.Histogram `json:"-"`
	// Violations are the violations found, by kind.
	Violations *Tally `json:"violations"`
	// LogErrors lists logs that could not be read to the end.
	LogErrors []string `json:"log_errors,omitempty"`
}

// VerifyLedger merges the logs of every worker, of one host or of many, by
// sequence number and reports the ledger violations they show: a sequence
// number logged twice (KindDuplicate), a worker whose own sequence numbers
// do not increase (KindRegression), and every entry flagged by its worker
// as torn (KindTorn), found held (KindHeld, unless the holder had been
// killed) or changed under it (KindNonceChanged). It keeps the first
// maxExamples violations in full.
//
// Sequence numbers never need a clock, so the logs of hosts without a
// shared clock merge correctly. The merge assumes each log is sorted by
// sequence number, which holds unless the log has a regression: a duplicate
// that a regression moves out of order may go uncounted, but the run has
// failed already.
func VerifyLedger(logs []Log, origins map[string]int64, maxExamples int) (*LedgerResult, error) {
	return VerifyHostLedger(logs, origins, maxExamples, nil)
}

// VerifyHostLedger is VerifyLedger over the logs of one host of a run that
// several hosts share, given the nonces of the acquisitions that the other
// hosts' kills ended inside the critical section, which this host's logs
// do not show: a worker that found the ledger held by one of those took
// it over, as from a holder this host killed.
func VerifyHostLedger(logs []Log, origins map[string]int64, maxExamples int, killedElsewhere map[uint64]bool) (*LedgerResult, error) {
	killed, err := killedNonces(logs)
	if err != nil {
		return nil, err
	}
	for n := range killedElsewhere {
		killed[n] = true
	}
	v := &ledgerVerifier{
		res:     &LedgerResult{Violations: NewTally(maxExamples), HandoffNs: NewLatencyHistogram()},
		origins: origins,
		killed:  killed,
	}
	errs, err := merge(logs, func(a, b Entry) bool { return a.Seq < b.Seq }, v.visit)
	v.res.LogErrors = errs
	return v.res, err
}

// killedNonces returns the nonces of the acquisitions that a kill or a
// death ended inside the critical section: each log's last entry.
func killedNonces(logs []Log) (map[uint64]bool, error) {
	killed := map[uint64]bool{}
	for _, l := range logs {
		e, ok, err := lastEntry(l.Path)
		if err != nil {
			return nil, err
		}
		if ok && e.Flags&(FlagKilled|FlagDied) != 0 {
			killed[e.Nonce] = true
		}
	}
	return killed, nil
}

// ledgerVerifier is VerifyLedger's state as it visits the entries of all
// logs in sequence order.
type ledgerVerifier struct {
	res     *LedgerResult
	origins map[string]int64 // each host's origin, for the times of violations
	killed  map[uint64]bool  // killedNonces
	prev    *cursor          // the entry visited last, by value
	prevSeq uint64
}

// visit checks the entry at c.
func (v *ledgerVerifier) visit(c *cursor) {
	v.res.Entries++
	v.checkFlags(c)
	e := c.e
	if e.Seq == 0 {
		return
	}
	v.checkSequence(c)
	v.res.LastSeq = max(v.res.LastSeq, e.Seq)
	// Remember the previous entry by value: the cursor moves on.
	p := *c
	v.prev, v.prevSeq = &p, e.Seq
}

// add counts a violation of the entry at c; its detail is only worked out
// if it is kept as an example.
func (v *ledgerVerifier) add(c *cursor, kind string, detail func() string, workers ...string) {
	e := c.e
	viol := Violation{Detector: Ledger, Kind: kind, Workers: append([]string{c.log.Header.Name()}, workers...), Seq: e.Seq, AtNs: e.Acquired - v.origins[c.log.Header.Host]}
	if v.res.Violations.wants() {
		viol.Detail = detail()
	}
	v.res.Violations.Add(viol)
}

// checkFlags counts what the worker flagged in the entry at c: the ledger
// found held (a takeover if its holder was killed), torn, or changed.
func (v *ledgerVerifier) checkFlags(c *cursor) {
	e := c.e
	if e.Flags&FlagHeld != 0 {
		if v.killed[e.Seen] {
			v.res.Takeovers++
		} else {
			v.add(c, KindHeld, func() string {
				return fmt.Sprintf("found the ledger held by nonce %016x on entry%s", e.Seen, c.observed(FlagHeld))
			})
		}
	}
	if e.Flags&FlagTornEntry != 0 {
		v.add(c, KindTorn, func() string { return "read a torn ledger record on entry" + c.observed(FlagTornEntry) })
	}
	leaving := "on leaving"
	if e.Flags&FlagKilled != 0 {
		leaving = "when it was killed inside"
	}
	if e.Flags&FlagTornExit != 0 {
		v.add(c, KindTorn, func() string { return "read a torn ledger record " + leaving + c.observed(FlagTornExit) })
	}
	if e.Flags&FlagChanged != 0 {
		v.add(c, KindNonceChanged, func() string {
			return fmt.Sprintf("wrote nonce %016x; %s the ledger held nonce %016x instead%s", e.Nonce, leaving, e.Seen, c.observed(FlagChanged))
		})
	}
}

// checkSequence checks the sequence number of the entry at c against its
// worker's last (a regression) and the entry before it (a duplicate, or a
// handoff).
func (v *ledgerVerifier) checkSequence(c *cursor) {
	e := c.e
	if c.last != 0 && e.Seq <= c.last {
		last := c.last
		v.add(c, KindRegression, func() string {
			return fmt.Sprintf("wrote sequence number %d after it had written %d itself: the ledger went backwards", e.Seq, last)
		})
	}
	c.last = max(c.last, e.Seq)
	prev := v.prev
	if prev != nil && e.Seq == v.prevSeq {
		other := prev.e.Nonce
		v.add(c, KindDuplicate, func() string {
			return fmt.Sprintf("sequence number %d was written by two acquisitions (nonces %016x and %016x)", e.Seq, other, e.Nonce)
		}, prev.log.Header.Name())
	} else if prev != nil && e.Seq == v.prevSeq+1 && e.Flags&FlagWarmup == 0 {
		v.handoff(c)
	}
}

// handoff counts the handoff from the entry before to the one at c: a
// retake by the same worker, or between two workers of one host, the time
// from the one's release to the other's acquisition.
func (v *ledgerVerifier) handoff(c *cursor) {
	prev, e := v.prev, c.e
	v.res.Handoffs++
	sameHost := prev.log.Header.Host == c.log.Header.Host
	if sameHost && prev.log.Header.Owner == c.log.Header.Owner {
		v.res.Retakes++
	} else if sameHost && prev.e.Flags&(FlagKilled|FlagDied) == 0 && e.Acquired >= prev.e.Released {
		_ = v.res.HandoffNs.RecordValue(min(max(e.Acquired-prev.e.Released, 1), latencyMax))
	}
}
