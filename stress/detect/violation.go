package detect

import "fmt"

// Detector names, as they appear in reports.
const (
	Ledger    = "ledger"
	Occupancy = "occupancy"
	Interval  = "interval"
)

// Violation kinds. Each detector reports its own kinds.
const (
	// KindDuplicate: two acquisitions wrote the same sequence number.
	KindDuplicate = "duplicate-seq"
	// KindRegression: a worker's sequence numbers went backwards: the
	// ledger it read was older than one it had written itself.
	KindRegression = "seq-regression"
	// KindTorn: the ledger record did not parse or its checksum failed.
	KindTorn = "torn-record"
	// KindHeld: the ledger was found held on entry, by an owner that had
	// not been killed.
	KindHeld = "entered-held"
	// KindNonceChanged: on leaving (or when it was killed inside), the
	// worker's nonce was no longer in the ledger: another owner wrote it
	// while this one held the lock.
	KindNonceChanged = "nonce-changed"
	// KindOverlap: two critical sections overlapped in time.
	KindOverlap = "overlap"
	// KindOccupied: a worker entered the critical section while the
	// occupancy counter said another was inside.
	KindOccupied = "occupied"
)

// Violation describes one violation: which detector saw it, of what kind,
// which workers were involved, when, and what was seen.
type Violation struct {
	Detector string `json:"detector"`
	Kind     string `json:"kind"`
	// Workers names the workers involved, the one that saw the violation
	// first.
	Workers []string `json:"workers"`
	// Seq is the ledger sequence number involved, 0 if none.
	Seq uint64 `json:"seq,omitempty"`
	// AtNs is the time of the violation from the start of the run on the
	// host that saw it, in nanoseconds. Times of different hosts do not
	// compare.
	AtNs int64 `json:"at_ns,omitempty"`
	// Detail says what was seen, in words.
	Detail string `json:"detail"`
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s %s", v.Detector, v.Kind)
	if len(v.Workers) > 0 {
		s += fmt.Sprintf(" %v", v.Workers)
	}
	if v.Seq != 0 {
		s += fmt.Sprintf(" seq %d", v.Seq)
	}
	return s + ": " + v.Detail
}

// Tally counts the violations of one detector by kind and keeps the first
// few in full.
type Tally struct {
	Count    int64            `json:"count"`
	ByKind   map[string]int64 `json:"by_kind"`
	Examples []Violation      `json:"examples"`
	// Max is how many examples are kept (not serialized).
	Max int `json:"-"`
}

// NewTally returns an empty tally that keeps up to max examples.
func NewTally(max int) *Tally {
	return &Tally{ByKind: map[string]int64{}, Examples: []Violation{}, Max: max}
}

// Add counts v and keeps it if fewer than Max examples are kept.
func (t *Tally) Add(v Violation) {
	t.Count++
	t.ByKind[v.Kind]++
	if len(t.Examples) < t.Max {
		t.Examples = append(t.Examples, v)
	}
}

// Merge adds the counts and examples of o.
func (t *Tally) Merge(o *Tally) {
	t.Count += o.Count
	for k, n := range o.ByKind {
		t.ByKind[k] += n
	}
	for _, v := range o.Examples {
		if len(t.Examples) >= t.Max {
			break
		}
		t.Examples = append(t.Examples, v)
	}
}
