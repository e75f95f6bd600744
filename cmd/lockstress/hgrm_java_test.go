//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// hdrJar is HdrHistogram's reference implementation as Debian's
// libhdrhistogram-java installs it.
const hdrJar = "/usr/share/java/hdrhistogram.jar"

// hgrmJava decodes each base64 histogram file it is given (IN OUT pairs)
// and writes its outputPercentileDistribution in microseconds to OUT.
const hgrmJava = `import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.*;
import java.util.Base64;
import org.HdrHistogram.Histogram;

public class Hgrm {
    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length; i += 2) {
            String b64 = new String(Files.readAllBytes(Paths.get(args[i]))).trim();
            Histogram h = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(b64)), 0);
            try (PrintStream out = new PrintStream(args[i + 1])) {
                h.outputPercentileDistribution(out, 5, 1000.0);
            }
        }
    }
}
`

// HdrHistogram's own Java implementation decodes the JSON report's
// histograms and prints them exactly as the .hgrm files of -hgrm.
func TestHgrmMatchesJava(t *testing.T) {
	java, err := exec.LookPath("java")
	if _, jarErr := os.Stat(hdrJar); err != nil || jarErr != nil {
		t.Fatalf("java or %s missing: run scripts/setup-deps, which installs them: %v %v", hdrJar, err, jarErr)
	}
	out := t.TempDir()
	report, prefix := filepath.Join(out, "report.json"), filepath.Join(out, "run")
	code, stdout, stderr := lockstress(t, "-strategy", "soft", "-procs", "3", "-dur", "300ms", "-dir", t.TempDir(), "-json", report, "-hgrm", prefix)
	if code != 0 { // a pass
		t.Fatalf("exit code %d; stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	doc, _ := readDocument(t, report)
	src := filepath.Join(out, "Hgrm.java")
	args := []string{"-cp", hdrJar, src}
	for _, d := range doc.Runs[0].Distributions() {
		in := filepath.Join(out, d.Name+".b64")
		if err := os.WriteFile(in, []byte(d.Latency.Histogram), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, in, filepath.Join(out, d.Name+".java.hgrm"))
	}
	if err := os.WriteFile(src, []byte(hgrmJava), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(java, args...).CombinedOutput(); err != nil {
		t.Fatalf("java: %v\n%s", err, b)
	}
	for _, d := range doc.Runs[0].Distributions() {
		want, err := os.ReadFile(filepath.Join(out, d.Name+".java.hgrm"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(prefix + "-" + d.Name + ".hgrm")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s: -hgrm wrote\n%s\nHdrHistogram's Java implementation\n%s", d.Name, got, want)
		}
	}
}
