package stress

import (
	"io"
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// HgrmUnit is the unit of the values in the .hgrm files lockstress writes:
// microseconds, in which the three decimals of the format hold every
// nanosecond the histograms record.
const HgrmUnit = time.Microsecond

// hgrmTicks is the number of percentile rows per halving of the distance
// to 100%, as HdrHistogram's outputPercentileDistribution has by default.
const hgrmTicks = 5

// WritePercentiles writes the percentile distribution of h, a histogram
// of nanoseconds, in the text format of HdrHistogram's
// outputPercentileDistribution (an .hgrm file, which its plotter reads),
// with values in unit.
func WritePercentiles(w io.Writer, h *hdrhistogram.Histogram, unit time.Duration) error {
	ew := &errWriter{w: w}
	scale := float64(unit)
	digits := int(h.SignificantFigures())
	ew.printf("%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)")
	if h.TotalCount() > 0 {
		for _, b := range h.CumulativeDistributionWithTicks(hgrmTicks) {
			p := b.Quantile / 100
			if b.Quantile == 100 {
				ew.printf("%12.*f %2.12f %10d\n", digits, float64(b.ValueAt)/scale, p, b.Count)
				continue
			}
			ew.printf("%12.*f %2.12f %10d %14.2f\n", digits, float64(b.ValueAt)/scale, p, b.Count, 1/(1-p))
		}
	}
	buckets, subBuckets := hgrmBuckets(h)
	ew.printf("#[Mean    = %12.*f, StdDeviation   = %12.*f]\n", digits, h.Mean()/scale, digits, h.StdDev()/scale)
	ew.printf("#[Max     = %12.*f, Total count    = %12d]\n", digits, float64(h.Max())/scale, h.TotalCount())
	ew.printf("#[Buckets = %12d, SubBuckets     = %12d]\n", buckets, subBuckets)
	return ew.err
}

// hgrmBuckets returns the number of buckets and sub-buckets of h, as
// HdrHistogram computes them from its range and precision.
func hgrmBuckets(h *hdrhistogram.Histogram) (buckets, subBuckets int64) {
	largest := 2 * math.Pow10(int(h.SignificantFigures()))
	subBucketMagnitude := max(int(math.Ceil(math.Log2(largest))), 1)
	subBuckets = 1 << subBucketMagnitude
	unitMagnitude := int(math.Floor(math.Log2(float64(max(h.LowestTrackableValue(), 1)))))
	untrackable := subBuckets << unitMagnitude
	buckets = 1
	for untrackable <= h.HighestTrackableValue() {
		if untrackable > math.MaxInt64/2 {
			return buckets + 1, subBuckets
		}
		untrackable <<= 1
		buckets++
	}
	return buckets, subBuckets
}
