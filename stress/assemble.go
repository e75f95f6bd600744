package stress

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lockstress/lockstress/stress/detect"
)

// hostData is what one host's run leaves for the report: the figures of
// its workers and where their logs are. A run that hosts join saves it as
// host.json in the host's directory, next to the logs.
type hostData struct {
	Host        string                `json:"host"`
	RunID       string                `json:"run_id"`
	Strategy    Strategy              `json:"strategy"`
	Config      ReportConfig          `json:"config"`
	Filesystem  Filesystem            `json:"filesystem"`
	Started     time.Time             `json:"started"`
	ElapsedNs   int64                 `json:"elapsed_ns"`
	Interrupted bool                  `json:"interrupted"`
	OriginNs    int64                 `json:"origin_ns"`
	Workers     []WorkerStats         `json:"workers"`
	Latency     []byte                `json:"latency"`
	Hold        []byte                `json:"hold"`
	Errors      map[string]ErrorCount `json:"errors"`
	Occupancy   *detect.Tally         `json:"occupancy"`
	Kills       []KillEvent           `json:"kills"`
	Stops       []StopEvent           `json:"stops"`
	Failures    []Failure             `json:"failures"`
	WorkerCPUNs int64                 `json:"worker_cpu_ns"`
	// AdapterCPUNs is the CPU time of the workers' adapter processes
	// (workerResult.AdapterCPUNs).
	AdapterCPUNs int64 `json:"adapter_cpu_ns,omitempty"`
	// WarmupAcquisitions counts the acquisitions of the warm-up
	// (Config.Warmup); ElapsedNs is the time after it. MeteredNs is the
	// time over which WorkerCPUNs, AdapterCPUNs and Memory were metered:
	// ElapsedNs and, after a warm-up, its last moments (meterLead); 0 in
	// the host.json of older versions, which metered over ElapsedNs.
	WarmupAcquisitions int64 `json:"warmup_acquisitions"`
	MeteredNs          int64 `json:"metered_ns"`
	// Memory sums what the worker processes that handed back a result
	// allocated.
	Memory Memory `json:"memory"`
	// Members are the shares of the members of a mixed population, in
	// order; absent for any other strategy.
	Members []memberData `json:"members,omitempty"`

	logDir string // the directory of the workers' logs
}

// collect gathers the results of this host's workers.
func (r *runner) collect() (*hostData, error) {
	hd := &hostData{
		Host: r.cfg.Host, RunID: r.runID, Strategy: r.cfg.Strategy, Config: reportConfig(r.cfg, r.reopenLedger && !r.cfg.DetectorsOff),
		Filesystem: r.fs, Started: r.started.Round(0).UTC(), ElapsedNs: max(r.end-r.from, 0), Interrupted: r.interrupted,
		OriginNs: r.origin, MeteredNs: max(r.end-r.meter, 0), Errors: map[string]ErrorCount{}, Failures: []Failure{},
		Kills: r.kills, Stops: r.stops, logDir: r.logDir,
	}
	latency, hold := newHistogram(), newHistogram()
	members := newMemberHistograms(r.cfg.Strategy)
	var occupied []detect.Violation
	var occupancy int64
	for _, wr := range r.workers {
		slot := &r.reg.slots[wr.id]
		procs := wr.all()
		hd.Workers = append(hd.Workers, WorkerStats{
			Name: wr.name, Acquisitions: slot.acquisitions.Load(), Incarnations: len(procs), HoldNs: slot.holdNanos.Load(),
		})
		members.addWorker(wr.id, slot.acquisitions.Load())
		occupancy += slot.occupied.Load()
		hd.WarmupAcquisitions += slot.warmupAcquisitions.Load()
		for _, p := range procs {
			if killed, _ := p.wasKilled(); killed {
				continue // killed on purpose: no result expected
			}
			res, fail := p.outcome()
			if fail != nil {
				hd.Failures = append(hd.Failures, *fail)
				continue
			}
			if err := mergeEncoded(latency, res.Latency); err != nil {
				return nil, fmt.Errorf("worker %s: latency histogram: %w", p.name, err)
			}
			if err := mergeEncoded(hold, res.Hold); err != nil {
				return nil, fmt.Errorf("worker %s: hold histogram: %w", p.name, err)
			}
			if err := members.addResult(wr.id, res.Latency, res.Hold); err != nil {
				return nil, fmt.Errorf("worker %s: %w", p.name, err)
			}
			mergeErrors(hd.Errors, res.Errors)
			hd.WorkerCPUNs += res.CPUNs
			hd.AdapterCPUNs += res.AdapterCPUNs
			hd.Memory.add(Memory{Acquisitions: res.MeteredAcquisitions, AllocBytes: res.AllocBytes, Allocs: res.Allocs, GCs: int64(res.GCs)})
			occupied = append(occupied, res.Occupied...)
		}
	}
	var err error
	if hd.Latency, err = latency.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
		return nil, err
	}
	if hd.Hold, err = hold.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
		return nil, err
	}
	if hd.Members, err = members.data(); err != nil {
		return nil, err
	}
	slices.SortFunc(occupied, func(a, b detect.Violation) int { return cmp.Compare(a.AtNs, b.AtNs) })
	hd.Occupancy = detect.NewTally(r.cfg.MaxExamples)
	hd.Occupancy.Count = occupancy
	if occupancy > 0 {
		hd.Occupancy.ByKind[detect.KindOccupied] = occupancy
	}
	for _, v := range occupied[:min(len(occupied), r.cfg.MaxExamples)] {
		v.AtNs -= r.origin
		v.Detail = fmt.Sprintf("at %v: %s", time.Duration(v.AtNs), v.Detail)
		hd.Occupancy.Examples = append(hd.Occupancy.Examples, v)
	}
	return hd, nil
}

func mergeEncoded(into *hdrhistogram.Histogram, enc []byte) error {
	if len(enc) == 0 {
		return nil
	}
	h, err := hdrhistogram.Decode(enc)
	if err != nil {
		return err
	}
	into.Merge(h)
	return nil
}

func mergeErrors(into, from map[string]ErrorCount) {
	for k, c := range from {
		old := into[k]
		if old.Count == 0 {
			old.First = c.First
		}
		old.Count += c.Count
		into[k] = old
	}
}

// assemble makes the report of a run from the data of its hosts, running
// the ledger verifier over the logs of all hosts and the interval verifier
// over those of each host.
func assemble(hosts []*hostData, maxExamples int) (*Report, error) {
	first := hosts[0]
	rep := &Report{
		RunID: first.RunID, Strategy: first.Strategy.String(), Broken: first.Strategy.Broken(),
		Config: first.Config, Filesystem: first.Filesystem, Started: first.Started,
		Errors: map[string]ErrorCount{}, Failures: []Failure{}, Workers: []WorkerStats{},
		Faults: Faults{KillEvents: []KillEvent{}, StopEvents: []StopEvent{}},
	}
	latency, hold := newHistogram(), newHistogram()
	occupancy := detect.NewTally(maxExamples)
	var recoveries []int64
	var holdNs, metered int64
	for _, h := range hosts {
		rep.Hosts = append(rep.Hosts, h.Host)
		if h.Started.Before(rep.Started) {
			rep.Started = h.Started
		}
		rep.ElapsedNs = max(rep.ElapsedNs, h.ElapsedNs)
		metered = max(metered, h.MeteredNs, h.ElapsedNs)
		rep.Interrupted = rep.Interrupted || h.Interrupted
		rep.Workers = append(rep.Workers, h.Workers...)
		rep.WorkerCPUNs += h.WorkerCPUNs
		rep.AdapterCPUNs += h.AdapterCPUNs
		rep.WarmupAcquisitions += h.WarmupAcquisitions
		rep.Memory.add(h.Memory)
		for _, w := range h.Workers {
			rep.Acquisitions += w.Acquisitions
			holdNs += w.HoldNs
		}
		if err := mergeEncoded(latency, h.Latency); err != nil {
			return nil, fmt.Errorf("host %s: %w", h.Host, err)
		}
		if err := mergeEncoded(hold, h.Hold); err != nil {
			return nil, fmt.Errorf("host %s: %w", h.Host, err)
		}
		mergeErrors(rep.Errors, h.Errors)
		if h.Occupancy != nil {
			occupancy.Merge(h.Occupancy)
		}
		rep.Failures = append(rep.Failures, h.Failures...)
		for _, k := range h.Kills {
			rep.Faults.Kills++
			if k.RecoveryNs >= 0 {
				rep.Faults.Recovered++
				recoveries = append(recoveries, k.RecoveryNs)
			} else {
				rep.Faults.Unrecovered++
			}
			if len(rep.Faults.KillEvents) < maxExamples {
				rep.Faults.KillEvents = append(rep.Faults.KillEvents, k)
			}
		}
		for _, s := range h.Stops {
			rep.Faults.Stops++
			if len(rep.Faults.StopEvents) < maxExamples {
				rep.Faults.StopEvents = append(rep.Faults.StopEvents, s)
			}
		}
	}
	rep.Faults.Recovery = summarizeExact(recoveries)
	if rep.ElapsedNs > 0 {
		rep.Throughput = float64(rep.Acquisitions) / time.Duration(rep.ElapsedNs).Seconds()
		rep.Utilization = float64(holdNs) / float64(rep.ElapsedNs)
		// Hosts run side by side: their CPU adds up over the run's time.
		rep.WorkerCPUShare = float64(rep.WorkerCPUNs) / float64(metered)
		rep.AdapterCPUShare = float64(rep.AdapterCPUNs) / float64(metered)
	}
	if rep.Memory.Acquisitions > 0 {
		rep.Memory.BytesPerAcquisition = float64(rep.Memory.AllocBytes) / float64(rep.Memory.Acquisitions)
		rep.Memory.AllocsPerAcquisition = float64(rep.Memory.Allocs) / float64(rep.Memory.Acquisitions)
	}
	var err error
	if rep.AcquireLatency, err = summarize(latency); err != nil {
		return nil, fmt.Errorf("acquire latency: %w", err)
	}
	if rep.HoldTime, err = summarize(hold); err != nil {
		return nil, fmt.Errorf("hold time: %w", err)
	}
	if rep.Members, err = assembleMembers(hosts); err != nil {
		return nil, err
	}
	rep.Fairness = fairness(rep.Workers)
	rep.Detectors.Enabled = rep.Config.Detectors
	if rep.Detectors.Enabled {
		if err := verifyLogs(rep, hosts, maxExamples); err != nil {
			return nil, err
		}
		rep.Detectors.Occupancy = detectorReport(rep.Acquisitions+rep.WarmupAcquisitions, occupancy)
		if rep.Timeline, err = timeline(rep, hosts); err != nil {
			return nil, err
		}
	} else {
		empty := detect.NewTally(0)
		rep.Detectors.Ledger = detectorReport(0, empty)
		rep.Detectors.Occupancy = detectorReport(0, empty)
		rep.Detectors.Interval = detectorReport(0, empty)
	}
	rep.Violations = rep.Detectors.Ledger.Count + rep.Detectors.Occupancy.Count + rep.Detectors.Interval.Count
	rep.judge()
	return rep, nil
}

// verifyLogs runs the ledger and interval verifiers.
func verifyLogs(rep *Report, hosts []*hostData, maxExamples int) error {
	var all []detect.Log
	origins := map[string]int64{}
	interval := detect.NewTally(maxExamples)
	var intervals int64
	var intervalErrs []string
	for _, h := range hosts {
		logs, err := detect.FindLogs(h.logDir)
		if err != nil {
			return err
		}
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
	ledger, err := detect.VerifyLedger(all, origins, maxExamples)
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
