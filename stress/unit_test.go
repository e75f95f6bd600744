package stress

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstress/lockstress/filelock"
)

func TestParseDist(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Dist
		str  string
	}{
		{"0", Fixed(0), "0s"},
		{"1ms", Fixed(time.Millisecond), "1ms"},
		{"250us", Fixed(250 * time.Microsecond), "250µs"},
		{"uniform:0-2ms", Uniform(0, 2*time.Millisecond), "uniform:0s-2ms"},
		{"uniform:1-2ms", Uniform(time.Millisecond, 2*time.Millisecond), "uniform:1ms-2ms"},
		{"uniform:500us-1ms", Uniform(500*time.Microsecond, time.Millisecond), "uniform:500µs-1ms"},
		{"uniform:1ms-1ms", Uniform(time.Millisecond, time.Millisecond), "uniform:1ms-1ms"},
		{"exp:1ms", Exp(time.Millisecond), "exp:1ms"},
	} {
		got, err := ParseDist(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDist(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.str {
			t.Errorf("ParseDist(%q).String() = %q, want %q", tc.in, got.String(), tc.str)
		}
		back, err := ParseDist(got.String())
		if err != nil || back != got {
			t.Errorf("ParseDist(%q) = %v, %v; want %v", got.String(), back, err, got)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "invalid duration"},
		{"1", "missing unit"},
		{"-1ms", "negative"},
		{"uniform:2ms", "want uniform:LO-HI"},
		{"uniform:3ms-1ms", "lower bound 3ms is above upper bound 1ms"},
		{"uniform:x-1ms", "invalid duration"},
		{"exp:-1ms", "negative"},
		{"normal:1ms", `unknown distribution "normal"`},
	} {
		_, err := ParseDist(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.in) {
			t.Errorf("ParseDist(%q) = %v, want an error naming the input and saying %q", tc.in, err, tc.want)
		}
	}
}

func TestDistSample(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	for _, d := range []Dist{Fixed(3 * time.Millisecond), Uniform(time.Millisecond, 3*time.Millisecond), Exp(2 * time.Millisecond)} {
		var sum time.Duration
		for range n {
			v := d.Sample(r)
			if v < 0 || d.kind == distUniform && (v < d.a || v > d.b) || d.kind == distFixed && v != d.a {
				t.Fatalf("%v: sample %v out of range", d, v)
			}
			sum += v
		}
		mean := sum / n
		if math.Abs(float64(mean-d.Mean())) > 0.05*float64(d.Mean()) {
			t.Errorf("%v: sample mean %v, want about %v", d, mean, d.Mean())
		}
	}
	if (Dist{}).Sample(r) != 0 || !(Dist{}).IsZero() {
		t.Error("the zero Dist is not always 0")
	}
}

func TestJainIndex(t *testing.T) {
	for _, tc := range []struct {
		xs   []int64
		want float64
	}{
		{nil, 0},
		{[]int64{0, 0, 0}, 0},
		{[]int64{5}, 1},
		{[]int64{7, 7, 7, 7}, 1},
		{[]int64{10, 0, 0, 0}, 0.25},
		{[]int64{1, 2, 3, 4}, 100.0 / (4 * 30)},
		{[]int64{1, 1, 0, 0}, 0.5},
		{[]int64{1 << 40, 1 << 40}, 1},
	} {
		if got := JainIndex(tc.xs); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("JainIndex(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

func TestFairness(t *testing.T) {
	f := fairness([]WorkerStats{{Name: "w0", Acquisitions: 4}, {Name: "w1"}, {Name: "w2", Acquisitions: 2}, {Name: "w3"}})
	if f.Workers != 4 || f.Min != 0 || f.Max != 4 || !slices.Equal(f.Starved, []string{"w1", "w3"}) || math.Abs(f.Jain-36.0/80) > 1e-12 {
		t.Errorf("fairness = %+v", f)
	}
}

func TestSummarizeExact(t *testing.T) {
	var xs []int64
	for i := int64(1); i <= 1000; i++ {
		xs = append(xs, i)
	}
	l := summarizeExact(xs)
	if l.Count != 1000 || l.P50Ns != 500 || l.P90Ns != 900 || l.P99Ns != 990 || l.P999Ns != 999 || l.MaxNs != 1000 || l.MeanNs != 500.5 {
		t.Errorf("summarizeExact = %+v", l)
	}
	if (summarizeExact(nil) != Latency{}) {
		t.Error("summary of nothing is not zero")
	}
}

func TestStrategies(t *testing.T) {
	real := Strategies()
	if len(real) == 0 {
		t.Fatal("no real strategies")
	}
	all, err := ParseStrategies("all")
	if err != nil || !slices.Equal(all, real) {
		t.Errorf(`ParseStrategies("all") = %v, %v; want %v`, all, err, real)
	}
	for _, s := range real {
		if s.Broken() {
			t.Errorf("real strategy %v is broken", s)
		}
		got, err := ParseStrategy(s.String())
		if err != nil || got != s {
			t.Errorf("ParseStrategy(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range BrokenStrategies() {
		if !s.Broken() || slices.Contains(all, s) {
			t.Errorf("broken strategy %v: Broken() = %v, in all: %v", s, s.Broken(), slices.Contains(all, s))
		}
		got, err := ParseStrategy(s.String())
		if err != nil || got != s {
			t.Errorf("ParseStrategy(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseStrategy("flock"); err == nil || !strings.Contains(err.Error(), "known: ") {
		t.Errorf(`ParseStrategy("flock") = %v, want an error listing the known ones`, err)
	}
	var s Strategy
	if err := s.UnmarshalText([]byte("racy")); err != nil || s != Racy {
		t.Errorf("UnmarshalText(racy) = %v, %v", s, err)
	}
}

func TestMountInfo(t *testing.T) {
	const info = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
30 22 0:25 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw,size=1024k
31 22 0:40 / /mnt/nfs rw,relatime shared:5 - nfs4 server:/export rw,vers=4.1,hard
32 31 0:41 / /mnt/nfs/inner\040dir rw master:2 - fuse.sshfs me@host:/x rw,user_id=0
33 30 0:26 / /dev/shm rw,noexec - tmpfs tmpfs rw,size=2048k
bad line without separator
`
	for _, tc := range []struct {
		path                        string
		point, fstype, source, opts string
	}{
		{"/home/me", "/", "ext4", "/dev/sda1", "rw,relatime,errors=remount-ro"},
		{"/dev/shm/x", "/dev/shm", "tmpfs", "tmpfs", "rw,noexec,size=2048k"},
		{"/mnt/nfs", "/mnt/nfs", "nfs4", "server:/export", "rw,relatime,vers=4.1,hard"},
		{"/mnt/nfsx", "/", "ext4", "/dev/sda1", "rw,relatime,errors=remount-ro"},
		{"/mnt/nfs/inner dir/a", "/mnt/nfs/inner dir", "fuse.sshfs", "me@host:/x", "rw,user_id=0"},
	} {
		m, ok := findMount(strings.NewReader(info), tc.path)
		got := []string{m.point, m.fstype, m.source, mergeOptions(m.options, m.superOptions)}
		want := []string{tc.point, tc.fstype, tc.source, tc.opts}
		if !ok || !slices.Equal(got, want) {
			t.Errorf("findMount(%q) = %q, %v; want %q", tc.path, got, ok, want)
		}
	}
}

func TestProbeFilesystem(t *testing.T) {
	fs := probeFilesystem("/dev/shm")
	if fs.Type != "tmpfs" || fs.Magic != "0x1021994" || fs.MountType != "tmpfs" || fs.MountPoint != "/dev/shm" {
		t.Errorf("probeFilesystem(/dev/shm) = %+v", fs)
	}
	if s := fs.String(); !strings.Contains(s, "/dev/shm on tmpfs") {
		t.Errorf("Filesystem.String() = %q", s)
	}
	fs = probeFilesystem("/nonexistent/dir")
	if fs.Type != "unknown" || fs.MountPoint != "" {
		t.Errorf("probeFilesystem of a missing directory = %+v", fs)
	}
}

// judged returns r, judged, with four workers that each acquired the lock
// unless it has some, and three detectors that each checked n critical
// sections unless off.
func judged(t *testing.T, r Report, n int64, off bool) *Report {
	t.Helper()
	if r.Workers == nil {
		r.Workers = []WorkerStats{{Acquisitions: 1}, {Acquisitions: 1}, {Acquisitions: 1}, {Acquisitions: 1}}
	}
	if r.Config.DurationNs == 0 {
		r.Config.DurationNs = int64(10 * time.Second)
	}
	r.Config.Detectors, r.Detectors.Enabled = !off, !off
	if !off {
		r.Detectors.Ledger.Checked, r.Detectors.Occupancy.Checked, r.Detectors.Interval.Checked = n, n, n
	}
	r.judge()
	return &r
}

func TestVerdict(t *testing.T) {
	failed := []Failure{{Worker: "w0"}}
	for _, tc := range []struct {
		name    string
		r       Report
		checked int64
		want    string
		reason  string // in Reason
		off     bool   // the detectors
	}{
		{"pass", Report{}, 100, VerdictPass, "", false},
		{"pass at the minimum", Report{}, 4, VerdictPass, "", false},
		{"violation", Report{Violations: 1}, 100, VerdictFail, "mutual exclusion was violated", false},
		{"broken caught", Report{Broken: true, Strategy: "none", Violations: 5}, 100, VerdictFail, "as it must", false},
		{"violation and failure", Report{Violations: 1, Failures: failed}, 100, VerdictFail, "violated", false},
		{"failure", Report{Failures: failed}, 100, VerdictError, "1 workers failed", false},
		{"failure and interrupted", Report{Failures: failed, Interrupted: true}, 100, VerdictError, "failed", false},
		{"interrupted", Report{Interrupted: true, ElapsedNs: int64(2 * time.Second)}, 100, VerdictInterrupted, "interrupted after 2s of 10s", false},
		{"interrupted with nothing checked", Report{Interrupted: true}, 0, VerdictInterrupted, "interrupted", false},
		{"nothing checked", Report{}, 0, VerdictInconclusive, "checked 0 critical sections, fewer than the minimum of 4, one per worker", false},
		{"below the minimum", Report{}, 3, VerdictInconclusive, "fewer than the minimum of 4", false},
		{"nothing checked, all timed out", Report{Errors: map[string]ErrorCount{"acquire:timeout": {Count: 7}, "acquire:other": {Count: 2}}}, 0, VerdictInconclusive,
			"checked 0 critical sections, fewer than the minimum of 4, one per worker; 9 lock operations failed, counted under errors", false},
		{"below a set minimum", Report{Config: ReportConfig{MinChecked: 1000}}, 999, VerdictInconclusive, "checked 999 critical sections, fewer than the minimum of 1000", false},
		{"at a set minimum", Report{Config: ReportConfig{MinChecked: 1000}}, 1000, VerdictPass, "", false},
		{"no minimum", Report{Config: ReportConfig{MinChecked: -1}}, 0, VerdictPass, "", false},
		{"detectors off", Report{}, 0, VerdictInconclusive, "the detectors were off", true},
		{"detectors off, no minimum", Report{Config: ReportConfig{MinChecked: -1}}, 0, VerdictPass, "", true},
		{"broken not caught", Report{Broken: true, Strategy: "racy"}, 100, VerdictInconclusive, "racy is a broken strategy, and no detector caught it", false},
		{"broken with one worker", Report{Broken: true, Strategy: "none", Workers: make([]WorkerStats, 1)}, 100, VerdictInconclusive, "with one worker it cannot be caught", false},
		{"one worker", Report{Workers: []WorkerStats{{Acquisitions: 100}}}, 100, VerdictInconclusive, "with one worker, nothing contended for the lock", false},
		{"one worker, no minimum", Report{Workers: []WorkerStats{{Acquisitions: 100}}, Config: ReportConfig{MinChecked: -1}}, 100, VerdictPass, "", false},
		{"one worker of a host of a shared run", Report{partial: true, Workers: []WorkerStats{{Acquisitions: 100}}}, 100, VerdictPass, "", false},
		{"only one worker acquired (barging)", Report{Workers: []WorkerStats{{Acquisitions: 100}, {}, {}}}, 100, VerdictPass, "", false},
		{"every release failed", Report{Acquisitions: 100, Errors: map[string]ErrorCount{"release:other": {Count: 100}}}, 100, VerdictInconclusive, "every release failed (100)", false},
		{"some releases failed", Report{Acquisitions: 100, Errors: map[string]ErrorCount{"release:other": {Count: 99}}}, 100, VerdictPass, "", false},
		{"a member never held it", Report{Members: []MemberStats{{Strategy: "soft", Workers: 2, Acquisitions: 9}, {Strategy: "exec:x", Workers: 2, Acquisitions: 0}}}, 100, VerdictInconclusive, "the member exec:x of the mixed population never held the lock", false},
		{"a member without workers", Report{Members: []MemberStats{{Strategy: "soft", Workers: 2, Acquisitions: 9}, {Strategy: "os", Workers: 0}}}, 100, VerdictPass, "", false},
		{"a member idle on one host of a shared run", Report{partial: true, Members: []MemberStats{{Strategy: "soft", Workers: 2, Acquisitions: 9}, {Strategy: "exec:x", Workers: 2}}}, 100, VerdictPass, "", false},
		{"every member held it", Report{Members: []MemberStats{{Strategy: "soft", Workers: 2, Acquisitions: 9}, {Strategy: "exec:x", Workers: 2, Acquisitions: 1}}}, 100, VerdictPass, "", false},
		{"unreadable logs", Report{Detectors: Detectors{Ledger: DetectorReport{LogErrors: []string{"w0.log: bad"}}, Interval: DetectorReport{LogErrors: []string{"w0.log: bad", "w1.log: bad"}}}}, 100, VerdictError, "2 worker logs could not be read to the end", false},
		{"never recovered", Report{Faults: Faults{Kills: 3, Recovered: 1, Unrecovered: 2, NeverRecovered: 1}}, 100, VerdictError, "the lock never recovered from 1 of 3 kills", false},
		{"not recovered at the end", Report{Faults: Faults{Kills: 3, Recovered: 2, Unrecovered: 1}}, 100, VerdictPass, "", false},
		{"never recovered, on one host of a shared run", Report{partial: true, Faults: Faults{Kills: 3, Recovered: 2, Unrecovered: 1, NeverRecovered: 1}}, 100, VerdictPass, "", false},
		{"never recovered, interrupted", Report{Interrupted: true, Faults: Faults{Kills: 1, Unrecovered: 1, NeverRecovered: 1}}, 100, VerdictInterrupted, "interrupted", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := judged(t, tc.r, tc.checked, tc.off)
			if r.Verdict != tc.want || !strings.Contains(r.Reason, tc.reason) || (tc.reason == "") != (r.Reason == "") {
				t.Errorf("verdict %s (%s), want %s (%s)", r.Verdict, r.Reason, tc.want, tc.reason)
			}
		})
	}
}

func TestWorstVerdict(t *testing.T) {
	v := func(verdict string) *Report { return &Report{Verdict: verdict} }
	for _, tc := range []struct {
		reports []*Report
		want    string
	}{
		{nil, VerdictPass},
		{[]*Report{v(VerdictPass), v(VerdictPass)}, VerdictPass},
		{[]*Report{v(VerdictPass), v(VerdictInconclusive)}, VerdictInconclusive},
		{[]*Report{v(VerdictInconclusive), v(VerdictInterrupted)}, VerdictInterrupted},
		{[]*Report{v(VerdictInterrupted), v(VerdictError), v(VerdictPass)}, VerdictError},
		{[]*Report{v(VerdictError), v(VerdictFail)}, VerdictFail},
		{[]*Report{v(VerdictFail), v(VerdictError)}, VerdictFail},
	} {
		if got := WorstVerdict(tc.reports...); got != tc.want {
			t.Errorf("WorstVerdict(%d reports) = %s, want %s", len(tc.reports), got, tc.want)
		}
		if d := NewDocument(tc.reports...); d.Verdict != tc.want || d.Version != SchemaVersion || d.ExitCode != 0 {
			t.Errorf("NewDocument: %+v", d)
		}
	}
}

func TestBytesSize(t *testing.T) {
	for _, tc := range []struct {
		b    float64
		want string
	}{
		{0, "0 B"}, {999.4, "999 B"}, {999.6, "1 KB"}, {5243.2, "5.24 KB"},
		{999_499, "999 KB"}, {999_999, "1 MB"}, {12_345_678, "12.3 MB"},
	} {
		if got := bytesSize(tc.b); got != tc.want {
			t.Errorf("bytesSize(%v) = %q, want %q", tc.b, got, tc.want)
		}
	}
}

// TestSummaryMemory: the memory line is shown for the library's
// strategies, not for an adapter's, whose lock allocates elsewhere.
func TestSummaryMemory(t *testing.T) {
	r := &Report{Strategy: "soft", Acquisitions: 10, Memory: Memory{Acquisitions: 10, AllocBytes: 52_430, Allocs: 780, BytesPerAcquisition: 5243, AllocsPerAcquisition: 78, GCs: 2}}
	var b strings.Builder
	if err := WriteSummary(&b, r); err != nil {
		t.Fatal(err)
	}
	if want := "memory       5.24 KB and 78 objects allocated per acquisition (harness included); 2 garbage collections\n"; !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
	r.Strategy = execPrefix + "adapters/x.sh"
	b.Reset()
	if err := WriteSummary(&b, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "memory ") {
		t.Errorf("an adapter's summary shows memory:\n%s", b.String())
	}
}

// TestWorkerLockAcceptsDirectoryWritableByAll: a worker's lock options take
// the lock in a run directory that shows write for all without the sticky
// bit (an SMB or FAT mount shows every directory so), which the library
// refuses by default.
func TestWorkerLockAcceptsDirectoryWritableByAll(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no permission bits for others")
	}
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lock")
	if err := tryLockOnce(path); !errors.Is(err, filelock.ErrUnsafeDirectory) {
		t.Fatalf("default options: %v, want ErrUnsafeDirectory", err)
	}
	if err := tryLockOnce(path, workerSpec{}.lockOptions()...); err != nil {
		t.Fatalf("a worker's options: %v", err)
	}
}

// tryLockOnce takes and releases the lock at path with opts.
func tryLockOnce(path string, opts ...filelock.Option) error {
	l, err := filelock.New(path, opts...)
	if err != nil {
		return err
	}
	if err := l.TryLock(); err != nil {
		return err
	}
	return l.Unlock()
}
