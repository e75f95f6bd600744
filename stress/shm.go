package stress

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/lockstress/lockstress/stress/detect"
)

// The shared region is a file in /dev/shm (or the temporary directory)
// that the parent and every worker of one host map. It holds the occupancy
// counter, the start and stop signals, and one slot per worker in which the
// worker publishes its phase and counters. Every field is accessed
// atomically.

const regionMagic = 0x6c6f636b73747231 // "lockstr1"

// regionHeader is the start of the region. Its size is regionHeaderSize.
type regionHeader struct {
	magic atomic.Uint64
	slots atomic.Int64
	// occupancy is the number of workers inside the critical section.
	occupancy atomic.Int64
	// measureFrom is the CLOCK_MONOTONIC time at which the warm-up ends
	// and the measured run begins; meterFrom the time at which workers
	// begin to meter their processor time and memory (see meterLead);
	// deadline the time at which they stop. The parent sets them just
	// before it opens the barrier.
	measureFrom atomic.Int64
	meterFrom   atomic.Int64
	deadline    atomic.Int64
	// stop, when non-zero, tells workers to stop at once.
	stop atomic.Int64
	// ready counts workers that are set up and waiting at the barrier.
	ready atomic.Int64
	// killPending is non-zero while the parent waits for the first
	// acquisition after a kill; the first worker to acquire then stores
	// its acquisition time in recoveredAt.
	killPending atomic.Int64
	recoveredAt atomic.Int64
	// killed holds the nonces of the last killedRing workers killed, or
	// found dead, inside the critical section, so that a worker finding
	// one of them in the ledger does not count it as a violation in its
	// live count. killedNext is the number of nonces ever noted.
	killed     [killedRing]atomic.Uint64
	killedNext atomic.Int64
	_          [40]byte
}

const killedRing = 16

// regionSlot is one worker's slot. Its size is regionSlotSize, two cache
// lines, so that workers do not share a line.
type regionSlot struct {
	// phase is where the worker is: phaseOut, phaseEntering, phaseInside
	// or phaseLeaving.
	phase atomic.Int64
	// nonce is the nonce of the worker's current (or next) acquisition.
	nonce atomic.Uint64
	// seq is the sequence number the worker wrote into the ledger in its
	// current acquisition, 0 before it wrote one.
	seq atomic.Uint64
	// acquiredAt is the CLOCK_MONOTONIC time of the current acquisition.
	acquiredAt atomic.Int64
	// acquisitions and holdNanos count across all incarnations, in the
	// measured run; warmupAcquisitions counts those of the warm-up.
	acquisitions       atomic.Int64
	holdNanos          atomic.Int64
	warmupAcquisitions atomic.Int64
	// warmup is 1 while the current acquisition is one of the warm-up,
	// so that the parent flags it so (detect.FlagWarmup) when it writes
	// the entry of a worker that died in it.
	warmup atomic.Int64
	// occupied counts occupancy violations this worker saw; ledgerFlags
	// ledger entries it flagged (a provisional count of ledger
	// violations: a takeover after a kill is flagged too).
	occupied    atomic.Int64
	ledgerFlags atomic.Int64
	// pid is the process ID of the worker's current incarnation.
	pid atomic.Int64
	// found and findings are what the worker's ledger checks found in its
	// current acquisition (an entry's Seen, and its ledgerFindings),
	// stored before each of its ledger writes, so that the entry the
	// parent writes for it if it is killed or dies inside keeps them.
	found    atomic.Uint64
	findings atomic.Uint32
	// writing is 1 while the worker writes the ledger: stopped then, its
	// record may be half written into the mapped ledger, so it is not
	// killed (pickHolder).
	writing atomic.Uint32
	_       [24]byte
}

// ledgerFindings are the flags of what the ledger checks find.
const ledgerFindings = detect.FlagHeld | detect.FlagTornEntry | detect.FlagChanged | detect.FlagTornExit

const (
	regionHeaderSize = 256
	regionSlotSize   = 128
)

// Worker phases. The occupancy counter counts a worker from some moment
// in phaseEntering to some moment in phaseLeaving, so a worker in
// phaseInside is certainly counted: only such a worker is chosen to be
// killed, and its share of the counter is taken back on its behalf. A
// worker that dies on its own in any phase but phaseOut is taken to be
// counted: if it was not, the counter ends one too low, which can hide a
// violation but never invent one.
const (
	phaseOut int64 = iota
	phaseEntering
	phaseInside
	phaseLeaving
)

func init() {
	if unsafe.Sizeof(regionHeader{}) != regionHeaderSize || unsafe.Sizeof(regionSlot{}) != regionSlotSize {
		panic("stress: shared region layout changed")
	}
}

func regionSize(slots int) int { return regionHeaderSize + slots*regionSlotSize }

// region is a mapped shared region.
type region struct {
	mem   []byte
	hdr   *regionHeader
	slots []regionSlot
}

// createRegion creates and maps the region file for n workers.
func createRegion(path string, n int) (*region, error) {
	mem, err := mapFile(path, regionSize(n), true)
	if err != nil {
		return nil, err
	}
	r := viewRegion(mem, n)
	r.hdr.slots.Store(int64(n))
	r.hdr.magic.Store(regionMagic)
	return r, nil
}

// openRegion maps an existing region file.
func openRegion(path string, n int) (*region, error) {
	mem, err := mapFile(path, regionSize(n), false)
	if err != nil {
		return nil, err
	}
	r := viewRegion(mem, n)
	if r.hdr.magic.Load() != regionMagic || r.hdr.slots.Load() != int64(n) {
		unmapFile(mem)
		return nil, fmt.Errorf("%s: not a region for %d workers", path, n)
	}
	return r, nil
}

func viewRegion(mem []byte, n int) *region {
	return &region{
		mem:   mem,
		hdr:   (*regionHeader)(unsafe.Pointer(&mem[0])),
		slots: unsafe.Slice((*regionSlot)(unsafe.Pointer(&mem[regionHeaderSize])), n),
	}
}

func (r *region) close() error {
	if r == nil || r.mem == nil {
		return nil
	}
	err := unmapFile(r.mem)
	r.mem, r.hdr, r.slots = nil, nil, nil
	return err
}

// noteKilled records the nonce of a worker killed inside the critical
// section.
func (r *region) noteKilled(nonce uint64) {
	i := r.hdr.killedNext.Add(1) - 1
	r.hdr.killed[i%killedRing].Store(nonce)
}

// wasKilled reports whether nonce is one of the last noted.
func (r *region) wasKilled(nonce uint64) bool {
	for i := range r.hdr.killed {
		if r.hdr.killed[i].Load() == nonce {
			return true
		}
	}
	return false
}

// inside returns the workers other than self whose phase says they are
// in the critical section or on its edge.
func (r *region) inside(self int) []int {
	var out []int
	for i := range r.slots {
		if i != self && r.slots[i].phase.Load() != phaseOut {
			out = append(out, i)
		}
	}
	return out
}

// entry returns the entry the parent writes for the worker of slot s that
// was killed or died inside the critical section, flagged died besides
// what its checks had found; Released is left to the caller.
func (s *regionSlot) entry(died detect.Flags) detect.Entry {
	e := detect.Entry{Seq: s.seq.Load(), Nonce: s.nonce.Load(), Acquired: s.acquiredAt.Load(),
		Seen: s.found.Load(), Flags: died | detect.Flags(s.findings.Load())&ledgerFindings}
	if s.warmup.Load() != 0 {
		e.Flags |= detect.FlagWarmup
	}
	return e
}

// totals sums the workers' counters.
func (r *region) totals() (acquisitions, occupied, ledgerFlags int64) {
	for i := range r.slots {
		s := &r.slots[i]
		acquisitions += s.acquisitions.Load()
		occupied += s.occupied.Load()
		ledgerFlags += s.ledgerFlags.Load()
	}
	return
}
