package stress

import (
	"time"

	"github.com/lockstress/lockstress/stress/detect"
)

// SchemaVersion is the version of the JSON report. It changes when a field
// changes meaning or is removed; fields may be added within a version.
const SchemaVersion = 1

// SchemaName is the value of Document.Schema.
const SchemaName = "lockstress-report"

// Document is the JSON output of lockstress: the reports of one or more
// runs (one per strategy) and the verdict over all of them. The schema is
// documented in docs/lockstress.md.
type Document struct {
	Schema  string `json:"schema"`
	Version int    `json:"version"`
	Verdict string `json:"verdict"`
	// ExitCode is the exit status of the command that wrote the
	// document for Verdict (lockstress maps verdicts to its exit codes);
	// NewDocument leaves it 0.
	ExitCode int `json:"exit_code"`
	// Command is the command line that made the runs, its arguments
	// quoted for a POSIX shell where they need it; empty when not known.
	Command string    `json:"command,omitempty"`
	Runs    []*Report `json:"runs"`
}

// NewDocument returns the document of the given reports, with the worst
// of their verdicts; ExitCode is left for the command to set.
func NewDocument(reports ...*Report) *Document {
	d := &Document{Schema: SchemaName, Version: SchemaVersion, Runs: reports}
	if d.Runs == nil {
		d.Runs = []*Report{}
	}
	d.Verdict = WorstVerdict(reports...)
	return d
}

// Report is the outcome of one run.
type Report struct {
	// partial: the report of one host of a shared run (Config.Join), judged
	// without what only the whole run can tell (Verify).
	partial bool

	RunID    string   `json:"run_id"`
	Hosts    []string `json:"hosts"`
	Strategy string   `json:"strategy"`
	// Broken is true for the broken strategies, which must fail.
	Broken     bool         `json:"broken"`
	Config     ReportConfig `json:"config"`
	Filesystem Filesystem   `json:"filesystem"`
	Started    time.Time    `json:"started"`
	// ElapsedNs is the measured time: from the start barrier, or from the
	// end of the warm-up if there was one, to the end; of a run that hosts
	// share, the longest host's. SpanNs is the time during which any host
	// ran (ElapsedNs for one host): hosts may run side by side or one
	// after another.
	ElapsedNs   int64 `json:"elapsed_ns"`
	SpanNs      int64 `json:"span_ns"`
	Interrupted bool  `json:"interrupted"`

	// Acquisitions counts those of the measured run, WarmupAcquisitions
	// those of the warm-up (see Config.Warmup), which the detectors check
	// but no figure counts.
	Acquisitions       int64 `json:"acquisitions"`
	WarmupAcquisitions int64 `json:"warmup_acquisitions"`
	// Throughput is acquisitions per second of SpanNs.
	Throughput float64 `json:"throughput_per_s"`
	// Utilization is the total time spent in critical sections divided by
	// that same time: the fraction of time the lock was held. Above 1
	// the sections overlapped.
	Utilization    float64 `json:"utilization"`
	AcquireLatency Latency `json:"acquire_latency"`
	HoldTime       Latency `json:"hold_time"`
	// HandoffLatency is the time from one worker's release to the next
	// acquisition by another worker of the same host, from the ledger
	// logs (zero with the detectors off).
	HandoffLatency Latency `json:"handoff_latency"`
	// WorkerCPUNs is the CPU time (user and system) the worker processes
	// used in the measured run (from the start barrier to the end of their
	// loops; after a warm-up, from up to 100 ms before its end, so that the
	// workers' look at their counters does not disturb the first measured
	// waits), incarnations killed on purpose left out; WorkerCPUShare is
	// that divided by the time it was metered over, in cores.
	WorkerCPUNs    int64   `json:"worker_cpu_ns"`
	WorkerCPUShare float64 `json:"worker_cpu_share"`
	// AdapterCPUNs and AdapterCPUShare are the same for the processes of
	// an adapter strategy (exec:), where the peer lock runs: one beside
	// each worker, which WorkerCPUNs leaves out. Zero for the library's
	// own strategies, which run in the workers.
	AdapterCPUNs    int64   `json:"adapter_cpu_ns,omitempty"`
	AdapterCPUShare float64 `json:"adapter_cpu_share,omitempty"`
	// Memory is what the worker processes allocated in the same time.
	Memory    Memory                `json:"memory"`
	Fairness  Fairness              `json:"fairness"`
	Workers   []WorkerStats         `json:"workers"`
	Errors    map[string]ErrorCount `json:"errors"`
	Faults    Faults                `json:"faults"`
	Detectors Detectors             `json:"detectors"`
	// Violations is the total over the detectors.
	Violations int64     `json:"violations"`
	Failures   []Failure `json:"failures"`
	// Verdict is one of the Verdict constants, and Reason says why in
	// words.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	// Cautions says, one sentence each, what limits the evidence of a
	// passing run (a lock held less than half the time, or nothing
	// checked); absent for another verdict, and for one host's share of a
	// shared run.
	Cautions []string `json:"cautions,omitempty"`
	// Members are the shares of the members of a mixed population (see
	// Mix), in order; absent for any other strategy.
	Members []MemberStats `json:"members,omitempty"`
	// Timeline is the run over time and who held the lock around each
	// violation; absent with the detectors off.
	Timeline *Timeline `json:"timeline,omitempty"`
	// Swept lists the directories that runs killed before they could
	// remove them had left, which this run removed.
	Swept []string `json:"swept,omitempty"`
}

// ReportConfig is the configuration a run used.
type ReportConfig struct {
	Procs      int     `json:"procs"`
	DurationNs int64   `json:"duration_ns"`
	WarmupNs   int64   `json:"warmup_ns"`
	Hold       string  `json:"hold"`
	Think      string  `json:"think"`
	TimeoutNs  int64   `json:"timeout_ns"`
	Seed       uint64  `json:"seed"`
	Detectors  bool    `json:"detectors"`
	KillRate   float64 `json:"kill_rate"`
	StopNs     int64   `json:"stop_ns"`
	StopRate   float64 `json:"stop_rate"`
	// StaleAfterNs is Config.StaleAfter: 0 the library's default,
	// negative off.
	StaleAfterNs int64 `json:"stale_after_ns"`
	Fair         bool  `json:"fair"`
	Barging      bool  `json:"barging,omitempty"`
	Polling      bool  `json:"polling"`
	// NoDeadline is Config.NoDeadline, for the os and ofd strategies.
	NoDeadline bool `json:"no_deadline"`
	// LedgerReopen is true when the workers opened and closed the ledger
	// in every critical section (network and unknown filesystems, shared
	// runs) rather than keeping it open.
	LedgerReopen bool `json:"ledger_reopen"`
	// MinChecked is Config.MinChecked: 0 one per worker, negative none.
	MinChecked int `json:"min_checked"`
}

func reportConfig(c Config, reopen bool) ReportConfig {
	r := ReportConfig{
		LedgerReopen: reopen,
		Procs:        c.Procs, DurationNs: int64(c.Duration), WarmupNs: int64(c.Warmup), Hold: c.Hold.String(), Think: c.Think.String(),
		TimeoutNs: int64(c.Timeout), Seed: c.Seed, Detectors: !c.DetectorsOff, KillRate: c.KillRate,
		StopNs: int64(c.Stop), StaleAfterNs: int64(c.StaleAfter), Fair: c.Fair, Barging: c.Barging, Polling: c.Polling,
		NoDeadline: c.NoDeadline, MinChecked: c.MinChecked,
	}
	if c.Stop > 0 {
		r.StopRate = c.StopRate
	}
	return r
}

// Latency summarizes a distribution of durations, in nanoseconds.
type Latency struct {
	Count    int64   `json:"count"`
	P50Ns    int64   `json:"p50_ns"`
	P90Ns    int64   `json:"p90_ns"`
	P99Ns    int64   `json:"p99_ns"`
	P999Ns   int64   `json:"p99_9_ns"`
	MaxNs    int64   `json:"max_ns"`
	MeanNs   float64 `json:"mean_ns"`
	StddevNs float64 `json:"stddev_ns"`
	// Histogram is the distribution the figures were taken from, in
	// HdrHistogram's V2 compressed encoding, base64 (as in HdrHistogram's
	// log files; see Decode); empty for exact summaries and without
	// samples.
	Histogram string `json:"histogram,omitempty"`
}

// Memory is what the worker processes allocated in the measured run
// (metered as WorkerCPUNs is), the harness's own work included (the detectors' share is small; see
// docs/lockstress.md), over the processes that handed back a result (not
// those killed on purpose).
type Memory struct {
	// Acquisitions is the acquisitions of those processes whose wait
	// began in the metered time: what the memory is divided by.
	Acquisitions int64 `json:"acquisitions"`
	// AllocBytes and Allocs are the bytes and objects they allocated, and
	// BytesPerAcquisition and AllocsPerAcquisition the same per
	// acquisition (0 without acquisitions).
	AllocBytes           uint64  `json:"alloc_bytes"`
	Allocs               uint64  `json:"allocs"`
	BytesPerAcquisition  float64 `json:"bytes_per_acquisition"`
	AllocsPerAcquisition float64 `json:"allocs_per_acquisition"`
	// GCs is the garbage collections they made.
	GCs int64 `json:"gcs"`
}

func (m *Memory) add(o Memory) {
	m.Acquisitions += o.Acquisitions
	m.AllocBytes += o.AllocBytes
	m.Allocs += o.Allocs
	m.GCs += o.GCs
}

// Fairness says how evenly the workers shared the lock.
type Fairness struct {
	Workers int `json:"workers"`
	// Jain is Jain's fairness index of the workers' acquisitions: 1 when
	// all have the same, 1/n when one has them all, 0 when none has any.
	Jain float64 `json:"jain"`
	Min  int64   `json:"min"`
	Max  int64   `json:"max"`
	// Starved lists the workers that never acquired the lock.
	Starved []string `json:"starved"`
	// Handoffs counts pairs of consecutive acquisitions (from the ledger
	// logs); Retakes those where the worker that released the lock took
	// it again; RetakeRatio is their quotient. They are absent when the
	// detectors are off.
	Handoffs    *int64   `json:"handoffs,omitempty"`
	Retakes     *int64   `json:"retakes,omitempty"`
	RetakeRatio *float64 `json:"retake_ratio,omitempty"`
}

// WorkerStats is one worker's share.
type WorkerStats struct {
	Name         string `json:"name"`
	Acquisitions int64  `json:"acquisitions"`
	// Incarnations is the number of processes that ran as this worker
	// (more than 1 when it was killed and restarted).
	Incarnations int   `json:"incarnations"`
	HoldNs       int64 `json:"hold_ns"`
}

// Faults reports the faults injected and how the lock recovered.
type Faults struct {
	Kills int `json:"kills"`
	// Recovered counts kills after which some worker acquired the lock
	// before the end of the run; Unrecovered the others.
	Recovered   int `json:"recovered"`
	Unrecovered int `json:"unrecovered"`
	// NeverRecovered counts the unrecovered kills after which the run
	// went on for longer than the lock needs to recover (recoveryBound):
	// the lock did not recover.
	NeverRecovered int `json:"never_recovered"`
	// Recovery is the time from a kill to the next acquisition by anyone,
	// over the recovered kills.
	Recovery   Latency     `json:"recovery"`
	KillEvents []KillEvent `json:"kill_events"`
	Stops      int         `json:"stops"`
	StopEvents []StopEvent `json:"stop_events"`
}

// KillEvent is one SIGKILL of a worker that held the lock.
type KillEvent struct {
	Worker string `json:"worker"`
	// AtNs is the time of the kill from the start of the run.
	AtNs int64 `json:"at_ns"`
	// Seq is the ledger sequence number the worker held, 0 if it had not
	// written one yet.
	Seq uint64 `json:"seq,omitempty"`
	// RecoveryNs is the time to the next acquisition, -1 if none
	// happened before the end of the run.
	RecoveryNs int64 `json:"recovery_ns"`
	// UnrecoveredNs is, where none happened, how long the run went on
	// after the kill.
	UnrecoveredNs int64 `json:"unrecovered_ns,omitempty"`
}

// StopEvent is one SIGSTOP of a worker that held the lock.
type StopEvent struct {
	Worker     string `json:"worker"`
	AtNs       int64  `json:"at_ns"`
	DurationNs int64  `json:"duration_ns"`
}

// Detectors reports the three detectors, each on its own.
type Detectors struct {
	Enabled   bool           `json:"enabled"`
	Ledger    DetectorReport `json:"ledger"`
	Occupancy DetectorReport `json:"occupancy"`
	Interval  DetectorReport `json:"interval"`
}

// DetectorReport is what one detector saw.
type DetectorReport struct {
	// Checked is the number of critical sections the detector examined.
	Checked int64 `json:"checked"`
	// Count is the number of violations, ByKind by kind, and Examples
	// describes the first ones in full.
	Count    int64              `json:"count"`
	ByKind   map[string]int64   `json:"by_kind"`
	Examples []detect.Violation `json:"examples"`
	// Takeovers (ledger only) counts entries that found the ledger held
	// by a worker killed inside the critical section: expected after a
	// kill, not a violation.
	Takeovers int64 `json:"takeovers,omitempty"`
	// LogErrors lists worker logs that could not be read to the end.
	LogErrors []string `json:"log_errors,omitempty"`
}

func detectorReport(checked int64, t *detect.Tally) DetectorReport {
	return DetectorReport{Checked: checked, Count: t.Count, ByKind: t.ByKind, Examples: t.Examples}
}

// Failure is a worker process that did not finish normally.
type Failure struct {
	Worker string `json:"worker"`
	PID    int    `json:"pid"`
	// Reason says what happened: its exit status, the signal that
	// killed it, that it hung, or that its result was unreadable.
	Reason string `json:"reason"`
	// Stderr is the end of what it wrote to its standard error.
	Stderr string `json:"stderr"`
}
