package main

import (
	"cmp"
	"math"
	"slices"
)

// exactUTestMax is the largest number of samples, both sides together,
// whose U test p-value is computed exactly rather than approximated.
const exactUTestMax = 60

// uTest returns the two-sided p-value of the Mann-Whitney U test of a and
// b: the probability, were both drawn from one distribution, of ranks at
// least as far apart as theirs. Ties take the mean of their ranks; up to
// exactUTestMax samples the p-value is exact (ties included), beyond it
// comes from the normal approximation with the tie correction.
func uTest(a, b []float64) float64 {
	n1, n := len(a), len(a)+len(b)
	if len(a) == 0 || len(b) == 0 {
		return 1
	}
	ranks := doubledRanks(append(slices.Clone(a), b...))
	var sum int // of a's doubled ranks
	for _, r := range ranks[:n1] {
		sum += r
	}
	mid := n1 * (n + 1) // the expected doubled rank sum of a
	if n <= exactUTestMax {
		return exactUTest(ranks, n1, abs(sum-mid))
	}
	return normalUTest(a, b, ranks, float64(abs(sum-mid))/2)
}

// doubledRanks returns twice the rank of each of xs (1 for the smallest),
// ties sharing the mean of their ranks, which doubled is an integer.
func doubledRanks(xs []float64) []int {
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return cmp.Compare(xs[i], xs[j]) })
	ranks := make([]int, len(xs))
	for i := 0; i < len(order); {
		j := i
		for j < len(order) && xs[order[j]] == xs[order[i]] {
			j++
		}
		for _, k := range order[i:j] {
			ranks[k] = i + 1 + j // (i+1 + j) / 2, doubled
		}
		i = j
	}
	return ranks
}

// exactUTest returns the share of the ways of choosing n1 of the doubled
// ranks whose sum is at least dev away from its mean.
func exactUTest(ranks []int, n1, dev int) float64 {
	total := 0
	for _, r := range ranks {
		total += r
	}
	// ways[k][s]: the ways of choosing k of the ranks seen so far, sum s.
	ways := make([][]float64, n1+1)
	for k := range ways {
		ways[k] = make([]float64, total+1)
	}
	ways[0][0] = 1
	for i, r := range ranks {
		for k := min(i+1, n1); k >= 1; k-- {
			for s := total; s >= r; s-- {
				ways[k][s] += ways[k-1][s-r]
			}
		}
	}
	mid := n1 * (len(ranks) + 1)
	var far, all float64
	for s, w := range ways[n1] {
		all += w
		if abs(s-mid) >= dev {
			far += w
		}
	}
	return far / all
}

// normalUTest returns the p-value of U, dev away from its mean, from the
// normal approximation, with the tie and continuity corrections.
func normalUTest(a, b []float64, ranks []int, dev float64) float64 {
	n1, n2, n := float64(len(a)), float64(len(b)), float64(len(ranks))
	counts := map[int]float64{}
	for _, r := range ranks {
		counts[r]++
	}
	var ties float64
	for _, t := range counts {
		ties += t*t*t - t
	}
	variance := n1 * n2 / 12 * (n + 1 - ties/(n*(n-1)))
	if variance <= 0 {
		return 1
	}
	z := max(dev-0.5, 0) / math.Sqrt(variance)
	return math.Erfc(z / math.Sqrt2)
}

// minUTestP returns the smallest p-value the U test can give with n1 and
// n2 samples: when it is not below alpha, no difference can be shown.
func minUTestP(n1, n2 int) float64 {
	// 2 / C(n1+n2, n1): only the two most extreme orders are as far.
	c := 1.0
	for i := 1; i <= n1; i++ {
		c = c * float64(n2+i) / float64(i)
	}
	return min(2/c, 1)
}

func abs(x int) int { return max(x, -x) }
