package stress

import (
	"errors"
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// MemberStats is the share of one strategy of a mixed population (see
// Mix): its workers, their acquisitions and their latencies.
type MemberStats struct {
	Strategy     string `json:"strategy"`
	Workers      int    `json:"workers"`
	Acquisitions int64  `json:"acquisitions"`
	// AcquireLatency and HoldTime are as the report's, over this
	// member's workers.
	AcquireLatency Latency `json:"acquire_latency"`
	HoldTime       Latency `json:"hold_time"`
}

// memberData is one member's share of a host's run, as hostData keeps it.
type memberData struct {
	Strategy     string `json:"strategy"`
	Workers      int    `json:"workers"`
	Acquisitions int64  `json:"acquisitions"`
	Latency      []byte `json:"latency"`
	Hold         []byte `json:"hold"`
}

// memberHistograms gathers the histograms of each member of a mixed
// population while a host's results are collected; it is empty for any
// other strategy.
type memberHistograms struct {
	names         []string // none unless the strategy is a mix
	latency, hold []*hdrhistogram.Histogram
	workers       []int
	acquisitions  []int64
}

func newMemberHistograms(s Strategy) *memberHistograms {
	m := &memberHistograms{}
	if !s.mixed {
		return m
	}
	for _, ms := range s.Members() {
		m.names = append(m.names, ms.String())
		m.latency = append(m.latency, newHistogram())
		m.hold = append(m.hold, newHistogram())
	}
	m.workers = make([]int, len(m.names))
	m.acquisitions = make([]int64, len(m.names))
	return m
}

// addWorker counts a worker and its acquisitions under its member.
func (m *memberHistograms) addWorker(worker int, acquisitions int64) {
	if len(m.names) > 0 {
		i := worker % len(m.names)
		m.workers[i]++
		m.acquisitions[i] += acquisitions
	}
}

// addResult merges one worker process's histograms into its member's.
func (m *memberHistograms) addResult(worker int, latency, hold []byte) error {
	if len(m.names) == 0 {
		return nil
	}
	i := worker % len(m.names)
	return errors.Join(mergeEncoded(m.latency[i], latency), mergeEncoded(m.hold[i], hold))
}

// data returns the members' shares, their histograms encoded.
func (m *memberHistograms) data() ([]memberData, error) {
	var out []memberData
	for i, name := range m.names {
		d := memberData{Strategy: name, Workers: m.workers[i], Acquisitions: m.acquisitions[i]}
		var err error
		if d.Latency, err = m.latency[i].Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
			return nil, err
		}
		if d.Hold, err = m.hold[i].Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// assembleMembers merges the members' shares of every host into the
// report's Members.
func assembleMembers(hosts []*hostData) ([]MemberStats, error) {
	n := len(hosts[0].Members)
	if n == 0 {
		return nil, nil
	}
	out := make([]MemberStats, n)
	for i := range out {
		latency, hold := newHistogram(), newHistogram()
		for _, h := range hosts {
			if len(h.Members) != n {
				return nil, fmt.Errorf("host %s: %d members of the mixed population, want %d", h.Host, len(h.Members), n)
			}
			d := h.Members[i]
			out[i].Strategy = d.Strategy
			out[i].Workers += d.Workers
			out[i].Acquisitions += d.Acquisitions
			if err := errors.Join(mergeEncoded(latency, d.Latency), mergeEncoded(hold, d.Hold)); err != nil {
				return nil, fmt.Errorf("host %s, member %s: %w", h.Host, d.Strategy, err)
			}
		}
		var err error
		if out[i].AcquireLatency, err = summarize(latency); err != nil {
			return nil, err
		}
		if out[i].HoldTime, err = summarize(hold); err != nil {
			return nil, err
		}
	}
	return out, nil
}
