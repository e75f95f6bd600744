//go:build linux

package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"

	"github.com/lockstress/lockstress/stress"
	"github.com/lockstress/lockstress/stress/detect"
)

// The histograms in the JSON report decode to the summaries' figures, and
// -hgrm writes each as its .hgrm file, one per strategy and distribution.
func TestHistogramsInReport(t *testing.T) {
	out := t.TempDir()
	path, prefix := filepath.Join(out, "report.json"), filepath.Join(out, "run")
	code, stdout, stderr := lockstress(t, "-strategy", "all", "-procs", "3", "-dur", "300ms", "-dir", t.TempDir(), "-json", path, "-hgrm", prefix)
	if code != 0 { // a pass
		t.Fatalf("exit code %d; stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	doc, _ := readDocument(t, path)
	var want []string
	for _, rep := range doc.Runs {
		if len(rep.Distributions()) != 3 {
			t.Errorf("run %s has distributions %v, want acquire, hold and handoff", rep.Strategy, rep.Distributions())
		}
		for _, d := range rep.Distributions() {
			want = append(want, rep.Strategy+"-"+d.Name)
			checkHistogram(t, rep.Strategy+" "+d.Name, d.Latency, prefix+"-"+rep.Strategy+"-"+d.Name+".hgrm")
		}
	}
	files, err := filepath.Glob(prefix + "-*.hgrm")
	if err != nil || len(files) != len(want) {
		t.Errorf(".hgrm files %v (%v), want one for each of %v", files, err, want)
	}
}

// checkHistogram checks that l's histogram has l's figures and that the
// .hgrm file holds its percentile distribution.
func checkHistogram(t *testing.T, what string, l stress.Latency, hgrm string) {
	t.Helper()
	h, err := l.Decode()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got := stress.Latency{
		Count: h.TotalCount(), P50Ns: h.ValueAtQuantile(50), P90Ns: h.ValueAtQuantile(90), P99Ns: h.ValueAtQuantile(99),
		P999Ns: h.ValueAtQuantile(99.9), MaxNs: h.Max(), MeanNs: h.Mean(), StddevNs: h.StdDev(), Histogram: l.Histogram,
	}
	if got != l || l.Count == 0 {
		t.Errorf("%s: the decoded histogram has\n%+v\nthe summary\n%+v", what, got, l)
	}
	var want bytes.Buffer
	if err := stress.WritePercentiles(&want, h, stress.HgrmUnit); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(hgrm)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !bytes.Equal(b, want.Bytes()) {
		t.Errorf("%s: %s is\n%s\nwant\n%s", what, hgrm, b, want.Bytes())
	}
}

// One report's files are PREFIX-NAME.hgrm; several reports' name the
// strategy, made safe for a file name.
func TestHgrmPath(t *testing.T) {
	for _, c := range []struct {
		strategy string
		several  bool
		want     string
	}{
		{"ofd", false, "out/x-acquire.hgrm"},
		{"ofd", true, "out/x-ofd-acquire.hgrm"},
		{"exec:adapters/pylock.py flufl", true, "out/x-exec_adapters_pylock.py_flufl-acquire.hgrm"},
	} {
		if got := hgrmPath("out/x", c.strategy, c.several, "acquire"); got != c.want {
			t.Errorf("hgrmPath(%q, several %v) = %q, want %q", c.strategy, c.several, got, c.want)
		}
	}
}

// A -hgrm prefix in a missing directory, without a name, or one of whose
// files is a directory stops lockstress before the run (a run would print
// its summary).
func TestHgrmBadPrefix(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "run-hold.hgrm"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ prefix, want string }{
		{filepath.Join(dir, "missing", "run"), "no such file"},
		{dir + "/", "the prefix ends in a directory"},
		{filepath.Join(dir, "run"), filepath.Join(dir, "run-hold.hgrm") + " is a directory"},
	} {
		code, stdout, stderr := lockstress(t, "-procs", "2", "-dur", "300ms", "-hgrm", c.prefix)
		if code != 2 /* a usage error */ || !strings.Contains(stderr, "-hgrm "+c.prefix) || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("exit code %d, stdout %q, stderr %q; want 2 and an error naming -hgrm and %q", code, stdout, stderr, c.want)
		}
	}
	// The handoff's file is a directory: refused with the detectors on,
	// which time the handoff, and not with them off, which write no such
	// file.
	handoff := filepath.Join(dir, "h")
	if err := os.Mkdir(handoff+"-handoff.hgrm", 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := lockstress(t, "-procs", "2", "-dur", "300ms", "-hgrm", handoff)
	if code != 2 || !strings.Contains(stderr, handoff+"-handoff.hgrm is a directory") {
		t.Errorf("%s-handoff.hgrm a directory: exit code %d, stderr:\n%s", handoff, code, stderr)
	}
	code, _, stderr = lockstress(t, "-procs", "2", "-dur", "300ms", "-hgrm", handoff, "-detectors=false")
	if code != exitInconclusive { // nothing checked: the verdict of a run without detectors
		t.Errorf("-detectors=false, %s-handoff.hgrm a directory: exit code %d, want %d; stderr:\n%s", handoff, code, exitInconclusive, stderr)
	}
	if _, err := os.Stat(handoff + "-acquire.hgrm"); err != nil {
		t.Errorf("-detectors=false: the acquire distribution is not written: %v", err)
	}
}

// A -hgrm directory this user may not write in is refused before the run,
// as an unwritable -json file is, not after a run that may have lasted
// hours. (As root, whom permissions do not stop, lockstress runs as
// nobody.)
func TestHgrmUnwritableRefusedBeforeTheRun(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &lim); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run, out := filepath.Join(dir, "run"), filepath.Join(dir, "out")
	for _, d := range []string{filepath.Dir(dir), dir, run, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil { // nobody looks through, and writes in none
			t.Fatal(err)
		}
	}
	if os.Getuid() == 0 {
		if err := os.Chown(run, 65534, 65534); err != nil {
			t.Skipf("no user nobody to give the run's directory (a user namespace without it mapped?): %v", err)
		}
	} else if err := os.Chmod(out, 0o555); err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(out, "x")
	cmd, stdout, stderr := lockstressProcessEnv(t, []string{nprocLimit + "=" + strconv.FormatUint(lim.Max, 10)},
		"-procs", "2", "-dur", "300ms", "-dir", run, "-hgrm", prefix)
	if code := processExit(t, cmd); code != exitUsage || stdout.Len() > 0 ||
		!strings.Contains(stderr.String(), "-hgrm "+prefix+": "+out+": permission denied") {
		t.Errorf("exit code %d, stdout %q, stderr %q; want %d before any run, naming -hgrm and %s", code, stdout, stderr, exitUsage, out)
	}
}

// A file that cannot be written is an error naming -hgrm and the file.
func TestWriteHgrmError(t *testing.T) {
	l := stress.Latency{Count: 1, Histogram: histogramOf(t, 1000)}
	prefix := filepath.Join(t.TempDir(), "gone", "x")
	paths, err := writeHgrm(prefix, &stress.Report{Strategy: "os", AcquireLatency: l}, false)
	if !errors.Is(err, errHgrm) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), prefix+"-acquire.hgrm") || len(paths) != 0 {
		t.Errorf("writeHgrm into a missing directory: %v, %v", paths, err)
	}
	bad := stress.Latency{Count: 1, Histogram: "garbage"}
	if _, err := writeHgrm(filepath.Join(t.TempDir(), "x"), &stress.Report{Strategy: "os", HoldTime: bad}, false); !errors.Is(err, errHgrm) || !strings.Contains(err.Error(), "hold of os") {
		t.Errorf("writeHgrm of a corrupt histogram: %v", err)
	}
}

// histogramOf returns the encoded histogram of the given nanoseconds.
func histogramOf(t *testing.T, values ...int64) string {
	t.Helper()
	h := detect.NewLatencyHistogram()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
