package stress

import (
	"fmt"
	"strings"

	"github.com/lockstress/lockstress/stress/detect"
)

// enter runs the detectors on entry to the critical section.
func (w *worker) enter(acq int64, nonce uint64) error {
	s := w.slot
	s.seq.Store(0)
	s.findings.Store(0)
	s.found.Store(0)
	s.acquiredAt.Store(acq)
	if !w.spec.Detectors {
		s.phase.Store(phaseInside)
		return nil
	}
	s.phase.Store(phaseEntering)
	n := w.reg.hdr.occupancy.Add(1)
	s.phase.Store(phaseInside)
	if n > 1 {
		w.occupancyViolation(acq, n)
	}
	return w.ledgerEnter(nonce)
}

// leave runs the detectors on leaving the critical section.
func (w *worker) leave() error {
	s := w.slot
	if !w.spec.Detectors {
		s.phase.Store(phaseOut)
		return nil
	}
	err := w.ledgerLeave()
	s.phase.Store(phaseLeaving)
	w.reg.hdr.occupancy.Add(-1)
	s.phase.Store(phaseOut)
	return err
}

// occupancyViolation handles an entry that found the counter at n > 1.
// It is a violation unless every other worker still counted has died: a
// worker that dies inside the critical section stays counted until the
// parent notices, while the kernel may hand its lock on at once.
func (w *worker) occupancyViolation(at, n int64) {
	var others []string
	alive := false
	for _, i := range w.reg.inside(w.spec.Worker) {
		others = append(others, ownerName(w.spec.Host, i, w.spec.Owner))
		// One live worker inside makes it a violation: look no further.
		alive = alive || !processGone(int(w.reg.slots[i].pid.Load()))
	}
	if len(others) > 0 && !alive {
		return
	}
	w.slot.occupied.Add(1)
	if len(w.occupied) >= w.spec.MaxExamples {
		return
	}
	inside := strings.Join(others, ", ")
	if inside == "" {
		inside = "none any more (they left before they could be named)"
	}
	w.occupied = append(w.occupied, detect.Violation{
		Detector: detect.Occupancy, Kind: detect.KindOccupied,
		Workers: append([]string{incarnationName(w.spec.Owner, w.spec.Incarnation)}, others...),
		AtNs:    at,
		Detail:  fmt.Sprintf("the occupancy counter was %d on entry; also in or at the critical section: %s", n, inside),
	})
}

// ownerName names worker i of a host as in reports. owner is the name of
// any worker of the same host, which gives the form.
func ownerName(host string, i int, owner string) string {
	if strings.Contains(owner, "/") {
		return fmt.Sprintf("%s/w%d", host, i)
	}
	return fmt.Sprintf("w%d", i)
}

func incarnationName(owner string, inc int) string {
	return detect.LogHeader{Owner: owner, Incarnation: inc}.Name()
}
