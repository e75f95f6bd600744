package stress

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lockstress/lockstress/stress/detect"
)

// histogramCases are samples of nanoseconds to record.
func histogramCases() map[string][]int64 {
	r := rand.New(rand.NewPCG(1, 2))
	spread, bimodal := make([]int64, 5000), make([]int64, 3001)
	for i := range spread {
		spread[i] = 1 + r.Int64N(int64(10*time.Millisecond))
	}
	for i := range bimodal {
		bimodal[i] = int64(200*time.Microsecond) + r.Int64N(1000)
		if i%10 == 0 {
			bimodal[i] = int64(time.Second) + r.Int64N(int64(time.Second))
		}
	}
	return map[string][]int64{
		"empty": nil, "one": {1234}, "tiny": {1, 2, 3, 999, 1000, 1001}, "spread": spread, "bimodal": bimodal,
	}
}

func histogramOf(t *testing.T, samples []int64) *hdrhistogram.Histogram {
	t.Helper()
	h := detect.NewLatencyHistogram()
	for _, x := range samples {
		if err := h.RecordValue(x); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// A summary's histogram decodes to one with the summary's figures.
func TestLatencyHistogramDecodes(t *testing.T) {
	for name, samples := range histogramCases() {
		t.Run(name, func(t *testing.T) {
			l, err := summarize(histogramOf(t, samples))
			if err != nil {
				t.Fatal(err)
			}
			h, err := l.Decode()
			if len(samples) == 0 {
				if !errors.Is(err, ErrNoHistogram) {
					t.Fatalf("Decode of an empty summary: %v, want ErrNoHistogram", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			again, err := summarize(h)
			if err != nil {
				t.Fatal(err)
			}
			if again != l {
				t.Errorf("decoded histogram summarizes to\n%+v\nwant\n%+v", again, l)
			}
		})
	}
	if _, err := (Latency{Count: 1, Histogram: "not base64!"}).Decode(); err == nil {
		t.Error("Decode accepted a corrupt histogram")
	}
}

// hgrmRow is one row of an .hgrm file.
type hgrmRow struct {
	valueNs    int64
	percentile float64
	count      int64
	inverse    string // "" on the last row
}

// parseHgrm parses an .hgrm file into its rows and its footer's numbers.
func parseHgrm(t *testing.T, text string) ([]hgrmRow, []float64) {
	t.Helper()
	const header = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n"
	body, ok := strings.CutPrefix(text, header)
	if !ok {
		t.Fatalf("no .hgrm header:\n%s", text)
	}
	var rows []hgrmRow
	var footer []float64
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "#[") {
			for _, f := range strings.Split(strings.Trim(line, "#[]\n"), ",") {
				_, v, _ := strings.Cut(f, "=")
				footer = append(footer, parseFloat(t, strings.TrimSpace(v)))
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 && len(f) != 3 {
			t.Fatalf("row %q has %d columns", line, len(f))
		}
		row := hgrmRow{valueNs: int64(math.Round(parseFloat(t, f[0]) * float64(HgrmUnit))), percentile: parseFloat(t, f[1])}
		row.count = int64(parseFloat(t, f[2]))
		if len(f) == 4 {
			row.inverse = f[3]
		}
		rows = append(rows, row)
	}
	return rows, footer
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("in .hgrm: %v", err)
	}
	return v
}

// An .hgrm file parses back to rows that agree with the recorded samples.
func TestWritePercentiles(t *testing.T) {
	for name, samples := range histogramCases() {
		t.Run(name, func(t *testing.T) {
			h := histogramOf(t, samples)
			var b bytes.Buffer
			if err := WritePercentiles(&b, h, HgrmUnit); err != nil {
				t.Fatal(err)
			}
			rows, footer := parseHgrm(t, b.String())
			checkRows(t, h, samples, rows)
			mean, stddev := math.Round(h.Mean())/1000, math.Round(h.StdDev())/1000
			want := []float64{mean, stddev, float64(h.Max()) / 1000, float64(len(samples)), 32, 2048}
			if len(footer) != len(want) {
				t.Fatalf("footer %v, want %v", footer, want)
			}
			for i := range want {
				if math.Abs(footer[i]-want[i]) > 0.0011 {
					t.Errorf("footer %v, want %v", footer, want)
				}
			}
		})
	}
}

// checkRows checks the rows of an .hgrm file against the samples of h.
func checkRows(t *testing.T, h *hdrhistogram.Histogram, samples []int64, rows []hgrmRow) {
	t.Helper()
	if len(samples) == 0 {
		if len(rows) != 0 {
			t.Errorf("empty histogram has rows %v", rows)
		}
		return
	}
	last := rows[len(rows)-1]
	if last.percentile != 1 || last.count != int64(len(samples)) || last.valueNs != h.Max() || last.inverse != "" {
		t.Errorf("last row %+v, want 100%% of %d at %d", last, len(samples), h.Max())
	}
	seen50 := false
	for i, row := range rows {
		var below int64
		for _, x := range samples {
			if x <= row.valueNs {
				below++
			}
		}
		switch {
		case h.ValuesAreEquivalent(row.valueNs, row.valueNs+1):
			t.Errorf("row %+v: value is not the top of its bucket", row)
		case row.count != below:
			t.Errorf("row %+v: %d samples are at or below its value", row, below)
		case float64(row.count)/float64(len(samples)) < row.percentile-1e-12:
			t.Errorf("row %+v: its count is below its percentile", row)
		case i > 0 && row.percentile <= rows[i-1].percentile:
			t.Errorf("row %+v after %+v", row, rows[i-1])
		case row.inverse != "" && row.inverse != fmt.Sprintf("%.2f", 1/(1-row.percentile)):
			t.Errorf("row %+v: 1/(1-Percentile) is wrong", row)
		}
		if row.percentile == 0.5 {
			seen50 = true
			if row.valueNs != h.ValueAtQuantile(50) {
				t.Errorf("row %+v: the median is %d", row, h.ValueAtQuantile(50))
			}
		}
	}
	if !seen50 && len(samples) >= 100 {
		t.Errorf("no row at the median in %v", rows)
	}
}

// The footer's bucket counts are HdrHistogram's for every geometry.
func TestHgrmBuckets(t *testing.T) {
	for _, g := range []struct{ lo, hi, digits int64 }{
		{1, int64(time.Hour), 3}, {1, 1000, 1}, {1, 1 << 40, 2}, {1000, int64(time.Hour), 3}, {1, math.MaxInt64 / 2, 5}, {7, 100_000, 4},
	} {
		h := hdrhistogram.New(g.lo, g.hi, int(g.digits))
		var b bytes.Buffer
		if _, err := h.PercentilesPrint(&b, 5, 1); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		buckets, sub := hgrmBuckets(h)
		want := fmt.Sprintf("#[Buckets = %12d, SubBuckets     = %12d]", buckets, sub)
		if got := lines[len(lines)-1]; got != want {
			t.Errorf("New(%d, %d, %d): hgrmBuckets gives %q, the library %q", g.lo, g.hi, g.digits, want, got)
		}
	}
}
