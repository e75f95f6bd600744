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

	logDir string       // the directory of the workers' logs
	logs   []detect.Log // the logs found there, once the detectors have read them
	// killedElsewhere: for one host's share of a shared run, the nonces
	// of the acquisitions the other hosts killed (otherHostsKills).
	killedElsewhere map[uint64]bool
}

// collect gathers the results of this host's workers.
func (r *runner) collect() (*hostData, error) {
	c := hostCollector{
		hd: &hostData{
			Host: r.cfg.Host, RunID: r.runID, Strategy: r.cfg.Strategy, Config: reportConfig(r.cfg, r.reopenLedger && !r.cfg.DetectorsOff),
			Filesystem: r.fs, Started: r.started.Round(0).UTC(), ElapsedNs: max(r.end-r.from, 0), Interrupted: r.interrupted,
			OriginNs: r.origin, MeteredNs: max(r.end-r.meter, 0), Errors: map[string]ErrorCount{}, Failures: []Failure{},
			Kills: r.kills, Stops: r.stops, logDir: r.logDir,
		},
		latency: newHistogram(), hold: newHistogram(),
		members: newMemberHistograms(r.cfg.Strategy),
	}
	for _, wr := range r.workers {
		if err := c.addWorker(wr, &r.reg.slots[wr.id]); err != nil {
			return nil, err
		}
	}
	if r.chaosErr != nil {
		c.hd.Failures = append(c.hd.Failures, Failure{Worker: "kills", Reason: r.chaosErr.Error()})
	}
	if err := c.encode(); err != nil {
		return nil, err
	}
	c.hd.Occupancy = c.occupancy(r.cfg.MaxExamples, r.origin)
	return c.hd, nil
}

// hostCollector gathers the results of a host's workers into its
// hostData.
type hostCollector struct {
	hd            *hostData
	latency, hold *hdrhistogram.Histogram
	members       *memberHistograms
	occupied      []detect.Violation // the occupancy detector's findings, of which the first are its examples
	occupiedCount int64
}

// addWorker adds a worker's counts, and the results of its processes not
// killed on purpose (their failures, where they handed back none).
func (c *hostCollector) addWorker(wr *workerRun, slot *regionSlot) error {
	procs := wr.all()
	c.hd.Workers = append(c.hd.Workers, WorkerStats{
		Name: wr.name, Acquisitions: slot.acquisitions.Load(), Incarnations: len(procs), HoldNs: slot.holdNanos.Load(),
	})
	c.members.addWorker(wr.id, slot.acquisitions.Load())
	c.occupiedCount += slot.occupied.Load()
	c.hd.WarmupAcquisitions += slot.warmupAcquisitions.Load()
	for _, p := range procs {
		if killed, _ := p.wasKilled(); killed {
			continue // killed on purpose: no result expected
		}
		res, fail := p.outcome()
		if fail != nil {
			c.hd.Failures = append(c.hd.Failures, *fail)
			continue
		}
		if err := c.addResult(wr.id, res); err != nil {
			return fmt.Errorf("worker %s: %w", p.name, err)
		}
	}
	return nil
}

// addResult adds what a worker process handed back.
func (c *hostCollector) addResult(id int, res workerResult) error {
	if err := mergeEncoded(c.latency, res.Latency); err != nil {
		return fmt.Errorf("latency histogram: %w", err)
	}
	if err := mergeEncoded(c.hold, res.Hold); err != nil {
		return fmt.Errorf("hold histogram: %w", err)
	}
	if err := c.members.addResult(id, res.Latency, res.Hold); err != nil {
		return err
	}
	hd := c.hd
	mergeErrors(hd.Errors, res.Errors)
	hd.WorkerCPUNs += res.CPUNs
	hd.AdapterCPUNs += res.AdapterCPUNs
	hd.Memory.add(Memory{Acquisitions: res.MeteredAcquisitions, AllocBytes: res.AllocBytes, Allocs: res.Allocs, GCs: int64(res.GCs)})
	c.occupied = append(c.occupied, res.Occupied...)
	return nil
}

// encode encodes the histograms of the host, and of its members.
func (c *hostCollector) encode() error {
	var err error
	if c.hd.Latency, err = c.latency.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
		return err
	}
	if c.hd.Hold, err = c.hold.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
		return err
	}
	c.hd.Members, err = c.members.data()
	return err
}

// occupancy returns the occupancy detector's tally: its count, and its
// first maxExamples violations in time order, their times from origin.
func (c *hostCollector) occupancy(maxExamples int, origin int64) *detect.Tally {
	slices.SortFunc(c.occupied, func(a, b detect.Violation) int { return cmp.Compare(a.AtNs, b.AtNs) })
	t := detect.NewTally(maxExamples)
	t.Count = c.occupiedCount
	if c.occupiedCount > 0 {
		t.ByKind[detect.KindOccupied] = c.occupiedCount
	}
	for _, v := range c.occupied[:min(len(c.occupied), maxExamples)] {
		v.AtNs -= origin
		v.Detail = fmt.Sprintf("at %v: %s", time.Duration(v.AtNs), v.Detail)
		t.Examples = append(t.Examples, v)
	}
	return t
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
