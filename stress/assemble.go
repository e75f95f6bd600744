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
