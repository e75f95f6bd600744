package stress

import (
	"time"

	"github.com/lockstress/lockstress/filelock"
	"github.com/lockstress/lockstress/stress/detect"
)

// workerSpec is what a worker process is told.
type workerSpec struct {
	Run         string   `json:"run"`
	Host        string   `json:"host"`
	Worker      int      `json:"worker"`
	Workers     int      `json:"workers"`
	Incarnation int      `json:"incarnation"`
	Owner       string   `json:"owner"`
	Strategy    Strategy `json:"strategy"`
	Fair        bool     `json:"fair,omitempty"`
	Barging     bool     `json:"barging,omitempty"`
	Polling     bool     `json:"polling,omitempty"`
	NoDeadline  bool     `json:"no_deadline,omitempty"` // wait without the run's deadline
	LockPath    string   `json:"lock"`
	Region      string   `json:"region"`
	Detectors   bool     `json:"detectors"`
	LedgerPath  string   `json:"ledger,omitempty"`
	// ReopenLedger makes the worker open and close the ledger in every
	// critical section and use pread and pwrite, for the close-to-open
	// consistency of network filesystems; otherwise it maps the ledger
	// into memory once.
	ReopenLedger bool   `json:"reopen_ledger,omitempty"`
	LogDir       string `json:"log_dir,omitempty"`
	// RunDir and HostDir, set on a host of a shared run, are where the
	// other hosts note their kills (killnotes.go) and this host's
	// directory, so that the worker's live count of violations leaves
	// out a takeover from a holder another host killed.
	RunDir      string        `json:"run_dir,omitempty"`
	HostDir     string        `json:"host_dir,omitempty"`
	Hold        Dist          `json:"hold"`
	Think       Dist          `json:"think"`
	Timeout     time.Duration `json:"timeout"`
	StaleAfter  time.Duration `json:"stale_after,omitempty"`
	Seed        uint64        `json:"seed"`
	Barrier     bool          `json:"barrier"` // wait for EOF on descriptor 3
	MaxExamples int           `json:"max_examples"`
	// Adapter bounds the answers of an adapter strategy's process.
	Adapter adapterTimeouts `json:"adapter"`
}

// workerResult is what a worker hands back on its standard output.
type workerResult struct {
	Worker       int                   `json:"worker"`
	Incarnation  int                   `json:"incarnation"`
	Acquisitions int64                 `json:"acquisitions"`
	Latency      []byte                `json:"latency"` // HDR histogram, V2 compressed
	Hold         []byte                `json:"hold"`
	Errors       map[string]ErrorCount `json:"errors"`
	Occupied     []detect.Violation    `json:"occupied"`
	// CPUNs is the CPU time (user and system) the process used in the
	// measured run, metered from the start barrier or shortly before the
	// end of the warm-up (meterLead) to the end of its loop; AllocBytes,
	// Allocs and GCs are the memory it allocated in that time, in bytes
	// and objects, and the garbage collections it made, and
	// MeteredAcquisitions its acquisitions whose wait began in it.
	CPUNs int64 `json:"cpu_ns"`
	// AdapterCPUNs is the CPU time of an adapter strategy's process (see
	// adapterLock), metered over the same time: the peer lock's own work
	// and its side of the protocol, which CPUNs leaves out.
	AdapterCPUNs        int64  `json:"adapter_cpu_ns,omitempty"`
	MeteredAcquisitions int64  `json:"metered_acquisitions"`
	AllocBytes          uint64 `json:"alloc_bytes"`
	Allocs              uint64 `json:"allocs"`
	GCs                 uint32 `json:"gcs"`
}

// ErrorCount counts the errors of one kind and keeps the first message.
type ErrorCount struct {
	Count int64  `json:"count"`
	First string `json:"first"`
}

// lockOptions returns the filelock options beside the strategy.
func (s workerSpec) lockOptions() []filelock.Option {
	// The run's directory is lockstress's own, made without write for
	// others; where it shows write for all none the less (SMB, FAT), the
	// run tests the lock there all the same.
	opts := []filelock.Option{filelock.WithDirectoryWritableByAll()}
	switch {
	case s.StaleAfter < 0:
		opts = append(opts, filelock.WithStaleAfter(0))
	case s.StaleAfter > 0:
		opts = append(opts, filelock.WithStaleAfter(s.StaleAfter))
	}
	if s.Fair {
		opts = append(opts, filelock.WithFair())
	}
	if s.Barging {
		opts = append(opts, filelock.WithBarging())
	}
	if s.Polling {
		opts = append(opts, filelock.WithPolling())
	}
	return opts
}
