package stress

import (
	"fmt"
	"maps"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lockstress/lockstress/stress/detect"
)

// assembly is a report being assembled from the data of a run's hosts:
// the report, and what its figures are computed from once every host is
// in.
type assembly struct {
	rep           *Report
	latency, hold *hdrhistogram.Histogram
	occupancy     *detect.Tally
	recoveries    []int64 // of the kills, those recovered from
	holdNs        int64
	// measured and metered are the hosts' measured runs and the times
	// their CPU was metered over (hostspan.go).
	measured, metered []interval
	maxExamples       int
}

// assemble makes the report of a run from the data of its hosts, running
// the ledger verifier over the logs of all hosts and the interval verifier
// over those of each host. partial: the data is one host's of a run that
// several share (Config.Join), and the report that host's share.
func assemble(hosts []*hostData, maxExamples int, partial bool) (*Report, error) {
	a := newAssembly(hosts[0], maxExamples)
	a.rep.partial = partial
	for _, h := range hosts {
		if err := a.add(h); err != nil {
			return nil, fmt.Errorf("host %s: %w", h.Host, err)
		}
	}
	a.figures()
	rep := a.rep
	var err error
	if rep.AcquireLatency, err = summarize(a.latency); err != nil {
		return nil, fmt.Errorf("acquire latency: %w", err)
	}
	if rep.HoldTime, err = summarize(a.hold); err != nil {
		return nil, fmt.Errorf("hold time: %w", err)
	}
	if rep.Members, err = assembleMembers(hosts); err != nil {
		return nil, err
	}
	rep.Fairness = fairness(rep.Workers)
	if err := a.detectors(hosts); err != nil {
		return nil, err
	}
	rep.judge()
	return rep, nil
}

// newAssembly starts the report of the run whose first host is first.
func newAssembly(first *hostData, maxExamples int) *assembly {
	return &assembly{
		rep: &Report{
			RunID: first.RunID, Strategy: first.Strategy.String(), Broken: first.Strategy.Broken(),
			Config: first.Config, Filesystem: first.Filesystem, Started: first.Started,
			Errors: map[string]ErrorCount{}, Failures: []Failure{}, Workers: []WorkerStats{},
			Faults: Faults{KillEvents: []KillEvent{}, StopEvents: []StopEvent{}},
		},
		latency: newHistogram(), hold: newHistogram(),
		occupancy:   detect.NewTally(maxExamples),
		maxExamples: maxExamples,
	}
}

// add adds a host's workers, counts, histograms and faults.
func (a *assembly) add(h *hostData) error {
	rep := a.rep
	rep.Hosts = append(rep.Hosts, h.Host)
	if h.Started.Before(rep.Started) {
		rep.Started = h.Started
	}
	rep.ElapsedNs = max(rep.ElapsedNs, h.ElapsedNs)
	a.measured = append(a.measured, h.measured())
	a.metered = append(a.metered, h.meteredSpan())
	rep.Interrupted = rep.Interrupted || h.Interrupted
	rep.Workers = append(rep.Workers, h.Workers...)
	rep.WorkerCPUNs += h.WorkerCPUNs
	rep.AdapterCPUNs += h.AdapterCPUNs
	rep.WarmupAcquisitions += h.WarmupAcquisitions
	rep.Memory.add(h.Memory)
	for _, w := range h.Workers {
		rep.Acquisitions += w.Acquisitions
		a.holdNs += w.HoldNs
	}
	if err := mergeEncoded(a.latency, h.Latency); err != nil {
		return err
	}
	if err := mergeEncoded(a.hold, h.Hold); err != nil {
		return err
	}
	mergeErrors(rep.Errors, h.Errors)
	if h.Occupancy != nil {
		a.occupancy.Merge(h.Occupancy)
	}
	rep.Failures = append(rep.Failures, h.Failures...)
	a.addFaults(h)
	return nil
}

// addFaults counts a host's kills and stops, keeping the first
// maxExamples of each.
func (a *assembly) addFaults(h *hostData) {
	f := &a.rep.Faults
	for _, k := range h.Kills {
		f.Kills++
		if k.RecoveryNs >= 0 {
			f.Recovered++
			a.recoveries = append(a.recoveries, k.RecoveryNs)
		} else {
			f.Unrecovered++
			if time.Duration(k.UnrecoveredNs) > recoveryBound(a.rep.Config) {
				f.NeverRecovered++
			}
		}
		if len(f.KillEvents) < a.maxExamples {
			f.KillEvents = append(f.KillEvents, k)
		}
	}
	for _, s := range h.Stops {
		f.Stops++
		if len(f.StopEvents) < a.maxExamples {
			f.StopEvents = append(f.StopEvents, s)
		}
	}
}

// figures computes the rates and shares of the whole run.
func (a *assembly) figures() {
	rep := a.rep
	rep.Faults.Recovery = summarizeExact(a.recoveries)
	// Hosts run side by side or one after another: their counts and
	// their CPU add up over the time during which any of them ran.
	rep.SpanNs = int64(coveredLength(a.measured))
	if rep.SpanNs > 0 {
		rep.Throughput = float64(rep.Acquisitions) / time.Duration(rep.SpanNs).Seconds()
		rep.Utilization = float64(a.holdNs) / float64(rep.SpanNs)
		metered := float64(coveredLength(a.metered))
		rep.WorkerCPUShare = float64(rep.WorkerCPUNs) / metered
		rep.AdapterCPUShare = float64(rep.AdapterCPUNs) / metered
	}
	if m := &rep.Memory; m.Acquisitions > 0 {
		m.BytesPerAcquisition = float64(m.AllocBytes) / float64(m.Acquisitions)
		m.AllocsPerAcquisition = float64(m.Allocs) / float64(m.Acquisitions)
	}
}

// detectors fills in the detectors' findings: the occupancy counts the
// hosts kept, and the ledger and interval verifiers run over their logs;
// with the detectors off, three empty reports.
func (a *assembly) detectors(hosts []*hostData) error {
	rep := a.rep
	rep.Detectors.Enabled = rep.Config.Detectors
	if rep.Detectors.Enabled {
		if err := verifyLogs(rep, hosts, a.maxExamples); err != nil {
			return err
		}
		rep.Detectors.Occupancy = detectorReport(rep.Acquisitions+rep.WarmupAcquisitions, a.occupancy)
		var err error
		if rep.Timeline, err = timeline(rep, hosts); err != nil {
			return err
		}
	} else {
		empty := detect.NewTally(0)
		rep.Detectors.Ledger = detectorReport(0, empty)
		rep.Detectors.Occupancy = detectorReport(0, empty)
		rep.Detectors.Interval = detectorReport(0, empty)
	}
	rep.Violations = rep.Detectors.Ledger.Count + rep.Detectors.Occupancy.Count + rep.Detectors.Interval.Count
	return nil
}

// verifyLogs runs the ledger and interval verifiers.
func verifyLogs(rep *Report, hosts []*hostData, maxExamples int) error {
	var all []detect.Log
	origins := map[string]int64{}
	interval := detect.NewTally(maxExamples)
	var intervals int64
	var intervalErrs []string
	killedElsewhere := map[uint64]bool{}
	for _, h := range hosts {
		maps.Copy(killedElsewhere, h.killedElsewhere)
		logs, err := detect.FindLogs(h.logDir)
		if err != nil {
			return err
		}
		h.logs = logs
		all = append(all, logs...)
		origins[h.Host] = h.OriginNs
		res, err := detect.VerifyIntervals(logs, h.OriginNs, maxExamples)
		if err != nil {
			return err
		}
		intervals += res.Intervals
		interval.Merge(res.Violations)
		intervalErrs = append(intervalErrs, res.LogErrors...)
	}
	ledger, err := detect.VerifyHostLedger(all, origins, maxExamples, killedElsewhere)
	if err != nil {
		return err
	}
	rep.Detectors.Ledger = detectorReport(ledger.Entries, ledger.Violations)
	rep.Detectors.Ledger.Takeovers = ledger.Takeovers
	rep.Detectors.Ledger.LogErrors = ledger.LogErrors
	rep.Detectors.Interval = detectorReport(intervals, interval)
	rep.Detectors.Interval.LogErrors = intervalErrs
	handoffs, retakes := ledger.Handoffs, ledger.Retakes
	rep.Fairness.Handoffs, rep.Fairness.Retakes = &handoffs, &retakes
	if rep.HandoffLatency, err = summarize(ledger.HandoffNs); err != nil {
		return fmt.Errorf("handoff latency: %w", err)
	}
	if handoffs > 0 {
		ratio := float64(retakes) / float64(handoffs)
		rep.Fairness.RetakeRatio = &ratio
	}
	return nil
}
