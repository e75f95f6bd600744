package stress

import (
	"math"
	"slices"
)

// JainIndex returns Jain's fairness index of xs, (Σx)² / (n·Σx²): 1 when
// all are equal and positive, 1/n when one has everything, and 0 when xs is
// empty or all zero.
func JainIndex(xs []int64) float64 {
	var sum, sumSq float64
	for _, x := range xs {
		f := float64(x)
		sum += f
		sumSq += f * f
	}
	if sumSq == 0 {
		return 0
	}
	return sum * sum / (float64(len(xs)) * sumSq)
}

// summarizeExact summarizes a small sample exactly (nearest rank).
func summarizeExact(xs []int64) Latency {
	if len(xs) == 0 {
		return Latency{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := func(p float64) int64 {
		// Nearest rank; the epsilon keeps 99.9% of 1000 at 999, not 1000.
		i := int(math.Ceil(p/100*float64(len(s))-1e-9)) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	var sum float64
	for _, x := range s {
		sum += float64(x)
	}
	mean := sum / float64(len(s))
	var dev float64
	for _, x := range s {
		dev += (float64(x) - mean) * (float64(x) - mean)
	}
	return Latency{
		Count: int64(len(s)), P50Ns: rank(50), P90Ns: rank(90), P99Ns: rank(99), P999Ns: rank(99.9),
		MaxNs: s[len(s)-1], MeanNs: mean, StddevNs: math.Sqrt(dev / float64(len(s))),
	}
}

// fairness computes the fairness figures of the workers' acquisitions.
func fairness(workers []WorkerStats) Fairness {
	f := Fairness{Workers: len(workers), Starved: []string{}}
	counts := make([]int64, len(workers))
	for i, w := range workers {
		counts[i] = w.Acquisitions
		if i == 0 || w.Acquisitions < f.Min {
			f.Min = w.Acquisitions
		}
		f.Max = max(f.Max, w.Acquisitions)
		if w.Acquisitions == 0 {
			f.Starved = append(f.Starved, w.Name)
		}
	}
	f.Jain = JainIndex(counts)
	return f
}
