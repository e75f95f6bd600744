package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lockstress/lockstress/stress"
)

// errHgrm marks the errors of the -hgrm flag.
var errHgrm = errors.New("-hgrm")

func init() { flagArgs["hgrm"] = "PREFIX" }

const hgrmHelp = "also write each latency distribution (acquire, hold, handoff) as an HdrHistogram\n" +
	".hgrm percentile file, values in microseconds: PREFIX-acquire.hgrm and so on, or\n" +
	"PREFIX-STRATEGY-acquire.hgrm when several strategies run.\nExample: -hgrm results/ofd"

// checkHgrm fails early when the directory of the -hgrm prefix is
// unusable, or a file of a distribution that the runs can write (with the
// detectors on or off) is a directory or may not be written (nor made, if
// missing), so that no run is made whose files cannot be written.
func checkHgrm(stderr io.Writer, sub, prefix string, strategies []stress.Strategy, detectors bool) (int, bool) {
	if prefix == "" {
		return 0, true
	}
	if strings.HasSuffix(prefix, "/") {
		return usageError(stderr, sub, "-hgrm %s: the prefix ends in a directory, not a name (want e.g. %srun)", prefix, prefix), false
	}
	dir := filepath.Dir(prefix)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return usageError(stderr, sub, "-hgrm %s: directory %s: %v", prefix, dir, err), false
	}
	for _, s := range strategies {
		for _, name := range stress.DistributionNames(detectors) {
			path := hgrmPath(prefix, s.String(), len(strategies) > 1, name)
			fi, err := os.Stat(path)
			switch {
			case err == nil && fi.IsDir():
				return usageError(stderr, sub, "-hgrm %s: %s is a directory", prefix, path), false
			case err == nil:
				err = writable(path)
			default:
				path, err = dir, writable(dir)
			}
			if err != nil {
				return usageError(stderr, sub, "-hgrm %s: %s: %v", prefix, path, err), false
			}
		}
	}
	return 0, true
}

// hgrmPath returns the .hgrm file of one distribution of a run of a
// strategy; the strategy is named when several runs share the prefix.
func hgrmPath(prefix, strategy string, several bool, name string) string {
	if several {
		name = fileSafe(strategy) + "-" + name
	}
	return prefix + "-" + name + ".hgrm"
}

// fileSafe replaces what does not belong in a file name by '_'.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// writeHgrmOf writes the .hgrm files of a report when -hgrm asks for
// them; on failure it reports the error and returns the exit code.
func writeHgrmOf(stderr io.Writer, sub, prefix string, rep *stress.Report, several bool) (int, bool) {
	if prefix == "" {
		return 0, true
	}
	if _, err := writeHgrm(prefix, rep, several); err != nil {
		return usageError(stderr, sub, "%v", err), false
	}
	return 0, true
}

// writeHgrm writes the .hgrm file of every latency distribution of the
// report that has samples and returns the paths it wrote.
func writeHgrm(prefix string, rep *stress.Report, several bool) ([]string, error) {
	var paths []string
	for _, d := range rep.Distributions() {
		path := hgrmPath(prefix, rep.Strategy, several, d.Name)
		h, err := d.Latency.Decode()
		if err != nil {
			return paths, fmt.Errorf("%w %s: %s of %s: %w", errHgrm, path, d.Name, rep.Strategy, err)
		}
		var b bytes.Buffer
		if err := stress.WritePercentiles(&b, h, stress.HgrmUnit); err != nil {
			return paths, fmt.Errorf("%w %s: %w", errHgrm, path, err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return paths, fmt.Errorf("%w: %w", errHgrm, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
