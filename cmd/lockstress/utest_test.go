package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Known p-values of the exact two-sided test (the first from SciPy's
// documentation of mannwhitneyu).
func TestUTestKnown(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b []float64
		want float64
	}{
		{"scipy", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, 1.0 / 9},
		{"apart 3+3", []float64{1, 2, 3}, []float64{4, 5, 6}, 0.1},
		{"apart 4+4", []float64{4, 3, 2, 1}, []float64{5, 8, 7, 6}, 2.0 / 70},
		{"apart 5+5 reversed", []float64{10, 9, 8, 7, 6}, []float64{1, 2, 3, 4, 5}, 2.0 / 252},
		{"interleaved", []float64{1, 3, 5, 7}, []float64{2, 4, 6, 8}, 0.6857142857142857},
		{"all equal", []float64{2, 2, 2}, []float64{2, 2, 2}, 1},
		{"one each", []float64{1}, []float64{2}, 1},
		{"empty", nil, []float64{1, 2}, 1},
	} {
		if got := uTest(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: uTest(%v, %v) = %v, want %v", c.name, c.a, c.b, got, c.want)
		}
	}
}

// The exact p-value agrees with brute force over every assignment of the
// samples to the two sides, ties included.
func TestUTestBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		a, b := make([]float64, 1+r.IntN(6)), make([]float64, 1+r.IntN(6))
		for i := range a {
			a[i] = float64(r.IntN(5))
		}
		for i := range b {
			b[i] = float64(r.IntN(5))
		}
		if got, want := uTest(a, b), bruteUTest(a, b); math.Abs(got-want) > 1e-12 {
			t.Fatalf("uTest(%v, %v) = %v, brute force %v", a, b, got, want)
		}
	}
}

// bruteUTest counts the assignments of a's and b's values to sides of
// their sizes whose U is as far from its mean as theirs.
func bruteUTest(a, b []float64) float64 {
	all := append(append([]float64{}, a...), b...)
	n1 := len(a)
	u := func(mask int) float64 { // U of the values in mask against the rest
		var x float64
		for i := range all {
			for j := range all {
				if mask&(1<<i) != 0 && mask&(1<<j) == 0 {
					switch {
					case all[i] > all[j]:
						x++
					case all[i] == all[j]:
						x += 0.5
					}
				}
			}
		}
		return x
	}
	mean := float64(n1*len(b)) / 2
	obs := math.Abs(u(1<<n1-1) - mean)
	var far, total float64
	for mask := range 1 << len(all) {
		if popcount(mask) != n1 {
			continue
		}
		total++
		if math.Abs(u(mask)-mean) >= obs-1e-9 {
			far++
		}
	}
	return far / total
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// Beyond exactUTestMax samples the normal approximation is close to the
// exact value.
func TestUTestNormal(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, shift := range []float64{0, 0.3, 0.8} {
		a, b := make([]float64, 30), make([]float64, 30)
		for i := range a {
			a[i], b[i] = r.NormFloat64(), r.NormFloat64()+shift
		}
		all := append(append([]float64{}, a...), b...)
		exact := uTest(a, b)
		ranks := doubledRanks(all)
		sum := 0
		for _, x := range ranks[:30] {
			sum += x
		}
		approx := normalUTest(a, b, ranks, float64(abs(sum-30*61))/2)
		if math.Abs(exact-approx) > 0.01 {
			t.Errorf("shift %v: exact p %v, normal approximation %v", shift, exact, approx)
		}
	}
}

func TestMinUTestP(t *testing.T) {
	for _, c := range []struct {
		n1, n2 int
		want   float64
	}{{1, 1, 1}, {1, 3, 0.5}, {3, 3, 0.1}, {4, 4, 2.0 / 70}, {5, 3, 2.0 / 56}} {
		if got := minUTestP(c.n1, c.n2); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("minUTestP(%d, %d) = %v, want %v", c.n1, c.n2, got, c.want)
		}
		a, b := make([]float64, c.n1), make([]float64, c.n2)
		for i := range b {
			b[i] = float64(i + c.n1)
		}
		for i := range a {
			a[i] = float64(i)
		}
		if got := uTest(a, b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("uTest of %d+%d samples apart = %v, want the least p %v", c.n1, c.n2, got, c.want)
		}
	}
}

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{{0, "0%"}, {0.0004, "0%"}, {0.123, "+12.3%"}, {-0.514, "-51.4%"}, {133.533, "+13353%"}, {math.Inf(1), "+∞"}} {
		if got := percent(c.x); got != c.want {
			t.Errorf("percent(%v) = %q, want %q", c.x, got, c.want)
		}
	}
}

func TestMedianAndSpread(t *testing.T) {
	for _, c := range []struct {
		xs       []float64
		med, dev float64
	}{
		{[]float64{5}, 5, 0},
		{[]float64{3, 1, 2}, 2, 0.5},
		{[]float64{4, 1, 2, 3}, 2.5, 0.6},
		{[]float64{0, 0}, 0, 0},
	} {
		med := median(c.xs)
		if got := spread(c.xs, med); med != c.med || math.Abs(got-c.dev) > 1e-12 {
			t.Errorf("median, spread of %v = %v, %v; want %v, %v", c.xs, med, got, c.med, c.dev)
		}
	}
}
